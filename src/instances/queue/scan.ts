/**
 * One instance's queues read natively: every message file of the queues asked for, as
 * postqueue -j lists them (queue-file.ts, defer-log.ts), plus the corrupt queue.
 *
 *  - The names of all the queues are listed first, then the files are read. A file gone
 *    between the two has moved on (qmgr, postsuper) or was delivered: it is looked for in
 *    the other queues asked for, and each queue id is reported once, wherever it is found
 *    first. So a message that moves while the queues are read is counted once.
 *  - A file or directory that cannot be read, or a file that is not a complete queue file,
 *    is a problem reported with its path; the rest is read all the same.
 *  - No symbolic link is followed below the queue directory (files are opened O_NOFOLLOW,
 *    only real directories are entered), so nothing outside it is ever read; nor is anything
 *    written, not even an atime (O_NOATIME).
 *  - A file whose owner bits are not rwx is being written (cleanup, postdrop): skipped, as
 *    showq skips it.
 */
import { closeSync, fstatSync, lstatSync, readdirSync, readSync, type Dirent, type Stats } from 'node:fs';
import { parseDeferLog } from './defer-log.js';
import { openForReading } from './open.js';
import { isMasterRunning, readMasterPid } from '../observe/status.js';
import { hashPath, isQueueFileName, type HashLayout, type MessageQueue } from './layout.js';
import { envelopeOf, readQueueFile, type DeferredRecipient, type Envelope, type FileEnvelope, type ReadOptions, type Recipient } from './queue-file.js';
import { cacheMinimumFromEnvironment, QueueReadCache } from './read-cache.js';

/** One message, with postqueue -j's field names (and its order), plus the instance. */
export interface QueueMessage {
  readonly instance: string;
  readonly queue_name: MessageQueue;
  readonly queue_id: string;
  readonly arrival_time: number;
  readonly message_size: number;
  readonly forced_expire: boolean;
  readonly sender: string;
  readonly recipients: readonly Recipient[];
}

export interface ScanProblem {
  readonly instance: string;
  readonly path: string;
  readonly problem: string;
}

/** What is known of an instance to read its queues. */
export interface QueueSource {
  /** The instance's label (instanceLabel()). */
  readonly instance: string;
  readonly queueDirectory: string;
  readonly read: ReadOptions;
  readonly layout: HashLayout;
}

export interface ScanOptions {
  /** The queues to read, in MESSAGE_QUEUES order. */
  readonly queues: readonly MessageQueue[];
  /** Read the defer logs (delay reasons); without them the recipients are those of the file. */
  readonly reasons: boolean;
  /** Only the queue ids this shard owns (shardOf()), so that threads can share an instance. */
  readonly shard?: { readonly index: number; readonly count: number } | undefined;
  /** Tests: called between the (first) listing of the queues and the reading of the files. */
  readonly afterListing?: (() => void) | undefined;
  /** List the queues again after reading them (default: when the instance's master runs). */
  readonly relist?: boolean | undefined;
  /**
   * Each message as soon as it is read, instead of collecting them in InstanceScan.messages
   * (a caller that only counts or serializes them lets them go at once).
   */
  readonly sink?: ((m: QueueMessage) => void) | undefined;
  /**
   * Where the read cache lives (POSTFLEET_CACHE_DIR; read-cache.ts): files and defer logs that
   * lstat() shows unchanged since they were read are not read again. Undefined: no cache.
   */
  readonly cacheDirectory?: string | undefined;
  /** Fewer messages than this (in this shard) are not cached (default: read-cache.ts's, or POSTFLEET_QUEUE_CACHE_MIN). */
  readonly cacheMinMessages?: number | undefined;
  /** When the reading began, ms since the epoch (default: now): the cache keeps nothing that changed less than 2 s before. */
  readonly startedAt?: number | undefined;
}

export interface InstanceScan {
  /** The messages (none when ScanOptions.sink took them). */
  readonly messages: QueueMessage[];
  readonly problems: ScanProblem[];
  /** The queue directory itself could not be read. */
  readonly error?: string;
}

/**
 * Which of `count` shards a queue id belongs to: by the first character of its hashed
 * subdirectory's name (hashPath(); a hexadecimal digit of the microseconds of its queue id),
 * so that a thread lists only the hashed subdirectories of its own shard.
 */
export function shardOf(id: string, count: number): number {
  return shardOfDirectory(hashPath(HASH_DIGIT, 'q', id)[0]!, count);
}

/** The shard whose messages a hashed subdirectory holds. */
function shardOfDirectory(name: string, count: number): number {
  const digit = Number.parseInt(name, 16);
  return (Number.isNaN(digit) ? name.charCodeAt(0) : digit) % count;
}

/** hashPath() of one level: the first character of an id's hashed subdirectories. */
const HASH_DIGIT: HashLayout = { names: new Set(['q']), depth: 1 };

const errCode = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e);

const READY = 0o700;
/** Read buffers of this thread: one for the queue file, one for its defer log (read while the file is). */
const fileScratch = Buffer.allocUnsafe(16_384);
const logScratch = Buffer.allocUnsafe(16_384);

interface Listed {
  readonly queue: MessageQueue;
  /** Directory path, with its trailing '/'. */
  readonly dir: string;
  readonly id: string;
  /** Listed in a hashed subdirectory of this shard (only this thread lists it): its own, whatever its name. */
  readonly mine: boolean;
}


export function scanInstance(source: QueueSource, options: ScanOptions): InstanceScan {
  return new InstanceReader(source, options).scan();
}

class InstanceReader {
  private readonly messages: QueueMessage[] = [];
  private readonly collect = (m: QueueMessage): void => void this.messages.push(m);
  private readonly problems: ScanProblem[] = [];
  /** Directories known to be real (not symbolic links), with their trailing '/'; false: not to be entered. */
  private readonly realDirs = new Map<string, boolean>();
  private readonly seen = new Set<string>();
  /** Senders and delay reasons repeat from message to message (a campaign, a dead destination): kept once. */
  private readonly strings = new Map<string, string>();
  private readonly root: string;
  private readonly cache: QueueReadCache | undefined;

  constructor(
    private readonly source: QueueSource,
    private readonly options: ScanOptions,
  ) {
    this.root = `${source.queueDirectory}/`;
    const shard = options.shard ?? { index: 0, count: 1 };
    // What the cache keeps is bytes (latin1): an empty_address_recipient that is not (UTF-8 in main.cf) is never cached.
    const cacheable = options.cacheDirectory !== undefined && ![...source.read.emptyAddress].some((c) => c.charCodeAt(0) > 0xff);
    this.cache = cacheable
      ? QueueReadCache.open(
          {
            directory: options.cacheDirectory,
            queueDirectory: source.queueDirectory,
            read: source.read,
            layout: source.layout,
            shard: shard.index,
            shards: shard.count,
            minMessages: options.cacheMinMessages ?? cacheMinimumFromEnvironment(),
          },
          options.startedAt,
        )
      : undefined;
  }

  /** Listing problems are reported by the first shard only: every shard lists the same names. */
  private get reportsListing(): boolean {
    return (this.options.shard?.index ?? 0) === 0;
  }

  private problem(path: string, problem: string, listing = false): void {
    if (listing && !this.reportsListing) return;
    this.problems.push({ instance: this.source.instance, path, problem });
  }

  scan(): InstanceScan {
    try {
      const st = lstatSync(this.source.queueDirectory, { throwIfNoEntry: true });
      if (!st.isDirectory() && !st.isSymbolicLink()) return { messages: [], problems: [], error: `queue directory ${this.source.queueDirectory} is not a directory` };
    } catch (e) {
      return { messages: [], problems: [], error: `cannot read queue directory ${this.source.queueDirectory}: ${errCode(e)}` };
    }
    const listed = this.listAll();
    this.options.afterListing?.();
    this.readAll(listed);
    // While a master runs, qmgr moves messages between queues as they are listed: one that
    // went from a queue not listed yet to one already listed was in neither listing. A second
    // listing finds it (the ids read already are skipped).
    if (this.options.relist ?? masterRuns(this.source.queueDirectory)) this.readAll(this.listAll(false));
    this.cache?.save(this.options.queues);
    return { messages: this.messages, problems: this.problems };
  }

  /** The queue ids of every queue asked for; listing problems reported the first time only. */
  private listAll(report = true): Listed[] {
    const listed: Listed[] = [];
    for (const queue of this.options.queues) {
      const dir = `${this.root}${queue}/`;
      if (!this.isRealDirectory(dir, report)) continue;
      this.list(queue, dir, queue !== 'maildrop', listed, report, false);
    }
    return listed;
  }

  /** Reads what was listed and not read yet; a file gone meanwhile is looked for in the other queues. */
  private readAll(listed: readonly Listed[]): void {
    const shard = this.options.shard;
    for (const entry of listed) {
      if (!entry.mine && shard !== undefined && shard.count > 1 && shardOf(entry.id, shard.count) !== shard.index) continue;
      if (this.seen.has(entry.id)) continue;
      if (this.readOne(entry.queue, entry.dir, entry.id) !== 'gone') continue;
      for (const queue of this.options.queues) {
        if (queue === entry.queue || this.seen.has(entry.id)) continue;
        const dir = `${this.root}${queue}/${hashPath(this.source.layout, queue, entry.id)}`;
        if (this.isRealDirectory(dir, false) && this.readOne(queue, dir, entry.id) !== 'gone') break;
      }
    }
  }

  /**
   * Whether dir (under the queue directory) is a real directory, every component below the
   * queue directory checked once; a symbolic link is reported (when `report`) and never entered.
   */
  private isRealDirectory(dir: string, report: boolean): boolean {
    const known = this.realDirs.get(dir);
    if (known !== undefined) return known;
    const parent = dir.slice(0, dir.lastIndexOf('/', dir.length - 2) + 1);
    let real = parent.length <= this.root.length || this.isRealDirectory(parent, report);
    if (real) {
      try {
        const st = lstatSync(dir.slice(0, -1));
        real = st.isDirectory();
        if (st.isSymbolicLink() && report) this.problem(dir.slice(0, -1), 'symbolic link, not followed', true);
        else if (!real && report) this.problem(dir.slice(0, -1), 'not a directory', true);
      } catch (e) {
        real = false;
        if (report && errCode(e) !== 'ENOENT') this.problem(dir.slice(0, -1), `cannot read: ${errCode(e)}`, true);
      }
    }
    this.realDirs.set(dir, real);
    return real;
  }

  /**
   * The queue ids under dir; one-letter names are hashed subdirectories (mail_scan_dir_next()).
   * With shards, a hashed queue's subdirectories are each listed by the shard whose messages
   * they hold (shardOf()), which reports what is wrong in them (`mine`); what is wrong at the
   * top of a queue, the first shard reports.
   */
  private list(queue: MessageQueue, dir: string, hashed: boolean, into: Listed[], report: boolean, mine: boolean): void {
    let entries: Dirent[];
    const problem = (path: string, what: string): void => {
      if (report) this.problem(path, what, !mine);
    };
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if (errCode(e) !== 'ENOENT') problem(dir.slice(0, -1), `cannot read: ${errCode(e)}`);
      return;
    }
    const shard = this.options.shard;
    const split = !mine && shard !== undefined && shard.count > 1 && this.source.layout.names.has(queue);
    for (const e of entries) {
      const name = e.name;
      if (e.isSymbolicLink()) {
        problem(dir + name, 'symbolic link, not followed');
      } else if (hashed && name.length === 1) {
        if (!e.isDirectory()) {
          problem(dir + name, 'not a directory (one-letter names are hash directories)');
        } else if (!split || shardOfDirectory(name, shard.count) === shard.index) {
          this.realDirs.set(`${dir}${name}/`, true);
          this.list(queue, `${dir}${name}/`, true, into, report, mine || split);
        }
      } else if (e.isDirectory()) {
        problem(dir + name, 'not a regular file');
      } else if (!isQueueFileName(name)) {
        problem(dir + name, 'not a queue file name, ignored');
      } else {
        into.push({ queue, dir, id: name, mine });
      }
    }
  }

  /** Reads one message file; 'gone' when it is not there (any more). */
  private readOne(queue: MessageQueue, dir: string, id: string): 'gone' | 'done' {
    const path = dir + id;
    const cache = this.cache;
    const entry = cache?.entry(id) ?? -1;
    // Something stored of it: a stat tells whether that is still what the file says.
    if (queue !== 'corrupt' && cache?.hasFile(entry)) {
      let st: Stats | undefined;
      try {
        st = lstatSync(path, { throwIfNoEntry: false });
        if (st === undefined) return 'gone';
      } catch {
        st = undefined; // opening it says why
      }
      const file = st?.isFile() ? cache.file(entry, queue, st) : undefined;
      if (file !== undefined) {
        this.found(entry, queue, id);
        this.add(queue, id, this.envelope(entry, id, file, st!.mode));
        return 'done';
      }
    }
    let fd: number;
    try {
      fd = openForReading(path);
    } catch (e) {
      const code = errCode(e);
      if (code === 'ENOENT') return 'gone';
      this.found(entry, queue, id);
      this.problem(path, code === 'ELOOP' ? 'symbolic link, not followed' : `cannot open: ${code}`);
      return 'done';
    }
    this.found(entry, queue, id);
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) {
        this.problem(path, 'not a regular file');
        return 'done';
      }
      // Being written (cleanup, postdrop): not a message yet. Corrupt files keep any mode.
      if (queue !== 'corrupt' && (st.mode & READY) !== READY) return 'done';
      const mtime = Math.floor(st.mtimeMs / 1000);
      const { file, problem } = readQueueFile({ fd, size: st.size, mtime, mode: st.mode }, this.source.read, fileScratch);
      if (queue === 'corrupt') {
        // Listed whatever its state (showq never lists this queue): what could be read of it.
        this.add(queue, id, file !== null ? this.envelope(entry, id, file, st.mode) : { arrival_time: mtime, message_size: st.size, forced_expire: false, sender: '', recipients: [] });
        return 'done';
      }
      if (problem !== undefined) this.problem(path, problem);
      else if (file !== null) cache?.keepFile(st, file);
      if (file !== null) this.add(queue, id, this.envelope(entry, id, file, st.mode));
    } catch (e) {
      this.problem(path, `cannot read: ${errCode(e)}`);
    } finally {
      closeSync(fd);
    }
    return 'done';
  }

  /** A message was found under this id (each id is read once); `entry`: the cache's. */
  private found(entry: number, queue: MessageQueue, id: string): void {
    this.seen.add(id);
    this.cache?.seen(entry, queue, id);
  }

  /** The message of a file read: with its defer log when the reasons are asked for (showq reads it at the sender record). */
  private envelope(entry: number, id: string, file: FileEnvelope, mode: number): Envelope {
    return envelopeOf(file, mode, this.options.reasons ? this.readDeferLog(entry, id) : null, this.source.read.duplicateFilterLimit);
  }

  private add(queue: MessageQueue, id: string, e: Envelope): void {
    (this.options.sink ?? this.collect)({
      instance: this.source.instance,
      queue_name: queue,
      queue_id: id,
      arrival_time: e.arrival_time,
      message_size: e.message_size,
      forced_expire: e.forced_expire,
      sender: this.intern(e.sender),
      recipients: e.recipients,
    });
  }

  private intern(s: string): string {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    if (this.strings.size < 50_000) this.strings.set(s, s);
    return s;
  }

  /** The defer log of a message, as showq reads it; null when there is none. */
  private readDeferLog(entry: number, id: string): DeferredRecipient[] | null {
    const dir = `${this.root}defer/${hashPath(this.source.layout, 'defer', id)}`;
    if (!this.isRealDirectory(dir, true)) return null;
    const cache = this.cache;
    if (cache?.hasLog(entry)) {
      try {
        const st = lstatSync(dir + id, { throwIfNoEntry: false });
        const logged = cache.log(entry, st?.isFile() ? st : undefined);
        if (logged !== undefined) return logged;
      } catch {
        // opening it says why
      }
    }
    let fd: number;
    try {
      fd = openForReading(dir + id);
    } catch (e) {
      const code = errCode(e);
      if (code !== 'ENOENT') this.problem(dir + id, code === 'ELOOP' ? 'symbolic link, not followed' : `cannot open: ${code}`);
      return null;
    }
    try {
      // Its stat first, then its bytes: what is kept is never older than the stat it is kept under.
      const st = cache === undefined ? undefined : fstatSync(fd);
      const logged = parseDeferLog(readAll(fd), this.source.read.smtputf8).map((r) => ({ address: r.address, reason: this.intern(r.reason) }));
      if (st?.isFile()) cache!.keepLog(entry, st, logged);
      return logged;
    } catch (e) {
      // EISDIR: a directory where the log should be.
      this.problem(dir + id, `cannot read: ${errCode(e)}`);
      return null;
    } finally {
      closeSync(fd);
    }
  }
}

/** Whether the instance's master runs: its queues are then in motion. */
function masterRuns(queueDirectory: string): boolean {
  const pid = readMasterPid(queueDirectory);
  return pid !== null && isMasterRunning(pid);
}

/**
 * A whole small file as a byte string. A read that returns less than it was asked for has
 * met the end of the file (a defer log is appended to under a lock, whole entries at a time:
 * a partial last entry is not reported anyway), so a log costs one read.
 */
function readAll(fd: number): string {
  let buf = logScratch;
  let length = 0;
  for (;;) {
    const got = readSync(fd, buf, length, buf.length - length, length);
    length += got;
    if (length < buf.length) break;
    const bigger = Buffer.allocUnsafe(buf.length * 2);
    buf.copy(bigger, 0, 0, length);
    buf = bigger;
  }
  return buf.toString('latin1', 0, length);
}
