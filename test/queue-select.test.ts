import { describe, expect, it } from 'vitest';
import { planQueueAction, queueActionOutcome, type QueueRunResult } from '../src/instances/queue/actions.js';
import { compileFilter, domainOf, parseDuration, parseFilters, selectsMessages } from '../src/instances/queue/filters.js';
import { hashLayout, hashPath, looksLikeQueueId } from '../src/instances/queue/layout.js';
import type { QueueMessage } from '../src/instances/queue/scan.js';
import { bucketLabels, bucketOf, SummaryCounter } from '../src/instances/queue/summary.js';
import type { Instance } from '../src/instances/instance.js';

const NOW = 1_800_000_000;
const msg = (over: Partial<QueueMessage>): QueueMessage => ({
  instance: 'postfix-a',
  queue_name: 'deferred',
  queue_id: 'ABCDEF123',
  arrival_time: NOW - 60,
  message_size: 1000,
  forced_expire: false,
  sender: 'alice@example.org',
  recipients: [{ address: 'bob@Example.COM', delay_reason: 'connect to mx.example.com[192.0.2.1]:25: Connection refused' }],
  ...over,
});

describe('filters', () => {
  it('durations in Postfix units, alone or combined', () => {
    expect(parseDuration('30s')).toBe(30);
    expect(parseDuration('2h')).toBe(7200);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('1w')).toBe(604_800);
    for (const bad of ['', '10', 'h', '1.5h', '-1h', '2 h', '3x']) expect(() => parseDuration(bad), bad).toThrow(`bad duration '${bad}'`);
  });

  it('refuses unknown queues, bad regular expressions, things that are not queue ids, empty patterns', () => {
    expect(() => parseFilters({ queue: ['deferred,bogus'] })).toThrow("unknown queue 'bogus'");
    expect(() => parseFilters({ reason: '(' })).toThrow("bad regular expression '('");
    expect(() => parseFilters({ id: ['ABCDEF1', 'abc'] })).toThrow("'abc' is not a queue id");
    expect(() => parseFilters({ id: ['ALL'] })).toThrow("'ALL' is not a queue id");
    expect(() => parseFilters({ to: [''] })).toThrow("bad address pattern for --to: ''");
    expect(parseFilters({ queue: ['hold', 'deferred,hold'], id: ['ABCDEF1,3Bz5Pq0Y4Yz1XhM'] })).toMatchObject({ queues: ['deferred', 'hold'], ids: ['ABCDEF1', '3Bz5Pq0Y4Yz1XhM'] });
  });

  it('addresses, @domain and globs, case-insensitive; any recipient; values of one filter are alternatives', () => {
    const m = msg({ recipients: [{ address: 'x@other.net' }, { address: 'bob@Example.COM' }] });
    const match = (input: Parameters<typeof parseFilters>[0]) => compileFilter(parseFilters(input), NOW)(m);
    expect(match({ to: ['BOB@example.com'] })).toBe(true);
    expect(match({ to: ['@example.com'] })).toBe(true);
    expect(match({ to: ['@example.com.'] })).toBe(true);
    expect(match({ to: ['@ample.com'] })).toBe(false);
    expect(match({ to: ['@*.com'] })).toBe(true);
    expect(match({ to: ['b?b@*'] })).toBe(true);
    expect(match({ to: ['[ab]ob@*'] })).toBe(true);
    expect(match({ to: ['[!b]ob@*'] })).toBe(false);
    // Without * or ? a pattern is literal: a domain literal is no class.
    expect(compileFilter(parseFilters({ to: ['@[192.0.2.1]'] }), NOW)(msg({ recipients: [{ address: 'x@[192.0.2.1]' }] }))).toBe(true);
    expect(compileFilter(parseFilters({ to: ['@[192.0.2.1]'] }), NOW)(msg({ recipients: [{ address: 'x@1' }] }))).toBe(false);
    expect(match({ to: ['nobody@x', '@other.net'] })).toBe(true);
    expect(match({ from: ['alice@*'], to: ['@nowhere'] })).toBe(false);
    expect(match({ from: ['a.ice@example.org'] })).toBe(false); // '.' is literal
  });

  it('ages, queues, ids and reasons', () => {
    const old = msg({ arrival_time: NOW - 3 * 86_400 });
    const f = (input: Parameters<typeof parseFilters>[0]) => compileFilter(parseFilters(input), NOW);
    expect([f({ older: '2d' })(old), f({ older: '2d' })(msg({}))]).toEqual([true, false]);
    expect([f({ younger: '1h' })(old), f({ younger: '1h' })(msg({}))]).toEqual([false, true]);
    expect(f({ queue: ['hold'] })(msg({}))).toBe(false);
    expect(f({ id: ['ABCDEF123'] })(msg({}))).toBe(true);
    expect(f({ reason: 'connection REFUSED' })(msg({}))).toBe(true);
    expect(f({ reason: 'timed out' })(msg({}))).toBe(false);
    expect(f({ reason: '.' })(msg({ recipients: [{ address: 'a@b' }] }))).toBe(false);
  });

  it('what counts as selecting messages (an unfiltered delete needs --all)', () => {
    expect(selectsMessages(parseFilters({ queue: ['deferred'] }))).toBe(false);
    expect(selectsMessages(parseFilters({}))).toBe(false);
    expect(selectsMessages(parseFilters({ older: '1d' }))).toBe(true);
  });

  it('domainOf: after the last @, lower case, no final dot', () => {
    expect(domainOf('"a@b"@Example.COM.')).toBe('example.com');
    expect(domainOf('MAILER-DAEMON')).toBe('');
  });
});

describe('queue layout', () => {
  it('hashed directories as mail_queue_dir() makes them, short and long ids', () => {
    const layout = hashLayout('deferred, defer', '1');
    expect(hashPath(layout, 'deferred', 'ABCDEF123')).toBe('A/');
    expect(hashPath(layout, 'hold', 'ABCDEF123')).toBe('');
    expect(hashPath(hashLayout('deferred defer hold', '2'), 'hold', 'A')).toBe('A/_/');
    // Long id: the four base-52 characters before the last 'z' are the microseconds, shown as %05X.
    // "000B" is 9 in base 52 -> 00009.
    expect(hashPath(layout, 'defer', '4Xk9Pq000Bz1bcd')).toBe('0/');
    expect(hashPath(hashLayout('defer', '3'), 'defer', '4Xk9PqzzzzzBCD')).toBe('6/F/9/');
  });

  it('queue ids on the command line: short (hex) and long forms only', () => {
    for (const good of ['ABCDEF', '3F2A91C44E', '4Xk9Pq000Bz1bcd']) expect(looksLikeQueueId(good), good).toBe(true);
    for (const bad of ['abcdef', 'ALL', '-', 'ABC', '../x', 'ABCDEF\n', 'deferred']) expect(looksLikeQueueId(bad), bad).toBe(false);
  });
});

describe('summary', () => {
  it("qshape's buckets: [0,t), [t,2t), [2t,4t) … the last open; labels are the upper bounds", () => {
    expect(bucketLabels(5, 10)).toEqual(['5', '10', '20', '40', '80', '160', '320', '640', '1280', '1280+']);
    expect([0, 299, 300, 599, 600, 1199, 1200, 86_400 * 30, -5].map((age) => bucketOf(age, 5, 10))).toEqual([0, 0, 1, 1, 2, 2, 3, 9, 0]);
  });

  it('a message counts once per distinct recipient domain, once in the total; tallies merge', () => {
    const options = { by: 'recipient-domain' as const, bucketMinutes: 5, buckets: 10, now: NOW };
    const one = new SummaryCounter(options);
    one.add(msg({ recipients: [{ address: 'a@x.org' }, { address: 'b@X.org' }, { address: 'c@y.org' }], message_size: 10 }));
    const two = new SummaryCounter(options);
    two.add(msg({ recipients: [{ address: 'd@x.org' }], arrival_time: NOW - 3600, message_size: 5 }));
    two.add(msg({ recipients: [{ address: '__proto__@constructor' }], message_size: 1 }));
    one.merge(two.entries());
    const s = one.summary();
    expect(s.total).toMatchObject({ messages: 3, bytes: 16 });
    expect(s.rows.map((r) => [r.key, r.messages, r.bytes, r.counts.slice(0, 5)])).toEqual([
      ['x.org', 2, 15, [1, 0, 0, 0, 1]],
      ['y.org', 1, 10, [1, 0, 0, 0, 0]],
      ['constructor', 1, 1, [1, 0, 0, 0, 0]],
    ]);
    expect(one.summary(1).rows.map((r) => r.key)).toEqual(['x.org']);
  });
});

describe('queue actions', () => {
  const instance: Instance = { configDirectory: '/etc/postfix-a', queueDirectory: '/var/spool/postfix-a', dataDirectory: '/var/lib/postfix-a', name: 'postfix-a', group: 'mta', enabled: true, primary: false };
  const messages = [
    msg({ queue_id: 'A00001', queue_name: 'deferred' }),
    msg({ queue_id: 'A00002', queue_name: 'hold' }),
    msg({ queue_id: 'A00003', queue_name: 'maildrop' }),
    msg({ queue_id: 'A00004', queue_name: 'active' }),
    msg({ queue_id: 'A00005', queue_name: 'corrupt' }),
  ];
  const plan = (action: Parameters<typeof planQueueAction>[0]['action'], extra: object = {}) =>
    planQueueAction({ action, instances: [{ instance, messages }], commandDirectory: '/usr/sbin', ...extra }).instances[0]!;

  it("each action takes the queues postsuper takes it from; the others are named as skipped", () => {
    expect(plan('hold')).toMatchObject({ ids: ['A00001', 'A00004'], commands: [{ file: '/usr/sbin/postsuper', args: ['-c', '/etc/postfix-a', '-h', '-'], input: 'A00001\nA00004\n' }] });
    expect(plan('hold').skipped.map((s) => [s.queue_id, s.reason])).toEqual([
      ['A00002', 'already on hold'],
      ['A00003', 'in maildrop, not yet picked up'],
      ['A00005', 'in the corrupt queue: postsuper does not take it'],
    ]);
    expect(plan('release').ids).toEqual(['A00002']);
    expect(plan('delete').ids).toEqual(['A00001', 'A00002', 'A00003', 'A00004']);
    expect(plan('requeue').ids).toEqual(['A00001', 'A00002', 'A00004']);
    expect(plan('flush').commands.map((c) => c.args)).toEqual([['-c', '/etc/postfix-a', '-i', 'A00001']]);
    expect(plan('flush', { wholeQueue: true }).commands.map((c) => c.args)).toEqual([['-c', '/etc/postfix-a', '-f']]);
    expect(plan('flush', { site: 'example.com' }).commands.map((c) => c.args)).toEqual([['-c', '/etc/postfix-a', '-s', 'example.com']]);
    expect(planQueueAction({ action: 'hold', instances: [{ instance, messages: [] }], commandDirectory: '/usr/sbin' }).instances[0]!.commands).toEqual([]);
  });

  it("postsuper's own lines tell what was done from what had left the queue", () => {
    const p = plan('hold');
    const result = (stderr: string, exitCode = 0, succeeded = 1): QueueRunResult => ({ instance: 'postfix-a', configDirectory: '/etc/postfix-a', command: [], exitCode, durationMs: 1, output: stderr, stderr, succeeded });
    const out = queueActionOutcome('hold', p, result('postsuper: A00004: placed on hold\npostsuper: Placed on hold: 1 message\n'));
    expect(out).toMatchObject({ done: ['A00004'], gone: ['A00001'], exitCode: 0 });
    expect(queueActionOutcome('hold', p, undefined)).toMatchObject({ done: [], gone: [], exitCode: null });
    const flush = plan('flush');
    expect(queueActionOutcome('flush', flush, result('postqueue: fatal: Cannot flush mail queue - mail system is down\n', 69, 0))).toMatchObject({ done: [], exitCode: 69 });
    expect(queueActionOutcome('flush', flush, result('', 0, 1))).toMatchObject({ done: ['A00001'] });
  });
});
