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
 *
 * For metrics' largest recipient domains the same read also yields the domains of the
 * pending recipients (R records) of the envelope, up to the content: what a message is
 * queued for, without the defer log or recipients added after the content (sendmail -t).
 */
import { closeSync, existsSync, readdirSync, readSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { openForReading } from './open.js';
import { cString, decodeBytes, printable } from './text.js';

export const QUEUE_NAMES = ['incoming', 'active', 'deferred', 'hold', 'maildrop', 'corrupt'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export interface QueueScan {
  readonly messages: number;
  /** Arrival time of the oldest message, ms since the epoch; null when empty. */
  readonly oldestArrivalMs: number | null;
}

/** Postfix's REC_TYPE_TIME, REC_TYPE_RCPT, REC_TYPE_MESG. */
const REC_TYPE_TIME = 0x54;
const REC_TYPE_RCPT = 0x52;
const REC_TYPE_MESG = 0x4d;
/** What is read of each file: the first records; with domains, the envelope of all but the largest recipient lists. */
const HEAD = Buffer.allocUnsafe(512);
const ENVELOPE = Buffer.allocUnsafe(8192);

export interface HeadFacts {
  /** The time record (ms), null when there is none within the head. */
  readonly arrivalMs: number | null;
  /** The recipient domains of the R records before the content, lower case, each once (when asked for). */
  readonly domains: readonly string[];
}

/**
 * What the first records of a queue file say (rec_get(): a type byte, a length in base-128
 * little-endian groups, the data): the time record (seconds as text, optionally followed by
 * microseconds), which cleanup writes among the first four; and, with `domains`, the
 * recipients' domains up to the content record.
 */
export function headFacts(head: Buffer, domains: boolean): HeadFacts {
  let pos = 0;
  let arrivalMs: number | null = null;
  const found = new Set<string>();
  for (let records = 0; pos < head.length && (domains || records < 4); records++) {
    const type = head[pos++]!;
    let length = 0;
    let shift = 0;
    for (;;) {
      if (pos >= head.length || shift > 28) return { arrivalMs, domains: [...found] };
      const b = head[pos++]!;
      length |= (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    if (pos + length > head.length || type === REC_TYPE_MESG) break;
    if (type === REC_TYPE_TIME && arrivalMs === null) {
      const m = /^\s*(\d+)(?:\s+(\d+))?/.exec(head.toString('latin1', pos, pos + length));
      arrivalMs = m ? Number(m[1]) * 1000 + Math.floor(Number(m[2] ?? 0) / 1000) : null;
      if (!domains) break;
    } else if (type === REC_TYPE_RCPT && domains) {
      const address = head.toString('latin1', pos, pos + length);
      const at = address.lastIndexOf('@');
      if (at >= 0) found.add(decodeBytes(printable(cString(address.slice(at + 1)), true)).toLowerCase().replace(/\.$/, ''));
    }
    pos += length;
  }
  return { arrivalMs, domains: [...found] };
}

/** The arrival time in a queue file's first records; null when there is none. */
export function arrivalTimeMs(head: Buffer): number | null {
  return headFacts(head, false).arrivalMs;
}

function fileFacts(path: string, domains: boolean): HeadFacts | null {
  let fd: number;
  try {
    fd = openForReading(path);
  } catch {
    return null; // delivered and removed meanwhile (or a symbolic link: not followed)
  }
  try {
    const buf = domains ? ENVELOPE : HEAD;
    const n = readSync(fd, buf, 0, buf.length, 0);
    const facts = headFacts(buf.subarray(0, n), domains);
    return facts.arrivalMs !== null ? facts : { ...facts, arrivalMs: statSync(path).mtimeMs };
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * Messages and oldest arrival of one queue directory (hashed
 * subdirectories included); null where it cannot be read (never started).
 * With `ages` false only the messages are counted, as status does. With
 * `domains`, each message is counted there once per recipient domain.
 */
export function scanQueue(dir: string, ages = true, domains?: Map<string, number>): QueueScan | null {
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
      const sub = scanQueue(`${dir}/${e.name}`, ages, domains);
      if (sub === null) continue;
      messages += sub.messages;
      if (sub.oldestArrivalMs !== null && (oldest === null || sub.oldestArrivalMs < oldest)) oldest = sub.oldestArrivalMs;
    } else if (e.isFile()) {
      messages += 1;
      if (!ages && domains === undefined) continue;
      const facts = fileFacts(`${dir}/${e.name}`, domains !== undefined);
      if (facts === null) continue;
      const t = facts.arrivalMs;
      if (ages && t !== null && (oldest === null || t < oldest)) oldest = t;
      if (domains !== undefined) for (const d of facts.domains) domains.set(d, (domains.get(d) ?? 0) + 1);
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
  private readonly answer: Promise<WorkerAnswer> | undefined;
  private readonly next = new Int32Array(new SharedArrayBuffer(4));
  private directories: readonly string[] = [];
  private readonly domains: Map<string, number> | undefined;

  /** With `domains`, the messages are also counted by recipient domain (recipientDomains()). */
  constructor(
    private readonly ages = true,
    domains = false,
  ) {
    if (domains) this.domains = new Map();
    if (!existsSync(WORKER)) return;
    const worker = new Worker(WORKER, { workerData: { ages, domains } });
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
    for (const [k, scan] of takeScans(this.directories, this.next, this.ages, this.domains)) scans[k] = scan;
    this.worker?.ref();
    if (this.answer) {
      const answer = await this.answer;
      for (const [k, scan] of answer.scans) scans[k] = scan;
      for (const [d, n] of answer.domains) this.domains?.set(d, (this.domains.get(d) ?? 0) + n);
    }
    return scans;
  }

  /** After finish(): messages by recipient domain, over every queue but corrupt of every directory. */
  recipientDomains(): ReadonlyMap<string, number> {
    return this.domains ?? new Map();
  }
}

export interface WorkerAnswer {
  readonly scans: Array<[number, QueueScans]>;
  readonly domains: Array<[string, number]>;
}

/** Scans directories[k] for each k the shared counter hands out, until none is left. */
export function takeScans(directories: readonly string[], next: Int32Array, ages: boolean, domains?: Map<string, number>): Array<[number, QueueScans]> {
  const done: Array<[number, QueueScans]> = [];
  for (let k = Atomics.add(next, 0, 1); k < directories.length; k = Atomics.add(next, 0, 1)) done.push([k, scanQueues(directories[k]!, ages, domains)]);
  return done;
}

/** Each queue of an instance; with `domains`, its messages (corrupt ones aside) counted by recipient domain there. */
export function scanQueues(queueDirectory: string, ages = true, domains?: Map<string, number>): QueueScans {
  return Object.fromEntries(QUEUE_NAMES.map((q) => [q, scanQueue(`${queueDirectory}/${q}`, ages, q === 'corrupt' ? undefined : domains)])) as QueueScans;
}
