/**
 * What was read of an instance's queue files and defer logs, kept between runs, so that a
 * second listing of a large queue stats each file instead of opening and reading it.
 *
 * Each part is kept with what stat said of its file when it was read — device, inode,
 * size, mtime, ctime and mode — and is used only while lstat() says exactly that again
 * (git's index works the same way). Postfix changes a message in place (qmgr marks a
 * recipient done, postsuper -e sets a mode bit, a flush sets the mtime, bounce appends to
 * the defer log) or moves it (hold, release, requeue, deferral); every such change sets the
 * file's ctime, which no program can set back, and a moved file is looked up under its new
 * queue. A file written twice within one tick of the file system's clock would keep its
 * ctime, so a part whose file changed less than RACY_MS before the reading began is never
 * kept (git's "racily clean" entries); nor is anything read from a file with a problem, a
 * corrupt file, or a file being written.
 *
 * One cache file per instance and reading shard (FleetScanRequest's jobs), in
 * POSTFLEET_CACHE_DIR (/var/cache/postfleet) under queue/, mode 0600. It holds addresses and
 * delay reasons, so it is only used when it is the caller's own, a regular file and not
 * writable by group or others — as the main.cf settings cache (maincf/settings-cache.ts).
 * Best effort throughout: a cache that cannot be read, does not parse, was made for other
 * settings (smtputf8_enable, empty_address_recipient, the hash layout) or in the future
 * (the clock went back) is ignored; one that cannot be written is not written.
 *
 * The file is binary, so that loading it is a few typed-array views, not a parse: a JSON
 * header, the stat facts and numbers (float64), string indices and counts (uint32), and the
 * strings (byte strings, stored as latin1) with their end offsets.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { threadId } from 'node:worker_threads';
import type { HashLayout, MessageQueue } from './layout.js';
import { MESSAGE_QUEUES } from './layout.js';
import type { DeferredRecipient, FileEnvelope, ReadOptions } from './queue-file.js';

/** Far above any file system's timestamp granularity (a jiffy on Linux; 2 s on FAT). */
export const RACY_MS = 2000;
const MAGIC = 'PFQCACH1';
const VERSION = 1;
/** Stat facts per part: dev, ino, size, mtimeMs, ctimeMs, mode. */
const KEY = 6;
/** Bits of an entry's flags word (the queue's index is in the bits above). */
const HAS_FILE = 1;
const HAS_LOG = 2;
const QUEUE_SHIFT = 2;
/**
 * Fewer messages than this in a job are not cached (POSTFLEET_QUEUE_CACHE_MIN): they are
 * read in a few milliseconds, and a fleet of small queues would write a file per instance
 * whenever its mail moves.
 */
const MIN_CACHED_MESSAGES = 500;

export function cacheMinimumFromEnvironment(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env['POSTFLEET_QUEUE_CACHE_MIN']);
  return env['POSTFLEET_QUEUE_CACHE_MIN'] !== undefined && env['POSTFLEET_QUEUE_CACHE_MIN'] !== '' && Number.isSafeInteger(n) && n >= 0 ? n : MIN_CACHED_MESSAGES;
}

/** Where one reading job keeps its cache, and what its entries depend on. */
export interface CacheLocation {
  /** POSTFLEET_CACHE_DIR. */
  readonly directory: string;
  readonly queueDirectory: string;
  readonly read: ReadOptions;
  readonly layout: HashLayout;
  readonly shard: number;
  readonly shards: number;
  /** A job with fewer messages has no cache (cacheMinimumFromEnvironment()). */
  readonly minMessages: number;
}

interface Header {
  readonly version: number;
  readonly queueDirectory: string;
  readonly settings: string;
  readonly writtenAt: number;
  readonly entries: number;
  readonly floats: number;
  readonly ints: number;
  readonly strings: number;
  readonly stringBytes: number;
}

/** What this run found out about a stored entry (bits). */
const SEEN = 1;
const FILE_OK = 2;
const LOG_OK = 4;
const LOG_CHECKED = 8;

/** The settings an entry's content depends on (showq's address forms, where files are, the shard). */
function settingsOf(location: CacheLocation): string {
  const { smtputf8, emptyAddress } = location.read;
  return JSON.stringify([smtputf8, emptyAddress, [...location.layout.names].sort(), location.layout.depth, location.shard, location.shards]);
}

/** The cache file of a job: the queue directory hashed (it is in the header, checked), and the shard. */
function cacheFile(location: CacheLocation): string {
  const hash = createHash('sha256').update(location.queueDirectory).digest('hex').slice(0, 24);
  return `${location.directory}/queue/${hash}-${location.shard}-${location.shards}.bin`;
}

/**
 * The stored cache of one job, as views over the file's bytes. Entry e: string indices and
 * counts from ints[intAt[e]] — id, flags (queue << QUEUE_SHIFT | HAS_FILE | HAS_LOG), then
 * for the file: sender, n, n recipients; for the log: n, n (address, reason) pairs — and
 * numbers from floats[floatAt[e]] — the file's stat facts, arrival time, size; the log's
 * stat facts.
 */
class Stored {
  private readonly strings: Array<string | undefined>;
  private blob = '';
  readonly floatAt: Uint32Array;
  readonly intAt: Uint32Array;
  /** The entry after the last one found: entries are stored in the order the queues were listed. */
  private cursor = 0;
  private byId: Map<string, number> | undefined;

  constructor(
    readonly floats: Float64Array,
    readonly ints: Uint32Array,
    private readonly ends: Uint32Array,
    private readonly bytes: Buffer,
    readonly entries: number,
  ) {
    this.strings = new Array<string | undefined>(ends.length);
    this.floatAt = new Uint32Array(entries);
    this.intAt = new Uint32Array(entries);
    let f = 0;
    let i = 0;
    const strings = (from: number, to: number): void => {
      if (to > ints.length) throw new Error('inconsistent cache');
      for (let k = from; k < to; k++) if (ints[k]! >= ends.length) throw new Error('inconsistent cache');
    };
    const int = (at: number): number => {
      if (at >= ints.length) throw new Error('inconsistent cache');
      return ints[at]!;
    };
    for (let e = 0; e < entries; e++) {
      this.floatAt[e] = f;
      this.intAt[e] = i;
      strings(i, i + 1);
      const flags = int(i + 1);
      if (flags >>> QUEUE_SHIFT >= MESSAGE_QUEUES.length) throw new Error('inconsistent cache');
      i += 2;
      if (flags & HAS_FILE) {
        f += KEY + 2;
        const n = int(i + 1);
        strings(i, i + 1);
        strings(i + 2, i + 2 + n);
        i += 2 + n;
      }
      if (flags & HAS_LOG) {
        f += KEY;
        const n = int(i);
        strings(i + 1, i + 1 + 2 * n);
        i += 1 + 2 * n;
      }
      if (f > floats.length) throw new Error('inconsistent cache');
    }
    if (f !== floats.length || i !== ints.length) throw new Error('inconsistent cache');
  }

  /** The entry of a queue id, or -1: the next one in order, else looked up. */
  find(id: string): number {
    const next = this.cursor;
    if (next < this.entries && this.id(next) === id) {
      this.cursor = next + 1;
      return next;
    }
    if (this.byId === undefined) {
      this.byId = new Map();
      for (let e = this.entries - 1; e >= 0; e--) this.byId.set(this.id(e), e);
    }
    const e = this.byId.get(id) ?? -1;
    if (e >= 0) this.cursor = e + 1;
    return e;
  }

  string(k: number): string {
    const known = this.strings[k];
    if (known !== undefined) return known;
    if (this.blob === '' && this.bytes.length > 0) this.blob = this.bytes.toString('latin1');
    const s = this.blob.slice(k === 0 ? 0 : this.ends[k - 1], this.ends[k]);
    this.strings[k] = s;
    return s;
  }

  flags(e: number): number {
    return this.ints[this.intAt[e]! + 1]!;
  }

  queue(e: number): MessageQueue {
    return MESSAGE_QUEUES[this.flags(e) >>> QUEUE_SHIFT]!;
  }

  id(e: number): string {
    return this.string(this.ints[this.intAt[e]!]!);
  }

  /** Whether the stat facts at floats[at] are those of st. */
  matches(at: number, st: Stats): boolean {
    const f = this.floats;
    return f[at + 4] === st.ctimeMs && f[at + 1] === st.ino && f[at + 2] === st.size && f[at + 3] === st.mtimeMs && f[at + 5] === st.mode && f[at] === st.dev;
  }

  file(e: number): FileEnvelope {
    const at = this.floatAt[e]!;
    const i = this.intAt[e]! + 2;
    const n = this.ints[i + 1]!;
    const recipients = new Array<string>(n);
    for (let k = 0; k < n; k++) recipients[k] = this.string(this.ints[i + 2 + k]!);
    return { arrival_time: this.floats[at + KEY]!, message_size: this.floats[at + KEY + 1]!, sender: this.string(this.ints[i]!), recipients };
  }

  /** Where the log part's numbers (f) and ints (i) begin. */
  logAt(e: number): { f: number; i: number } {
    let f = this.floatAt[e]!;
    let i = this.intAt[e]! + 2;
    if (this.flags(e) & HAS_FILE) {
      f += KEY + 2;
      i += 2 + this.ints[i + 1]!;
    }
    return { f, i };
  }

  log(e: number): DeferredRecipient[] {
    const { i } = this.logAt(e);
    const n = this.ints[i]!;
    const recipients = new Array<DeferredRecipient>(n);
    for (let k = 0; k < n; k++) recipients[k] = { address: this.string(this.ints[i + 1 + 2 * k]!), reason: this.string(this.ints[i + 2 + 2 * k]!) };
    return recipients;
  }
}

/** A part read in this run: the fstat of its file, and what was read. */
interface FileRead {
  readonly st: Stats;
  readonly file: FileEnvelope;
}
interface LogRead {
  readonly st: Stats;
  readonly recipients: readonly DeferredRecipient[];
}

/** The message being read: the calls of the scan between two seen() are about it. */
interface Current {
  readonly id: string;
  readonly queue: MessageQueue;
  /** Its stored entry, or -1. */
  readonly entry: number;
  file?: FileRead;
  log?: LogRead;
}

/**
 * One job's cache in one run. The scan asks it about each message it meets — entry() and
 * seen(), then file() and log() with what lstat() says, or keepFile() and keepLog() with what
 * it read — and it writes the cache anew at the end if anything differs from what was
 * stored. The new cache is encoded as the messages come (in the order they were found, the
 * order the next run meets them in), from the first message that differs on: a run that
 * changes nothing encodes nothing, and none holds what it read until the end.
 */
export class QueueReadCache {
  /** What this run found out about each stored entry (SEEN, FILE_OK …). */
  private readonly state: Uint8Array;
  private current: Current | undefined;
  /** The new cache, from the first difference on. */
  private out: Encoder | undefined;
  /** Until then: the stored entries found, unchanged, in order (entry, queue index). */
  private readonly same: number[] = [];
  /** How many messages were found. */
  private found = 0;

  private constructor(
    private readonly location: CacheLocation,
    private readonly stored: Stored | undefined,
    /** Date.now() before the queues were listed. */
    private readonly startedAt: number,
  ) {
    this.state = new Uint8Array(stored?.entries ?? 0);
  }

  /** The job's cache as stored (an empty one when there is none, or none to trust). */
  static open(location: CacheLocation, startedAt = Date.now()): QueueReadCache {
    return new QueueReadCache(location, load(location, startedAt), startedAt);
  }

  /** The stored entry of a queue id (for the calls below), or -1. */
  entry(id: string): number {
    return this.stored?.find(id) ?? -1;
  }

  /** The message `id` (entry e) was found in `queue`: the calls that follow are about it. */
  seen(e: number, queue: MessageQueue, id: string): void {
    this.finish();
    this.found++;
    this.current = { id, queue, entry: e };
    if (e >= 0) this.state[e]! |= SEEN;
  }

  /** Whether a file part is stored (else there is nothing to check: read the file). */
  hasFile(e: number): boolean {
    return e >= 0 && (this.stored!.flags(e) & HAS_FILE) !== 0;
  }

  /** The stored file part, if it was read in `queue` and lstat() says the file is the one it was read from. */
  file(e: number, queue: MessageQueue, st: Stats): FileEnvelope | undefined {
    const stored = this.stored;
    if (e < 0 || stored === undefined || !(stored.flags(e) & HAS_FILE) || stored.queue(e) !== queue || !stored.matches(stored.floatAt[e]!, st)) return undefined;
    this.state[e]! |= FILE_OK;
    return stored.file(e);
  }

  /** Whether a defer log is stored (else its absence is found by opening it). */
  hasLog(e: number): boolean {
    return e >= 0 && (this.stored!.flags(e) & HAS_LOG) !== 0;
  }

  /** The stored defer log, if lstat() says the log is the one it was read from (st undefined: there is none now). */
  log(e: number, st: Stats | undefined): DeferredRecipient[] | undefined {
    const stored = this.stored;
    if (e < 0 || stored === undefined) return undefined;
    this.state[e]! |= LOG_CHECKED;
    if (st === undefined || !(stored.flags(e) & HAS_LOG) || !stored.matches(stored.logAt(e).f, st)) return undefined;
    this.state[e]! |= LOG_OK;
    return stored.log(e);
  }

  /** What was read of the current message's file (st: its fstat): kept unless it changed too recently to be sure of. */
  keepFile(st: Stats, file: FileEnvelope): void {
    if (this.current !== undefined && !this.racy(st)) this.current.file = { st, file };
  }

  /** What was read of its defer log (st: its fstat), the same way; the log was looked at either way. */
  keepLog(e: number, st: Stats, recipients: readonly DeferredRecipient[]): void {
    if (e >= 0) this.state[e]! |= LOG_CHECKED;
    if (this.current !== undefined && !this.racy(st)) this.current.log = { st, recipients };
  }

  /** Changed less than RACY_MS before the reading began: a change within the same tick would go unseen. */
  private racy(st: Stats): boolean {
    return !(this.startedAt - st.ctimeMs >= RACY_MS);
  }

  /** The current message's entry in the new cache: what was read now, else what was stored and found valid (or not looked at). */
  private finish(): void {
    const c = this.current;
    if (c === undefined) return;
    this.current = undefined;
    const e = c.entry;
    const state = e >= 0 ? this.state[e]! : 0;
    const flags = e >= 0 ? this.stored!.flags(e) : 0;
    const keepFile = c.file === undefined && (state & FILE_OK) !== 0;
    const keepLog = c.log === undefined && (flags & HAS_LOG) !== 0 && (!(state & LOG_CHECKED) || (state & LOG_OK) !== 0);
    const same = c.file === undefined && c.log === undefined && (e < 0 || (keepFile === ((flags & HAS_FILE) !== 0) && keepLog === ((flags & HAS_LOG) !== 0) && this.stored!.queue(e) === c.queue));
    if (same && this.out === undefined) {
      if (e >= 0) this.same.push(e, MESSAGE_QUEUES.indexOf(c.queue));
      return;
    }
    const out = this.encoder();
    out.entry(c.id, c.queue, c.file ?? (keepFile ? e : undefined), c.log ?? (keepLog ? e : undefined));
  }

  /** The new cache's encoder, with the unchanged entries found so far. */
  private encoder(): Encoder {
    if (this.out !== undefined) return this.out;
    const out = (this.out = new Encoder(this.stored));
    for (let k = 0; k < this.same.length; k += 2) {
      const e = this.same[k]!;
      out.entry(this.stored!.id(e), MESSAGE_QUEUES[this.same[k + 1]!]!, this.stored!.flags(e) & HAS_FILE ? e : undefined, this.stored!.flags(e) & HAS_LOG ? e : undefined);
    }
    this.same.length = 0;
    return out;
  }

  /**
   * Writes the cache if this run changed it. An entry of a queue that was read (`queues`)
   * whose message was not seen is dropped (it left); one of a queue not read is kept as it
   * was. Atomic: a temporary file renamed over the old one. A job with fewer than
   * `minMessages` messages has no cache (one it had is removed).
   */
  save(queues: readonly MessageQueue[]): void {
    this.finish();
    const stored = this.stored;
    const kept: number[] = [];
    let gone = false;
    for (let e = 0; e < this.state.length; e++) {
      if (this.state[e]! & SEEN) continue;
      if (queues.includes(stored!.queue(e))) gone = true;
      else kept.push(e);
    }
    if (this.found + kept.length < this.location.minMessages) {
      if (stored !== undefined) remove(this.location);
      return;
    }
    if (this.out === undefined && !gone) return;
    const out = this.encoder();
    for (const e of kept) out.entry(stored!.id(e), stored!.queue(e), stored!.flags(e) & HAS_FILE ? e : undefined, stored!.flags(e) & HAS_LOG ? e : undefined);
    write(this.location, out, this.startedAt);
  }
}

/** A growable typed array. */
class Growable<A extends Float64Array | Uint32Array> {
  n = 0;

  constructor(
    public a: A,
    private readonly make: (length: number) => A,
  ) {}

  push(v: number): void {
    if (this.n === this.a.length) {
      const b = this.make(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
}

/**
 * Builds the sections of a cache file, entry by entry: a part read now (with its fstat), or
 * the stored entry's part (its index), copied.
 */
class Encoder {
  readonly floats = new Growable(new Float64Array(4096), (n) => new Float64Array(n));
  readonly ints = new Growable(new Uint32Array(4096), (n) => new Uint32Array(n));
  /** The strings in order; those that repeat (senders, addresses, reasons) once. */
  readonly strings: string[] = [];
  private readonly index = new Map<string, number>();
  entries = 0;

  constructor(private readonly stored: Stored | undefined) {}

  private string(s: string): number {
    let k = this.index.get(s);
    if (k === undefined) {
      k = this.strings.push(s) - 1;
      this.index.set(s, k);
    }
    return k;
  }

  private key(st: Stats): void {
    const f = this.floats;
    f.push(st.dev);
    f.push(st.ino);
    f.push(st.size);
    f.push(st.mtimeMs);
    f.push(st.ctimeMs);
    f.push(st.mode);
  }

  private copy(from: number, n: number): void {
    const floats = this.stored!.floats;
    for (let k = from; k < from + n; k++) this.floats.push(floats[k]!);
  }

  entry(id: string, queue: MessageQueue, file: FileRead | number | undefined, log: LogRead | number | undefined): void {
    if (file === undefined && log === undefined) return;
    const stored = this.stored;
    this.entries++;
    // Queue ids are each once in a job: not worth a look-up.
    this.ints.push(this.strings.push(id) - 1);
    this.ints.push((MESSAGE_QUEUES.indexOf(queue) << QUEUE_SHIFT) | (file !== undefined ? HAS_FILE : 0) | (log !== undefined ? HAS_LOG : 0));
    if (typeof file === 'number') {
      this.copy(stored!.floatAt[file]!, KEY + 2);
      const f = stored!.file(file);
      this.ints.push(this.string(f.sender));
      this.ints.push(f.recipients.length);
      for (const r of f.recipients) this.ints.push(this.string(r));
    } else if (file !== undefined) {
      this.key(file.st);
      this.floats.push(file.file.arrival_time);
      this.floats.push(file.file.message_size);
      this.ints.push(this.string(file.file.sender));
      this.ints.push(file.file.recipients.length);
      for (const r of file.file.recipients) this.ints.push(this.string(r));
    }
    if (log !== undefined) {
      let recipients: readonly DeferredRecipient[];
      if (typeof log === 'number') {
        this.copy(stored!.logAt(log).f, KEY);
        recipients = stored!.log(log);
      } else {
        this.key(log.st);
        recipients = log.recipients;
      }
      this.ints.push(recipients.length);
      for (const r of recipients) {
        this.ints.push(this.string(r.address));
        this.ints.push(this.string(r.reason));
      }
    }
  }
}

const align8 = (n: number): number => (n + 7) & ~7;

function write(location: CacheLocation, out: Encoder, startedAt: number): void {
  const strings = out.strings;
  const ends = new Uint32Array(strings.length);
  let length = 0;
  for (let k = 0; k < strings.length; k++) ends[k] = length += strings[k]!.length;
  const header: Header = {
    version: VERSION,
    queueDirectory: location.queueDirectory,
    settings: settingsOf(location),
    writtenAt: Math.max(Date.now(), startedAt),
    entries: out.entries,
    floats: out.floats.n,
    ints: out.ints.n,
    strings: strings.length,
    stringBytes: length,
  };
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const start = align8(MAGIC.length + 4 + head.length);
  const buf = Buffer.alloc(start + out.floats.n * 8 + (out.ints.n + ends.length) * 4 + length);
  buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt32LE(head.length, MAGIC.length);
  head.copy(buf, MAGIC.length + 4);
  let at = start;
  const copy = (a: Float64Array | Uint32Array): void => {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(buf, at);
    at += a.byteLength;
  };
  copy(out.floats.a.subarray(0, out.floats.n));
  copy(out.ints.a.subarray(0, out.ints.n));
  copy(ends);
  // Byte strings all (what was read from files, decoded as latin1): one byte each.
  buf.write(strings.join(''), at, 'latin1');
  const file = cacheFile(location);
  const tmp = `${file}.${process.pid}.${threadId}.tmp`;
  let fd: number | undefined;
  try {
    mkdirSync(`${location.directory}/queue`, { recursive: true, mode: 0o700 });
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    for (let done = 0; done < buf.length; ) done += writeSync(fd, buf, done, buf.length - done);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, file);
  } catch {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // never made
    }
  }
}

function remove(location: CacheLocation): void {
  try {
    unlinkSync(cacheFile(location));
  } catch {
    // gone already
  }
}

/** The job's stored cache, if it is the caller's own, whole, and made for these settings. */
function load(location: CacheLocation, now: number): Stored | undefined {
  let fd: number;
  try {
    fd = openSync(cacheFile(location), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    // What the cache says decides what is listed, held and deleted: only the caller's own file counts.
    if (!st.isFile() || st.uid !== process.geteuid?.() || (st.mode & 0o022) !== 0 || st.size < MAGIC.length + 4) return undefined;
    // Its own memory (not the pool), aligned for the typed-array views.
    const buf = Buffer.allocUnsafeSlow(st.size);
    for (let got = 0; got < buf.length; ) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) return undefined;
      got += n;
    }
    if (buf.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined;
    const headLength = buf.readUInt32LE(MAGIC.length);
    const header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + headLength)) as Header;
    if (header.version !== VERSION || header.queueDirectory !== location.queueDirectory || header.settings !== settingsOf(location)) return undefined;
    // Written in the future: the clock went back, and a ctime may come round again.
    if (!(header.writtenAt <= now)) return undefined;
    const counts = [header.entries, header.floats, header.ints, header.strings, header.stringBytes];
    if (!counts.every((n) => Number.isSafeInteger(n) && n >= 0)) return undefined;
    const start = align8(MAGIC.length + 4 + headLength);
    const intsAt = start + header.floats * 8;
    const endsAt = intsAt + header.ints * 4;
    const bytesAt = endsAt + header.strings * 4;
    if (bytesAt + header.stringBytes !== buf.length) return undefined;
    const ends = new Uint32Array(buf.buffer, buf.byteOffset + endsAt, header.strings);
    for (let k = 0; k < ends.length; k++) if (ends[k]! < (k === 0 ? 0 : ends[k - 1]!) || ends[k]! > header.stringBytes) return undefined;
    return new Stored(
      new Float64Array(buf.buffer, buf.byteOffset + start, header.floats),
      new Uint32Array(buf.buffer, buf.byteOffset + intsAt, header.ints),
      ends,
      buf.subarray(bytesAt),
      header.entries,
    );
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
