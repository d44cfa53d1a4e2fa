/**
 * main.cf settings kept between runs, so that listing a thousand instances
 * need not read and parse 27 MB of mostly comments every time: one entry per
 * main.cf, the raw settings that parseMainCfBytes() made of it, valid only
 * while the file's device, inode, size, mtime and ctime are the ones it was
 * read with (git's index works the same way). Any write to a main.cf sets
 * its ctime, which no program can set back, and postconf -e / postfleet
 * replace the file (a new inode), so a changed file is always read again.
 *
 * The one blind spot of such a check is a file written twice within one
 * tick of the file system's clock, the cache having been filled in
 * between: both writes leave the same ctime. So a file whose ctime is less
 * than RACY_MS old when it is read is never kept (as git treats "racily
 * clean" entries).
 *
 * Best effort throughout: a cache that cannot be read, is not the caller's
 * own (owner, mode), or does not parse is ignored, and one that cannot be
 * written is not; either way the files are read as if it did not exist.
 * Only settings that parsed are kept: a broken main.cf is read every time.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { readMainCf } from './defaults.js';

/** Where the cache lives unless POSTFLEET_CACHE_DIR says otherwise ('' turns it off). */
export const DEFAULT_CACHE_DIRECTORY = '/var/cache/postfleet';
const FILE = 'main.cf-settings.json';
const VERSION = 1;
/** Far above any file system's timestamp granularity (at most a jiffy on Linux). */
const RACY_MS = 2000;
/** The same margin within one run: still several jiffies (Linux stamps ctime with a clock of 1-10 ms ticks). */
const MEMORY_RACY_MS = 50;

/** [dev, ino, size, mtimeMs, ctimeMs, [name, value, name, value, ...]] */
type Entry = [number, number, number, number, number, string[]];

export interface SettingsCacheOptions {
  /** The cache's directory; undefined: no cache, every file is read. */
  readonly directory: string | undefined;
  /** How old a file's ctime must be for the file to be kept. */
  readonly racyMs?: number;
  /** Reads and parses one config directory's main.cf (readMainCf()). */
  readonly readFile?: (configDir: string) => Map<string, string>;
}

export function cacheDirectoryFromEnvironment(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env['POSTFLEET_CACHE_DIR'];
  if (dir === undefined) return DEFAULT_CACHE_DIRECTORY;
  return dir === '' ? undefined : dir;
}

export class SettingsCache {
  private readonly stored: Record<string, unknown>;
  /** Entries checked in this run: the valid ones, or null for one to drop. */
  private readonly checked = new Map<string, Entry | null>();
  private changed = false;
  private readonly racyMs: number;
  private readonly readFile: (configDir: string) => Map<string, string>;

  private constructor(
    private readonly directory: string | undefined,
    stored: Record<string, unknown>,
    options: SettingsCacheOptions,
    private readonly inMemory = false,
  ) {
    this.stored = stored;
    this.racyMs = options.racyMs ?? RACY_MS;
    this.readFile = options.readFile ?? readMainCf;
  }

  static open(options: SettingsCacheOptions = { directory: cacheDirectoryFromEnvironment() }): SettingsCache {
    const dir = options.directory;
    return new SettingsCache(dir, dir === undefined ? {} : loadStored(`${dir}/${FILE}`), options);
  }

  /**
   * A cache of this run alone, never read from or written to disk: a life-cycle transaction
   * reads the fleet once to plan, then again under the primary's lock, where a stat of each
   * main.cf tells which ones changed in between (on a thousand instances, most of a create).
   */
  static memory(readFile?: (configDir: string) => Map<string, string>): SettingsCache {
    return new SettingsCache(undefined, {}, { directory: undefined, racyMs: MEMORY_RACY_MS, ...(readFile ? { readFile } : {}) }, true);
  }

  /** readMainCf() through the cache: the same settings, or the same PostfleetError. */
  readonly read: (configDir: string) => Map<string, string> = (configDir) =>
    this.directory === undefined && !this.inMemory ? this.readFile(configDir) : this.readThrough(configDir);

  private readThrough(configDir: string): Map<string, string> {
    const path = `${configDir}/main.cf`;
    let st: Stats | undefined;
    try {
      st = statSync(path);
    } catch {
      st = undefined; // readFile() says why, in Postfix's words
    }
    const old = this.stored[path];
    if (st !== undefined && isEntry(old) && sameFile(old, st)) {
      this.checked.set(path, old);
      return settingsOf(old[5]);
    }
    // Stat first, read after: if the file changes in between, what is kept
    // is newer than the stat it is kept under, and the next run reads again.
    const startedAt = Date.now();
    let settings: Map<string, string>;
    try {
      settings = this.readFile(configDir);
    } catch (e) {
      this.forget(path, old);
      throw e;
    }
    if (st !== undefined && st.isFile() && startedAt - st.ctimeMs >= this.racyMs) {
      const entry: Entry = [st.dev, st.ino, st.size, st.mtimeMs, st.ctimeMs, [...settings].flat()];
      this.checked.set(path, entry);
      if (this.inMemory) this.stored[path] = entry;
      this.changed = true;
    } else {
      this.forget(path, old);
    }
    return settings;
  }

  /**
   * Writes the cache if this run changed it: the entries checked now, and
   * those of files this run did not look at (another primary's fleet, a
   * deported instance) as long as the files exist. Atomic (temporary file +
   * rename), so concurrent runs leave one whole cache or the other.
   */
  save(): void {
    if (!this.changed || this.directory === undefined) return;
    const entries: Record<string, Entry> = {};
    for (const [path, e] of Object.entries(this.stored)) {
      if (!this.checked.has(path) && isEntry(e) && existsSync(path)) entries[path] = e;
    }
    for (const [path, e] of this.checked) if (e !== null) entries[path] = e;
    const file = `${this.directory}/${FILE}`;
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      mkdirSync(this.directory, { recursive: true, mode: 0o700 });
      writeFileSync(tmp, JSON.stringify({ version: VERSION, entries }), { mode: 0o600 });
      renameSync(tmp, file);
      this.changed = false;
    } catch {
      try {
        unlinkSync(tmp);
      } catch {
        // never made
      }
    }
  }

  private forget(path: string, old: unknown): void {
    this.checked.set(path, null);
    if (this.inMemory) delete this.stored[path];
    if (old !== undefined) this.changed = true;
  }
}

/** The stored entries, if the file is ours alone and in this version's format; else none. */
function loadStored(file: string): Record<string, unknown> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return {};
  }
  try {
    const st = fstatSync(fd);
    // Settings from a file someone else could have written would decide
    // which instances get started: only the caller's own, unwritable by others.
    if (!st.isFile() || st.uid !== process.geteuid?.() || (st.mode & 0o022) !== 0) return {};
    const parsed: unknown = JSON.parse(readFileSync(fd, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null) return {};
    const { version, entries } = parsed as { version?: unknown; entries?: unknown };
    if (version !== VERSION || typeof entries !== 'object' || entries === null || Array.isArray(entries)) return {};
    return entries as Record<string, unknown>;
  } catch {
    return {};
  } finally {
    closeSync(fd);
  }
}

function isEntry(e: unknown): e is Entry {
  return Array.isArray(e) && e.length === 6 && Array.isArray(e[5]) && e[5].length % 2 === 0 && e[5].every((s) => typeof s === 'string');
}

function sameFile(e: Entry, st: Stats): boolean {
  return e[1] === st.ino && e[2] === st.size && e[4] === st.ctimeMs && e[3] === st.mtimeMs && e[0] === st.dev && st.isFile();
}

function settingsOf(flat: readonly string[]): Map<string, string> {
  const settings = new Map<string, string>();
  for (let k = 0; k < flat.length; k += 2) settings.set(flat[k] as string, flat[k + 1] as string);
  return settings;
}
