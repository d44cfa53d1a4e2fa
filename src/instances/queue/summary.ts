/**
 * The shape of the queues, as qshape(1) draws it: messages (and bytes) per recipient domain,
 * sender domain, instance or queue, across age buckets whose bounds double (5, 10, 20 …
 * minutes; the last is open). A message counts once in every row it belongs to: once per
 * distinct recipient domain (qshape counts each recipient), once in the total. Tallies are
 * plain data so that threads can each count their part and merge them.
 */
import { domainOf } from './filters.js';
import type { QueueMessage } from './scan.js';

export const SUMMARY_KEYS = ['recipient-domain', 'sender-domain', 'instance', 'queue'] as const;
export type SummaryKey = (typeof SUMMARY_KEYS)[number];

export interface SummaryOptions {
  readonly by: SummaryKey;
  /** Upper bound of the first bucket, minutes (qshape -t; 5). */
  readonly bucketMinutes: number;
  /** Number of buckets (qshape -b; 10). */
  readonly buckets: number;
  /** Now, seconds since the epoch. */
  readonly now: number;
}

/** Messages and bytes of one row, in total and per bucket. */
export interface Tally {
  messages: number;
  bytes: number;
  readonly counts: number[];
  readonly byteCounts: number[];
}

/** Tallies by row key, the total under TOTAL_KEY (an array of entries: keys come from the outside world, and cross threads). */
export type Tallies = Array<[string, Tally]>;

const TOTAL_KEY = '\0total';

export interface SummaryRow {
  readonly key: string;
  readonly messages: number;
  readonly bytes: number;
  /** Messages per bucket, youngest first. */
  readonly counts: readonly number[];
  /** Bytes per bucket. */
  readonly byteCounts: readonly number[];
}

export interface Summary {
  readonly by: SummaryKey;
  /** Each bucket's upper bound in minutes; null for the last (open) one. */
  readonly bucketMinutes: ReadonlyArray<number | null>;
  /** qshape's column heads: the upper bounds, the last with '+' (5 10 … 1280 1280+). */
  readonly bucketLabels: readonly string[];
  readonly total: SummaryRow;
  readonly rows: readonly SummaryRow[];
}

/** The bucket of an age (qshape's bucket(), 0-based): [0,t), [t,2t), [2t,4t) … the last open. */
export function bucketOf(ageSeconds: number, bucketMinutes: number, buckets: number): number {
  const m = ageSeconds / (60 * bucketMinutes);
  if (!(m >= 1)) return 0;
  return Math.min(1 + Math.floor(Math.log2(m)), buckets - 1);
}

function bucketBounds(bucketMinutes: number, buckets: number): Array<number | null> {
  return Array.from({ length: buckets }, (_, k) => (k === buckets - 1 ? null : bucketMinutes * 2 ** k));
}

export function bucketLabels(bucketMinutes: number, buckets: number): string[] {
  return bucketBounds(bucketMinutes, buckets).map((b, k) => (b !== null ? String(b) : `${k === 0 ? 0 : bucketMinutes * 2 ** (k - 1)}+`));
}

/** The rows a message belongs to. */
function rowKeys(m: QueueMessage, by: SummaryKey): string[] {
  switch (by) {
    case 'instance':
      return [m.instance];
    case 'queue':
      return [m.queue_name];
    case 'sender-domain':
      return [domainOf(m.sender) || m.sender];
    case 'recipient-domain':
      return [...new Set(m.recipients.map((r) => domainOf(r.address) || r.address))];
  }
}

export class SummaryCounter {
  private readonly tallies = new Map<string, Tally>();

  constructor(private readonly options: SummaryOptions) {}

  add(m: QueueMessage): void {
    const bucket = bucketOf(this.options.now - m.arrival_time, this.options.bucketMinutes, this.options.buckets);
    this.count(TOTAL_KEY, bucket, m.message_size);
    for (const key of rowKeys(m, this.options.by)) this.count(key, bucket, m.message_size);
  }

  entries(): Tallies {
    return [...this.tallies];
  }

  merge(other: Tallies): void {
    for (const [key, t] of other) {
      const mine = this.tally(key);
      mine.messages += t.messages;
      mine.bytes += t.bytes;
      t.counts.forEach((n, k) => (mine.counts[k]! += n));
      t.byteCounts.forEach((n, k) => (mine.byteCounts[k]! += n));
    }
  }

  /** Rows by messages (most first), then bytes, then key; at most `top` (all when undefined). */
  summary(top?: number): Summary {
    const row = (key: string, t: Tally): SummaryRow => ({ key, messages: t.messages, bytes: t.bytes, counts: t.counts, byteCounts: t.byteCounts });
    const rows = [...this.tallies]
      .filter(([key]) => key !== TOTAL_KEY)
      .map(([key, t]) => row(key, t))
      .sort((a, b) => b.messages - a.messages || b.bytes - a.bytes || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const { by, bucketMinutes, buckets } = this.options;
    return {
      by,
      bucketMinutes: bucketBounds(bucketMinutes, buckets),
      bucketLabels: bucketLabels(bucketMinutes, buckets),
      total: row('TOTAL', this.tallies.get(TOTAL_KEY) ?? this.empty()),
      rows: top === undefined ? rows : rows.slice(0, top),
    };
  }

  private count(key: string, bucket: number, bytes: number): void {
    const t = this.tally(key);
    t.messages++;
    t.bytes += bytes;
    t.counts[bucket]!++;
    t.byteCounts[bucket]! += bytes;
  }

  private tally(key: string): Tally {
    let t = this.tallies.get(key);
    if (t === undefined) this.tallies.set(key, (t = this.empty()));
    return t;
  }

  private empty(): Tally {
    const n = this.options.buckets;
    return { messages: 0, bytes: 0, counts: new Array<number>(n).fill(0), byteCounts: new Array<number>(n).fill(0) };
  }
}
