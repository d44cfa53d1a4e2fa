/**
 * What `queue list` and the queue actions select: filters given on the command line,
 * checked once (a bad value is a one-line error naming it, before anything is read or
 * changed), kept as plain data (they cross to the reading threads) and compiled there into
 * a predicate. Different filters must all match; repeated values of one filter are
 * alternatives.
 */
import { PostfleetError } from '../errors.js';
import { isMessageQueue, looksLikeQueueId, MESSAGE_QUEUES, type MessageQueue } from './layout.js';
import type { QueueMessage } from './scan.js';

export interface FilterSpec {
  /** Sender patterns: an address, @domain, or a glob (with * or ?; [...] classes); case-insensitive. */
  readonly from: readonly string[];
  /** Recipient patterns, the same way: a message matches when one of its recipients does. */
  readonly to: readonly string[];
  /** Empty: every queue. */
  readonly queues: readonly MessageQueue[];
  /** Arrived more than this many seconds ago. */
  readonly olderThan?: number | undefined;
  /** Arrived less than this many seconds ago. */
  readonly youngerThan?: number | undefined;
  /** A regular expression (source) over the delay reasons, case-insensitive. */
  readonly reason?: string | undefined;
  readonly ids: readonly string[];
}

export interface FilterInput {
  readonly from?: readonly string[] | undefined;
  readonly to?: readonly string[] | undefined;
  readonly queue?: readonly string[] | undefined;
  readonly older?: string | undefined;
  readonly younger?: string | undefined;
  readonly reason?: string | undefined;
  readonly id?: readonly string[] | undefined;
}

const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** A duration as Postfix writes time values (30s, 30m, 2h, 3d, 1w, also 1h30m), in seconds. */
export function parseDuration(text: string): number {
  const parts = /^(?:\d+[smhdw])+$/.test(text) ? [...text.matchAll(/(\d+)([smhdw])/g)] : [];
  if (parts.length === 0) throw new PostfleetError(`bad duration '${text}' (a number and a unit s, m, h, d or w, e.g. 30m, 2h, 3d)`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNITS[unit!]!, 0);
}

/** --queue values: repeatable, comma-separated too. */
function parseQueues(values: readonly string[]): MessageQueue[] {
  const wanted = new Set<MessageQueue>();
  for (const value of values) {
    for (const name of value.split(',')) {
      if (!isMessageQueue(name)) throw new PostfleetError(`unknown queue '${name}' (one of ${MESSAGE_QUEUES.join(', ')})`);
      wanted.add(name);
    }
  }
  return MESSAGE_QUEUES.filter((q) => wanted.has(q));
}

function checkPattern(flag: string, pattern: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are refused
  if (pattern === '' || pattern === '@' || /[\x00-\x1f\x7f]/.test(pattern)) throw new PostfleetError(`bad address pattern for --${flag}: '${pattern}'`);
  return pattern;
}

export function parseFilters(input: FilterInput): FilterSpec {
  const ids = (input.id ?? []).flatMap((v) => v.split(','));
  for (const id of ids) if (!looksLikeQueueId(id)) throw new PostfleetError(`'${id}' is not a queue id`);
  let reason: string | undefined;
  if (input.reason !== undefined) {
    try {
      new RegExp(input.reason, 'iu');
    } catch (e) {
      throw new PostfleetError(`bad regular expression '${input.reason}': ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
    }
    reason = input.reason;
  }
  return {
    from: (input.from ?? []).map((p) => checkPattern('from', p)),
    to: (input.to ?? []).map((p) => checkPattern('to', p)),
    queues: parseQueues(input.queue ?? []),
    olderThan: input.older === undefined ? undefined : parseDuration(input.older),
    youngerThan: input.younger === undefined ? undefined : parseDuration(input.younger),
    reason,
    ids: [...new Set(ids)],
  };
}

/** Whether the filters select messages by what they are (not only by queue): an unfiltered delete needs --all. */
export function selectsMessages(spec: FilterSpec): boolean {
  return spec.from.length > 0 || spec.to.length > 0 || spec.olderThan !== undefined || spec.youngerThan !== undefined || spec.reason !== undefined || spec.ids.length > 0;
}

/** A glob (* ? [...]) as an anchored, case-insensitive regular expression; other characters literal. */
function globRegExp(glob: string): RegExp {
  let re = '';
  for (let k = 0; k < glob.length; k++) {
    const ch = glob[k]!;
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '[') {
      const close = glob.indexOf(']', k + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let set = glob.slice(k + 1, close);
      const negated = set.startsWith('!') || set.startsWith('^');
      if (negated) set = set.slice(1);
      re += `[${negated ? '^' : ''}${set.replace(/[\\\]^]/g, '\\$&')}]`;
      k = close;
    } else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'is');
}

/** The domain of an address as shown: after its last '@', lower-cased, without a final dot; '' without '@'. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return '';
  const domain = address.slice(at + 1).toLowerCase();
  return domain.endsWith('.') ? domain.slice(0, -1) : domain;
}

/**
 * One address pattern as a predicate over addresses. A pattern with * or ? is a glob (where
 * [...] is a class); without, it is literal, so that a domain literal (@[192.0.2.1]) is one.
 */
function addressMatcher(pattern: string): (address: string) => boolean {
  const glob = /[*?]/.test(pattern);
  if (pattern.startsWith('@')) {
    const domain = pattern.slice(1).toLowerCase().replace(/\.$/, '');
    if (!glob) return (a) => domainOf(a) === domain;
    const re = globRegExp(domain);
    return (a) => a.includes('@') && re.test(domainOf(a));
  }
  if (glob) {
    const re = globRegExp(pattern);
    return (a) => re.test(a);
  }
  const wanted = pattern.toLowerCase();
  return (a) => a.toLowerCase() === wanted;
}

const anyOf = <T>(tests: ReadonlyArray<(v: T) => boolean>): ((v: T) => boolean) => (v) => tests.some((t) => t(v));

/** The filters as a predicate; `now` in seconds since the epoch. */
export function compileFilter(spec: FilterSpec, now: number): (m: QueueMessage) => boolean {
  const tests: Array<(m: QueueMessage) => boolean> = [];
  if (spec.queues.length > 0) {
    const queues = new Set<string>(spec.queues);
    tests.push((m) => queues.has(m.queue_name));
  }
  if (spec.ids.length > 0) {
    const ids = new Set(spec.ids);
    tests.push((m) => ids.has(m.queue_id));
  }
  if (spec.from.length > 0) {
    const from = anyOf(spec.from.map(addressMatcher));
    tests.push((m) => from(m.sender));
  }
  if (spec.to.length > 0) {
    const to = anyOf(spec.to.map(addressMatcher));
    tests.push((m) => m.recipients.some((r) => to(r.address)));
  }
  if (spec.olderThan !== undefined) {
    const before = now - spec.olderThan;
    tests.push((m) => m.arrival_time < before);
  }
  if (spec.youngerThan !== undefined) {
    const after = now - spec.youngerThan;
    tests.push((m) => m.arrival_time > after);
  }
  if (spec.reason !== undefined) {
    const re = new RegExp(spec.reason, 'iu');
    tests.push((m) => m.recipients.some((r) => r.delay_reason !== undefined && re.test(r.delay_reason)));
  }
  return (m) => tests.every((t) => t(m));
}
