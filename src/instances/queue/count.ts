/**
 * Queue directories read natively: how many messages each queue holds and
 * how long the oldest has been there, without postqueue(1) (one process and
 * a showq round trip per instance) — a thousand instances with ten thousand
 * messages in well under a second.
 *
 * A message's age is that of its arrival, as postqueue -j's arrival_time:
 * the time record (T) near the start of the queue file. The file's mtime
 * would not do: for a deferred message it is the time of the next attempt.
 * A file without a readable time record (one being written) counts by mtime.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export const QUEUE_NAMES = ['incoming', 'active', 'deferred', 'hold', 'maildrop', 'corrupt'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export interface QueueScan {
  readonly messages: number;
  /** Arrival time of the oldest message, ms since the epoch; null when empty. */
  readonly oldestArrivalMs: number | null;
}

/** Postfix's REC_TYPE_TIME. */
const REC_TYPE_TIME = 0x54;
const HEAD = Buffer.allocUnsafe(512);

/**
 * The arrival time in a queue file's first records (rec_get(): a type byte,
 * a length in base-128 little-endian groups, the data); seconds as text,
 * optionally followed by microseconds. null when there is none.
 */
export function arrivalTimeMs(head: Buffer): number | null {
  let pos = 0;
  for (let records = 0; records < 4 && pos < head.length; records++) {
    const type = head[pos++]!;
    let length = 0;
    let shift = 0;
    for (;;) {
      if (pos >= head.length || shift > 28) return null;
      const b = head[pos++]!;
      length |= (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    if (pos + length > head.length) return null;
    if (type === REC_TYPE_TIME) {
      const m = /^\s*(\d+)(?:\s+(\d+))?/.exec(head.toString('latin1', pos, pos + length));
      return m ? Number(m[1]) * 1000 + Math.floor(Number(m[2] ?? 0) / 1000) : null;
    }
    pos += length;
  }
  return null;
}

function fileArrivalMs(path: string): number | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null; // delivered and removed meanwhile
  }
  try {
    const n = readSync(fd, HEAD, 0, HEAD.length, 0);
    return arrivalTimeMs(HEAD.subarray(0, n)) ?? statSync(path).mtimeMs;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * Messages and oldest arrival of one queue directory (hashed
 * subdirectories included); null where it cannot be read (never started).
 * With `ages` false only the messages are counted, as status does.
 */
export function scanQueue(dir: string, ages = true): QueueScan | null {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return null;
  }
  let messages = 0;
  let oldest: number | null = null;
  for (const e of entries) {
    if (e.isDirectory()) {
      const sub = scanQueue(`${dir}/${e.name}`, ages);
      if (sub === null) continue;
      messages += sub.messages;
      if (sub.oldestArrivalMs !== null && (oldest === null || sub.oldestArrivalMs < oldest)) oldest = sub.oldestArrivalMs;
    } else if (e.isFile()) {
      messages += 1;
      if (!ages) continue;
      const t = fileArrivalMs(`${dir}/${e.name}`);
      if (t !== null && (oldest === null || t < oldest)) oldest = t;
    }
  }
  return { messages, oldestArrivalMs: oldest };
}

export type QueueScans = Record<QueueName, QueueScan | null>;

// This module's URL is that of dist/instances/queue.js, in the bundle too (scripts/bundle.mjs).
const WORKER = fileURLToPath(new URL('../../bundle/workers/queue-scan.js', import.meta.url));

/**
 * Scans of many instances' queues shared between a worker thread and the caller: on a
 * thousand instances the scan is a few hundred ms of mostly system time, so metrics starts
 * the worker first (its start-up overlaps the loading of the fleet), gives it the directories,
 * runs the fleet check meanwhile, and then takes the directories the worker has not reached
 * (one shared counter hands out each directory once). Where there is no bundled worker (the
 * sources run under vitest) the caller scans them all.
 */
export class QueueScanner {
  private readonly worker: Worker | undefined;
  private readonly answer: Promise<Array<[number, QueueScans]>> | undefined;
  private readonly next = new Int32Array(new SharedArrayBuffer(4));
  private directories: readonly string[] = [];

  constructor(private readonly ages = true) {
    if (!existsSync(WORKER)) return;
    const worker = new Worker(WORKER, { workerData: { ages } });
    // Until finish() waits for it, the worker does not hold the process (a command that fails first exits).
    worker.unref();
    this.worker = worker;
    this.answer = new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`queue scan worker exited with status ${code}`)));
    });
    this.answer.catch(() => undefined);
  }

  /** The directories to scan; the worker starts on them. */
  submit(queueDirectories: readonly string[]): void {
    this.directories = queueDirectories;
    this.worker?.postMessage({ directories: queueDirectories, next: this.next });
  }

  /** Scans what the worker has not taken, then waits for the worker's part: the scans in submit()'s order. */
  async finish(): Promise<QueueScans[]> {
    const scans = new Array<QueueScans>(this.directories.length);
    for (const [k, scan] of takeScans(this.directories, this.next, this.ages)) scans[k] = scan;
    this.worker?.ref();
    if (this.answer) for (const [k, scan] of await this.answer) scans[k] = scan;
    return scans;
  }
}

/** Scans directories[k] for each k the shared counter hands out, until none is left. */
export function takeScans(directories: readonly string[], next: Int32Array, ages: boolean): Array<[number, QueueScans]> {
  const done: Array<[number, QueueScans]> = [];
  for (let k = Atomics.add(next, 0, 1); k < directories.length; k = Atomics.add(next, 0, 1)) done.push([k, scanQueues(directories[k]!, ages)]);
  return done;
}

export function scanQueues(queueDirectory: string, ages = true): QueueScans {
  return Object.fromEntries(QUEUE_NAMES.map((q) => [q, scanQueue(`${queueDirectory}/${q}`, ages)])) as QueueScans;
}
