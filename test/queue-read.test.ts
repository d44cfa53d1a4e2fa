import { chmodSync, closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDeferLog } from '../src/instances/queue/defer-log.js';
import { DEFAULT_HASH_LAYOUT } from '../src/instances/queue/layout.js';
import { envelopeOf, readQueueFile, type DeferredRecipient, type ReadOptions } from '../src/instances/queue/queue-file.js';
import { scanInstance, shardOf, type QueueSource } from '../src/instances/queue/scan.js';
import { decodeBytes, printable, quote822Local } from '../src/instances/queue/text.js';
import { headFacts } from '../src/instances/queue/count.js';
import { largestDomains, renderMetrics } from '../src/instances/observe/metrics.js';
import { queueFile, rec } from './helpers/queue-files.js';

const OPTIONS: ReadOptions = { smtputf8: true, emptyAddress: 'MAILER-DAEMON', duplicateFilterLimit: 1000 };
const dir = mkdtempSync(join(tmpdir(), 'postfleet-queue-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** What showq reports of `bytes` written to a file with the given mode and mtime, with `log` as its defer log. */
function read(bytes: Buffer, options: Partial<ReadOptions> = {}, log: DeferredRecipient[] | null = null, mode = 0o700, mtime = 1_600_000_000) {
  const path = join(dir, `f${n++}`);
  writeFileSync(path, bytes, { mode });
  chmodSync(path, mode);
  utimesSync(path, mtime, mtime);
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    const o = { ...OPTIONS, ...options };
    const { file, problem } = readQueueFile({ fd, size: st.size, mtime: Math.floor(st.mtimeMs / 1000), mode: st.mode }, o, Buffer.alloc(64));
    const envelope = file === null ? null : envelopeOf(file, st.mode, log, o.duplicateFilterLimit);
    return problem === undefined ? { envelope } : { envelope, problem };
  } finally {
    closeSync(fd);
  }
}

describe('Postfix text conventions', () => {
  it('printable(): control characters and, without SMTPUTF8, 8-bit bytes become ?', () => {
    expect(printable('a\tb\x1b[31mc\x7f', true)).toBe('a?b?[31mc?');
    const utf8 = Buffer.from('dörte', 'utf8').toString('latin1');
    expect(decodeBytes(printable(utf8, true))).toBe('dörte');
    expect(printable(utf8, false)).toBe('d??rte');
    // A lone continuation byte, and a lead byte without one.
    expect(printable('a\x80b\xc3', true)).toBe('a?b?');
  });

  it('quote_822_local(): only a local part that is no dot-string is quoted', () => {
    expect(quote822Local('user.name@example.com')).toBe('user.name@example.com');
    expect(quote822Local('odd local@example.com')).toBe('"odd local"@example.com');
    expect(quote822Local('a"b\\c@x')).toBe('"a\\"b\\\\c"@x');
    expect(quote822Local('a@b@example.com')).toBe('"a@b"@example.com');
    expect(quote822Local('.dot@x')).toBe('".dot"@x');
    expect(quote822Local('@route,@r2:who is@x')).toBe('@route,@r2:"who is"@x');
    expect(quote822Local('MAILER-DAEMON')).toBe('MAILER-DAEMON');
  });
});

describe('defer logs (bounce_log_read)', () => {
  it('reads new-style entries, old-style lines, and entries that mix both', () => {
    const log = [
      '<a@x>: old reason',
      'recipient=a@x',
      'reason=new reason',
      '',
      '<"b c"@y>:   spaced',
      '',
      '',
      'recipient=',
      'status=4.0.0',
      '',
      '',
    ].join('\n');
    expect(parseDeferLog(log, true)).toEqual([
      { address: 'a@x', reason: 'new reason' },
      { address: '"b c"@y', reason: 'spaced' },
      { address: '(MAILER-DAEMON)', reason: '(description unavailable)' },
    ]);
  });

  it('drops an entry without its closing blank line; fills what an entry lacks; makes lines printable first', () => {
    expect(parseDeferLog('reason = no address \n\nrecipient=z@z\nreason=x', true)).toEqual([{ address: '(recipient address unavailable)', reason: 'no address' }]);
    expect(parseDeferLog('recipient=a\x1b@x\nreason=r\there\n\n', true)).toEqual([{ address: 'a?@x', reason: 'r?here' }]);
    // Only the names recipient and reason count, exactly; a tab is no white space once printable.
    expect(parseDeferLog('recipients=x@y\nreasonable=z\nrecipient\t=q@r\nreason =  ok \n\n', true)).toEqual([{ address: '(recipient address unavailable)', reason: 'ok' }]);
    // Malformed lines still open an entry (Postfix warns and goes on).
    expect(parseDeferLog('!!!\n\n= x\n\n', true)).toEqual([
      { address: '(recipient address unavailable)', reason: '(description unavailable)' },
      { address: '(recipient address unavailable)', reason: '(description unavailable)' },
    ]);
  });
});

describe('queue files (showq_report of Postfix 3.7)', () => {
  it('time, size, sender and recipients; delivered recipients are not shown', () => {
    const r = read(queueFile({ time: 1_700_000_123, sender: 'a@x', recipients: ['b@y', 'odd one@z'], done: ['done@y'] }));
    expect(r).toEqual({
      envelope: { arrival_time: 1_700_000_123, message_size: 23, forced_expire: false, sender: 'a@x', recipients: [{ address: 'b@y' }, { address: '"odd one"@z' }] },
    });
  });

  it('the empty sender is empty_address_recipient; without time and size records the mtime and file size count', () => {
    const bytes = Buffer.concat([rec('S', ''), rec('R', 'r@x'), rec('M'), rec('N', 'x'), rec('X'), rec('E')]);
    expect(read(bytes, { emptyAddress: 'postmaster' }, null, 0o700, 1_650_000_000).envelope).toMatchObject({ arrival_time: 1_650_000_000, message_size: bytes.length, sender: 'postmaster' });
  });

  it('forced_expire is the group execute bit (postsuper -e)', () => {
    expect(read(queueFile({ sender: 'a@x', recipients: ['b@y'] }), {}, null, 0o710).envelope?.forced_expire).toBe(true);
  });

  it('follows pointer records and skips padding (a recipient appended at the end, as cleanup adds one)', () => {
    const head = Buffer.concat([rec('T', '1700000000'), rec('S', 'a@x'), rec('w', 'padding'), rec('R', 'b@y')]);
    const ptr = (to: number) => rec('p', String(to).padStart(15, '0'));
    const rest = Buffer.concat([rec('M'), rec('N', 'body'), rec('X'), rec('E')]);
    const appended = head.length + ptr(0).length + rest.length;
    const file = Buffer.concat([head, ptr(appended), rest, rec('R', 'c@z'), ptr(head.length + ptr(0).length)]);
    expect(read(file).envelope?.recipients.map((x) => x.address)).toEqual(['b@y', 'c@z']);
    // A pointer that points at itself loops until rec_goto() gives up.
    const loop = Buffer.concat([rec('S', 'a@x'), ptr(rec('S', 'a@x').length)]);
    expect(read(loop).problem).toBe('too many reverse jump records');
  });

  it('a second sender record ends the reading, reported; so does a truncated record', () => {
    const dup = read(Buffer.concat([rec('S', 'a@x'), rec('R', 'b@y'), rec('S', 'c@z'), rec('R', 'd@w'), rec('E')]));
    expect(dup.envelope?.recipients).toEqual([{ address: 'b@y' }]);
    expect(dup.problem).toMatch(/duplicate sender address: c@z/);
    const whole = queueFile({ sender: 'a@x', recipients: ['b@y', 'c@z'] });
    const cut = read(whole.subarray(0, whole.indexOf('c@z', 0, 'latin1') + 1));
    expect(cut.envelope?.recipients).toEqual([{ address: 'b@y' }]);
    expect(cut.problem).toMatch(/unexpected end of file in record type 82/);
  });

  it('no sender: nothing to show, and why', () => {
    expect(read(Buffer.concat([rec('R', 'b@y'), rec('E')]))).toEqual({ envelope: null, problem: 'recipient before the sender address' });
    expect(read(Buffer.from('garbage'))).toMatchObject({ envelope: null });
    expect(read(Buffer.alloc(0))).toEqual({ envelope: null, problem: 'no sender record' });
  });

  it('the defer log comes first, and its recipients are not repeated from the file', () => {
    const r = read(queueFile({ sender: 'a@x', recipients: ['b@y', 'odd one@z', 'c@z'] }), {}, [
      { address: '"odd one"@z', reason: 'refused' },
      { address: 'gone@z', reason: 'later' },
    ]);
    expect(r.envelope?.recipients).toEqual([{ address: '"odd one"@z', delay_reason: 'refused' }, { address: 'gone@z', delay_reason: 'later' }, { address: 'b@y' }, { address: 'c@z' }]);
  });

  it('a content size that is not all digits is no size: the file size counts', () => {
    const bytes = Buffer.concat([rec('C', '12x'), rec('S', 'a@x'), rec('E')]);
    expect(read(bytes).envelope?.message_size).toBe(bytes.length);
  });
});

describe('scanInstance', () => {
  const q = join(dir, 'spool');
  const write = (path: string, bytes: Buffer, mode = 0o700) => {
    mkdirSync(join(q, path, '..'), { recursive: true });
    writeFileSync(join(q, path), bytes, { mode });
    chmodSync(join(q, path), mode);
  };
  write('deferred/A/A1B2C3D4E5', queueFile({ sender: 'a@x', recipients: ['b@y'] }));
  write('defer/A/A1B2C3D4E5', Buffer.from('recipient=b@y\nreason=refused\n\n'));
  write('hold/B0000000001', queueFile({ sender: 'h@x', recipients: ['c@y'] }));
  write('incoming/C0000000002', queueFile({ sender: 'w@x', recipients: ['c@y'] }), 0o600); // being written
  write('active/D0000000003', Buffer.concat([rec('T', '1'), rec('R', 'x@y')])); // no sender
  write('corrupt/E0000000004', Buffer.from('not a queue file'), 0o400);
  write('maildrop/F0000000005', queueFile({ sender: 'm@x', recipients: ['d@y'], sizeRecord: false }));
  write('hold/stray.tmp', Buffer.from(''));
  mkdirSync(join(dir, 'outside/X'), { recursive: true });
  writeFileSync(join(dir, 'outside/X/X000000000'), queueFile({ sender: 'evil@x', recipients: ['e@y'] }), { mode: 0o700 });
  symlinkSync(join(dir, 'outside/X'), join(q, 'deferred/X'));
  symlinkSync(join(dir, 'outside/X/X000000000'), join(q, 'hold/L000000000'));
  const source: QueueSource = { instance: 'i', queueDirectory: q, read: OPTIONS, layout: DEFAULT_HASH_LAYOUT };
  const all = ['maildrop', 'active', 'incoming', 'deferred', 'hold', 'corrupt'] as const;

  it('lists every queue, with defer log reasons, never follows a symlink, reports what it cannot read', () => {
    const scan = scanInstance(source, { queues: all, reasons: true });
    const byId = Object.fromEntries(scan.messages.map((m) => [m.queue_id, m]));
    expect(Object.keys(byId).sort()).toEqual(['A1B2C3D4E5', 'B0000000001', 'E0000000004', 'F0000000005']);
    expect(byId['A1B2C3D4E5']).toMatchObject({ instance: 'i', queue_name: 'deferred', recipients: [{ address: 'b@y', delay_reason: 'refused' }] });
    expect(byId['E0000000004']).toMatchObject({ queue_name: 'corrupt', sender: '', recipients: [], message_size: 16 });
    expect(byId['F0000000005']).toMatchObject({ queue_name: 'maildrop', sender: 'm@x' });
    expect(scan.problems.map((p) => [p.path.slice(q.length + 1), p.problem]).sort()).toEqual([
      ['active/D0000000003', 'recipient before the sender address'],
      ['deferred/X', 'symbolic link, not followed'],
      ['hold/L000000000', 'symbolic link, not followed'],
      ['hold/stray.tmp', 'not a queue file name, ignored'],
    ]);
    expect(scan.messages.some((m) => m.sender === 'evil@x')).toBe(false);
  });

  it('without reasons the defer log is not read', () => {
    const scan = scanInstance(source, { queues: ['deferred'], reasons: false });
    expect(scan.messages).toEqual([expect.objectContaining({ queue_id: 'A1B2C3D4E5', recipients: [{ address: 'b@y' }] })]);
  });

  it('a message that moves to another queue after the listing is read once, where it went', () => {
    const scan = scanInstance(source, {
      queues: ['deferred', 'hold'],
      reasons: false,
      afterListing: () => {
        mkdirSync(join(q, 'deferred/B'), { recursive: true });
        renameSync(join(q, 'hold/B0000000001'), join(q, 'deferred/B/B0000000001'));
      },
    });
    renameSync(join(q, 'deferred/B/B0000000001'), join(q, 'hold/B0000000001'));
    expect(scan.messages.filter((m) => m.queue_id === 'B0000000001')).toEqual([expect.objectContaining({ queue_name: 'deferred' })]);
  });

  it('while a master runs, the queues are listed again: a message that moved into a queue already listed is read too', () => {
    const appear = () => write('hold/B0000000099', queueFile({ sender: 'late@x', recipients: ['c@y'] }));
    try {
      const once = scanInstance(source, { queues: ['deferred', 'hold'], reasons: false, relist: false, afterListing: appear });
      expect(once.messages.map((m) => m.queue_id)).not.toContain('B0000000099');
      rmSync(join(q, 'hold/B0000000099'));
      const twice = scanInstance(source, { queues: ['deferred', 'hold'], reasons: false, relist: true, afterListing: appear });
      expect(twice.messages.filter((m) => m.queue_id === 'B0000000099')).toHaveLength(1);
      expect(new Set(twice.messages.map((m) => m.queue_id)).size).toBe(twice.messages.length);
      // No master runs here: by default the queues are listed once.
      expect(scanInstance(source, { queues: ['hold'], reasons: false }).messages.map((m) => m.queue_id)).toContain('B0000000099');
    } finally {
      rmSync(join(q, 'hold/B0000000099'), { force: true });
    }
  });

  it('a message listed twice (it moved while the queues were listed) is read once', () => {
    // The same id in two queues at once, as a rename caught between two directory reads shows it.
    write('active/B0000000001', queueFile({ sender: 'h@x', recipients: ['c@y'] }));
    try {
      const scan = scanInstance(source, { queues: ['active', 'hold'], reasons: false });
      expect(scan.messages.filter((m) => m.queue_id === 'B0000000001')).toHaveLength(1);
    } finally {
      rmSync(join(q, 'active/B0000000001'));
    }
  });

  it('shards split the ids between threads: together they read each message once', () => {
    const one = scanInstance(source, { queues: all, reasons: true });
    const parts = [0, 1, 2].map((index) => scanInstance(source, { queues: all, reasons: true, shard: { index, count: 3 } }));
    expect(parts.flatMap((p) => p.messages).map((m) => m.queue_id).sort()).toEqual(one.messages.map((m) => m.queue_id).sort());
    expect(parts.flatMap((p) => p.problems).length).toBe(one.problems.length);
    for (const [k, p] of parts.entries()) for (const m of p.messages) expect(shardOf(m.queue_id, 3)).toBe(k);
  });

  it('with shards, each lists its own hashed subdirectories; a file in the wrong one is read all the same, once', () => {
    // B's shard is not A's: the thread that lists deferred/A reads it.
    write('deferred/A/B000000009', queueFile({ sender: 'lost@x', recipients: ['c@y'] }));
    try {
      expect(shardOf('B000000009', 2)).not.toBe(shardOf('A1B2C3D4E5', 2));
      const parts = [0, 1].map((index) => scanInstance(source, { queues: all, reasons: true, shard: { index, count: 2 } }));
      expect(parts.map((p) => p.messages.filter((m) => m.queue_id === 'B000000009').length)).toEqual([1, 0]);
      expect(parts.flatMap((p) => p.problems).length).toBe(scanInstance(source, { queues: all, reasons: true }).problems.length);
    } finally {
      rmSync(join(q, 'deferred/A/B000000009'));
    }
  });

  it('reading changes nothing, not even an atime (a deferred file: its mtime is the next attempt)', () => {
    const file = join(q, 'deferred/A/A1B2C3D4E5');
    utimesSync(file, 1_600_000_000, Date.now() / 1000 + 3600);
    scanInstance(source, { queues: ['deferred'], reasons: true });
    expect(statSync(file).atimeMs).toBe(1_600_000_000_000);
  });

  it('a queue directory that cannot be read is an error of the instance', () => {
    expect(scanInstance({ ...source, queueDirectory: join(dir, 'nosuch') }, { queues: all, reasons: false })).toMatchObject({ messages: [], error: expect.stringMatching(/ENOENT/) });
  });
});

describe('metrics: recipient domains from the head of the file', () => {
  it('the pending recipients of the envelope, each domain once per message; delivered ones and the content do not count', () => {
    const file = queueFile({ time: 1_700_000_000, sender: 'a@x', recipients: ['b@Y.example', 'c@y.example.', 'odd one@z.example'], done: ['d@done.example'], body: 'To: e@content.example' });
    expect(headFacts(file, true)).toEqual({ arrivalMs: 1_700_000_000_123, domains: ['y.example', 'z.example'] });
    expect(headFacts(file, false)).toEqual({ arrivalMs: 1_700_000_000_123, domains: [] });
  });

  it('only the largest domains become series, and how many there are', async () => {
    const counts = new Map([['a.example', 3], ['b.example', 7], ['c.example', 3], ['d.example', 1]]);
    const domains = largestDomains(counts, 2);
    expect(domains).toEqual({ rows: [{ domain: 'b.example', messages: 7 }, { domain: 'a.example', messages: 3 }], total: 4 });
    const text = await renderMetrics({ selected: [], problems: [], running: new Map(), queues: new Map(), now: 0, domains });
    expect(text).toContain('postfleet_queue_recipient_domain_messages{domain="b.example"} 7\n');
    expect(text).toContain('postfleet_queue_recipient_domain_messages{domain="a.example"} 3\n');
    expect(text).not.toContain('c.example');
    expect(text).toContain('postfleet_queue_recipient_domains 4\n');
  });
});
