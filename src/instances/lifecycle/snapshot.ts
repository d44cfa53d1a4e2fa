/**
 * Everything a life-cycle plan reads from the machine, read in one go: the fleet, the
 * primary main.cf, the prototypes, postfix-files, the users and groups, and the state of
 * the directories the request is about. The planners (plan.ts and the modules it names)
 * read nothing else, so they are pure: the same snapshot gives the same plan, --dry-run
 * shows exactly what the real run does, and the planning is unit-tested on hand-made
 * snapshots without root or Postfix.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { Instance } from '../instance.js';
import { exists, fsError } from '../files.js';
import { readInstanceStatus } from '../observe/status.js';
import { decodeMainCf } from '../maincf/write.js';
import { readMainCf } from '../maincf/defaults.js';
import { loadFleet, type Fleet, type MainCfReader } from '../registry.js';
import { readPostfixFiles } from './postfix-files.js';
import { TEMPORARY_FILE } from './steps.js';

interface Prototype {
  readonly path: string;
  readonly text: string;
  readonly mode: number;
}

/** A directory the request names: an instance's config directory, existing or to be. */
export interface DirectoryState {
  /** main.cf as text; undefined when there is none. */
  readonly mainCf: string | undefined;
  /** Why main.cf exists but could not be read. */
  readonly mainCfError?: string | undefined;
  readonly masterCf: boolean;
  /** Debris of a create killed before its rename (steps.ts writes these names). */
  readonly temporaries: readonly string[];
  /** For removals: the master's pid (when running) and the messages queued. */
  readonly status?: { readonly pid: number | null; readonly queued: number } | undefined;
}

export interface Snapshot {
  readonly fleet: Fleet;
  /** The primary main.cf as it is (under the lock: what the lock holder read). */
  readonly primaryMainCf: string;
  readonly mainCfProto: Prototype | undefined;
  readonly masterCfProto: Prototype | undefined;
  /** $meta_directory/postfix-files and its drop-ins; undefined when unreadable. */
  readonly postfixFiles: string | undefined;
  readonly users: ReadonlyMap<string, number>;
  readonly groups: ReadonlyMap<string, number>;
  readonly directories: ReadonlyMap<string, DirectoryState>;
  /** Each listed instance's main.cf settings as the fleet was read from them, by config directory. */
  readonly settings: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

/** What to read besides the fleet: derived from the fleet and the request, without I/O. */
export interface SnapshotNeeds {
  /**
   * Config directories whose state the plan looks at, chosen from the fleet and its settings
   * (so a plan that edits a few of a thousand instances reads a few). Best effort: bad input is
   * the planner's to refuse.
   */
  readonly directories: (fleet: Fleet, settings: ReadonlyMap<string, ReadonlyMap<string, string>>) => readonly string[];
  /** Also the master's pid and the queue count of those directories' instances (deport, destroy). */
  readonly status?: boolean;
}

export interface SnapshotSource {
  readonly primaryConfigDirectory?: string | undefined;
  readonly defaults: ReadonlyMap<string, string>;
  /**
   * How main.cf settings are read, for every read of the run: a SettingsCache.memory() read,
   * so that the snapshot under the lock, and the check after the change, read again only the
   * files that changed. Default: a cache of the transaction's own.
   */
  readonly readSettings?: MainCfReader | undefined;
}

/** `readSettings`: how each main.cf's settings are read (transaction.ts reads them through a cache of its run). */
export function readSnapshot(source: SnapshotSource, needs: SnapshotNeeds, primaryMainCf?: string, readSettings: MainCfReader = readMainCf): Snapshot {
  const settings = new Map<string, ReadonlyMap<string, string>>();
  const read = (dir: string): ReadonlyMap<string, string> => {
    const m = readSettings(dir);
    settings.set(dir, m);
    return m;
  };
  const fleet = loadFleet({ configDirectory: source.primaryConfigDirectory, defaults: source.defaults, read });
  const primaryDir = fleet.primaryConfigDirectory;
  const meta = fleet.shared.metaDirectory;
  const sound = new Map(fleet.entries.flatMap((e) => (e.kind === 'ok' ? [[e.instance.configDirectory, e.instance] as const] : [])));
  const directories = new Map<string, DirectoryState>();
  for (const dir of needs.directories(fleet, settings)) {
    if (!directories.has(dir)) directories.set(dir, readDirectory(sound.get(dir), dir, Boolean(needs.status)));
  }
  return {
    fleet,
    primaryMainCf: primaryMainCf ?? readText(`${primaryDir}/main.cf`),
    mainCfProto: readPrototype(`${meta}/main.cf.proto`),
    masterCfProto: readPrototype(`${meta}/master.cf.proto`),
    postfixFiles: attempt(() => readPostfixFiles(meta)),
    users: idTable('/etc/passwd'),
    groups: idTable('/etc/group'),
    directories,
    settings,
  };
}

function readDirectory(i: Instance | undefined, dir: string, withStatus: boolean): DirectoryState {
  let mainCf: string | undefined;
  let mainCfError: string | undefined;
  try {
    mainCf = readText(`${dir}/main.cf`);
  } catch (e) {
    if (exists(`${dir}/main.cf`)) mainCfError = e instanceof Error ? e.message : String(e);
  }
  let status: DirectoryState['status'];
  if (withStatus && i !== undefined) {
    // One reading of the pid file and of each queue (an unreadable queue counts 0, as before).
    const read = readInstanceStatus(i);
    status = { pid: read.pid, queued: Object.values(read.queues).reduce<number>((n, c) => n + (c ?? 0), 0) };
  }
  return { mainCf, mainCfError, masterCf: exists(`${dir}/master.cf`), temporaries: temporariesIn(dir), status };
}

function readText(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw fsError('read', path, e);
  }
  return decodeMainCf(bytes).text;
}

function readPrototype(path: string): Prototype | undefined {
  return attempt(() => ({ path, text: readFileSync(path, 'utf8'), mode: statSync(path).mode & 0o7777 }));
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function temporariesIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => TEMPORARY_FILE.test(n))
      .sort()
      .map((n) => `${dir}/${n}`);
  } catch {
    return [];
  }
}

/** name → id of /etc/passwd or /etc/group (postfix and postdrop are always local system accounts). */
export function idTable(file: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of (attempt(() => readFileSync(file, 'utf8')) ?? '').split('\n')) {
    const parts = line.split(':');
    const id = Number(parts[2]);
    if (parts[0] && parts[2] !== '' && Number.isInteger(id) && !m.has(parts[0])) m.set(parts[0], id);
  }
  return m;
}
