/**
 * Messages serialized where they are read (list --json, --json-lines): each as its JSON text,
 * UTF-8, packed into buffers of a megabyte, with what it is sorted by (queue in showq's
 * order, arrival time, id). A large queue is then a few dozen buffers — handed from a reading
 * thread to the main thread without a copy, and never a hundred thousand strings for the
 * garbage collector to move — written out in order straight from them.
 */
import { MESSAGE_QUEUES } from './layout.js';
import type { QueueMessage } from './scan.js';

const CHUNK = 1 << 20;
const QUEUE_ORDER = new Map<string, number>(MESSAGE_QUEUES.map((q, k) => [q, k]));

/** One thread's selected messages of one job, sorted (order). Plain data: it crosses threads. */
export interface SerializedMessages {
  readonly chunks: Uint8Array[];
  /** Per message: its chunk, and where its text begins and ends there. */
  readonly chunk: Uint32Array;
  readonly start: Uint32Array;
  readonly end: Uint32Array;
  readonly queue: Uint8Array;
  readonly arrival: Float64Array;
  readonly id: string[];
  /** The messages by queue, arrival and id. */
  readonly order: Uint32Array;
}

/** Collects the JSON texts of the messages of one job. */
export class SerializedWriter {
  private readonly chunks: Buffer[] = [];
  private current: Buffer | undefined;
  private at = 0;
  private readonly chunk: number[] = [];
  private readonly start: number[] = [];
  private readonly end: number[] = [];
  private readonly queue: number[] = [];
  private readonly arrival: number[] = [];
  private readonly id: string[] = [];

  add(m: QueueMessage): void {
    const text = JSON.stringify(m);
    const most = text.length * 3;
    if (this.current === undefined || this.at + most > this.current.length) {
      // A fresh buffer of its own (never the pool's: it is transferred whole).
      this.current = Buffer.allocUnsafeSlow(Math.max(CHUNK, most));
      this.chunks.push(this.current);
      this.at = 0;
    }
    this.chunk.push(this.chunks.length - 1);
    this.start.push(this.at);
    this.at += this.current.write(text, this.at, 'utf8');
    this.end.push(this.at);
    this.queue.push(QUEUE_ORDER.get(m.queue_name)!);
    this.arrival.push(m.arrival_time);
    this.id.push(m.queue_id);
  }

  finish(): SerializedMessages {
    const { queue, arrival, id } = this;
    const order = Uint32Array.from(id.keys()).sort((a, b) => compare(queue[a]!, arrival[a]!, id[a]!, queue[b]!, arrival[b]!, id[b]!));
    return {
      chunks: this.chunks,
      chunk: Uint32Array.from(this.chunk),
      start: Uint32Array.from(this.start),
      end: Uint32Array.from(this.end),
      queue: Uint8Array.from(queue),
      arrival: Float64Array.from(arrival),
      id,
      order,
    };
  }
}

/** The ArrayBuffers of a part, to be transferred rather than copied. */
export function transferables(s: SerializedMessages): ArrayBuffer[] {
  return [...s.chunks.map((c) => c.buffer as ArrayBuffer), s.chunk.buffer, s.start.buffer, s.end.buffer, s.queue.buffer, s.arrival.buffer, s.order.buffer] as ArrayBuffer[];
}

function compare(qa: number, aa: number, ia: string, qb: number, ab: number, ib: string): number {
  return qa - qb || aa - ab || (ia < ib ? -1 : ia > ib ? 1 : 0);
}

/** The parts of one instance (one per shard), each sorted: their messages in one order. */
export class SerializedList {
  constructor(private readonly parts: readonly SerializedMessages[]) {}

  get length(): number {
    return this.parts.reduce((n, p) => n + p.order.length, 0);
  }

  /** Each message's text, in order (a merge of the sorted parts). */
  *texts(): Generator<Uint8Array> {
    const parts = this.parts.filter((p) => p.order.length > 0);
    const next = parts.map(() => 0);
    for (;;) {
      let best = -1;
      for (let k = 0; k < parts.length; k++) {
        if (next[k]! >= parts[k]!.order.length) continue;
        if (best < 0) {
          best = k;
          continue;
        }
        const a = parts[k]!;
        const b = parts[best]!;
        const i = a.order[next[k]!]!;
        const j = b.order[next[best]!]!;
        if (compare(a.queue[i]!, a.arrival[i]!, a.id[i]!, b.queue[j]!, b.arrival[j]!, b.id[j]!) < 0) best = k;
      }
      if (best < 0) return;
      const p = parts[best]!;
      const m = p.order[next[best]!++]!;
      yield p.chunks[p.chunk[m]!]!.subarray(p.start[m], p.end[m]);
    }
  }
}

/**
 * Text and messages, written on a megabyte at a time as they come (each write a buffer of its
 * own): the output is never held whole.
 */
export class ChunkedOutput {
  private buf = Buffer.allocUnsafe(CHUNK);
  private at = 0;

  constructor(private readonly write: (b: Uint8Array) => void) {}

  text(s: string): void {
    this.bytes(Buffer.from(s, 'utf8'));
  }

  bytes(b: Uint8Array): void {
    if (this.at + b.length > this.buf.length) {
      this.flush();
      if (b.length > this.buf.length) {
        this.write(b);
        return;
      }
    }
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  flush(): void {
    if (this.at === 0) return;
    this.write(this.buf.subarray(0, this.at));
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.at = 0;
  }
}
