/**
 * The instance registry: the primary plus its multi_instance_directories, read
 * natively (one `postconf -d` per run for the compiled-in defaults, never one
 * process per instance). A secondary that cannot be loaded is kept in the list
 * as broken, so that the others can still be listed and operated on.
 */
import { statSync } from 'node:fs';
import { ClaimTable, instanceClaims } from './claims.js';
import { PostfleetError } from './errors.js';
import { nonEmpty, parseBoolean, secondaryFromSettings, splitList, type BrokenInstance, type CommandLists, type FleetEntry, type Instance, type SharedSettings } from './instance.js';
import { loadDefaults, loadDefaultsInBackground, readMainCf } from './maincf/defaults.js';
import { ParameterSet } from './maincf/expand.js';
import { SettingsCache } from './maincf/settings-cache.js';
import { fsError } from './files.js';

export interface Fleet {
  readonly primaryConfigDirectory: string;
  /** The primary's parameters, for planning and editing. */
  readonly primaryParameters: ParameterSet;
  readonly shared: SharedSettings;
  readonly commands: CommandLists;
  /** Primary first, then the secondaries in list order. */
  readonly entries: readonly FleetEntry[];
  readonly defaults: ReadonlyMap<string, string>;
  /** Every name and directory claimed by the loaded instances, for adding more. */
  readonly claims: ClaimTable;
}

export interface LoadOptions {
  /** -c/--config-dir; else MAIL_CONFIG handling is the caller's, else the default. */
  readonly configDirectory?: string | undefined;
  /** Already-loaded `postconf -d` output, to keep to one postconf per run. */
  readonly defaults?: ReadonlyMap<string, string> | undefined;
  readonly postconf?: string | undefined;
  /** How a main.cf is read: readMainCf(), through a SettingsCache, from what was read ahead (readingAhead()). */
  readonly read?: MainCfReader | undefined;
}

/** The raw settings of DIR/main.cf, or a PostfleetError naming it (readMainCf()). */
export type MainCfReader = (configDir: string) => ReadonlyMap<string, string>;

/**
 * Raw main.cf settings by config directory, read before the compiled-in
 * defaults were known; a failure is kept, to be thrown where the read would
 * have been.
 */
export type ReadAhead = ReadonlyMap<string, ReadonlyMap<string, string> | PostfleetError>;

/** Where the primary's main.cf nearly always is: Postfix's compiled-in config_directory. */
const USUAL_CONFIG_DIRECTORY = '/etc/postfix';

/**
 * Reads the primary's main.cf and those of the secondaries it lists while
 * the defaults are not known yet: a guess, since the primary may be
 * elsewhere by default and multi_instance_directories may refer to other
 * parameters ($name), in which case nothing more is read ahead. loadFleet()
 * reads whatever it needs that is not here.
 */
export function readAhead(primaryDirectory: string = USUAL_CONFIG_DIRECTORY, readFile: MainCfReader = readMainCf): ReadAhead {
  const ahead = new Map<string, ReadonlyMap<string, string> | PostfleetError>();
  const read = (dir: string): void => {
    if (ahead.has(dir)) return;
    try {
      ahead.set(dir, readFile(dir));
    } catch (e) {
      if (!(e instanceof PostfleetError)) throw e;
      ahead.set(dir, e);
    }
  };
  read(primaryDirectory);
  const primary = ahead.get(primaryDirectory);
  const list = primary instanceof PostfleetError ? undefined : primary?.get('multi_instance_directories');
  if (list !== undefined && !list.includes('$')) for (const dir of splitList(list)) read(dir);
  return ahead;
}

/**
 * loadFleet() with its one `postconf -d` running on another core while the
 * main.cf files are read, through the settings cache: what the commands
 * that list the fleet or run something in each instance use (the
 * postmulti-style iterator does the same in compat/main.ts), where at a
 * thousand instances the files are the whole cost. Life-cycle actions
 * use loadFleet() on the files themselves.
 */
export async function loadFleetOverlapped(options: Omit<LoadOptions, 'defaults' | 'read'> = {}): Promise<Fleet> {
  const defaults = loadDefaultsInBackground(options.postconf);
  const cache = SettingsCache.open();
  const read = readingAhead(readAhead(options.configDirectory, cache.read), cache.read);
  const fleet = loadFleet({ ...options, defaults: await defaults, read });
  cache.save();
  return fleet;
}

/** A reader that serves what was read ahead (throwing a failure kept there) and reads anything else with `fallback`. */
export function readingAhead(ahead: ReadAhead, fallback: MainCfReader = readMainCf): MainCfReader {
  return (dir) => {
    const early = ahead.get(dir);
    if (early instanceof PostfleetError) throw early;
    return early ?? fallback(dir);
  };
}


export function loadFleet(options: LoadOptions = {}): Fleet {
  const defaults = options.defaults ?? loadDefaults(options.postconf);
  const primaryDir = options.configDirectory ?? defaults.get('config_directory') ?? '/etc/postfix';
  const read = options.read ?? readMainCf;
  const primaryParameters = new ParameterSet(read(primaryDir), defaults, { configDirectory: primaryDir });

  const shared: SharedSettings = {
    commandDirectory: primaryParameters.get('command_directory'),
    daemonDirectory: primaryParameters.get('daemon_directory'),
    metaDirectory: primaryParameters.get('meta_directory'),
    shlibDirectory: primaryParameters.get('shlib_directory'),
  };
  const commands: CommandLists = {
    start: splitList(primaryParameters.get('postmulti_start_commands')),
    stop: splitList(primaryParameters.get('postmulti_stop_commands')),
    control: splitList(primaryParameters.get('postmulti_control_commands')),
  };

  const claims = new ClaimTable();
  claimSharedDirectories(claims, primaryDir, shared);

  const secondaryDirs = splitList(primaryParameters.get('multi_instance_directories'));
  const entries: FleetEntry[] = [];
  entries.push(loadPrimary(primaryDir, primaryParameters, secondaryDirs.length === 0, claims));
  for (const dir of secondaryDirs) entries.push(loadSecondary(dir, defaults, claims, read));

  return { primaryConfigDirectory: primaryDir, primaryParameters, shared, commands, entries, defaults, claims };
}

/**
 * postmulti's check_shared_dir_status(): each shared directory that is a path
 * must exist and be a directory, and no instance may use it as a private one.
 * These are fatal: without them no instance can be run at all.
 */
function claimSharedDirectories(claims: ClaimTable, primaryDir: string, shared: SharedSettings): void {
  const table: Array<[string, string]> = [
    ['command_directory', shared.commandDirectory],
    ['daemon_directory', shared.daemonDirectory],
    ['meta_directory', shared.metaDirectory],
    ['shlib_directory', shared.shlibDirectory],
  ];
  for (const [param, value] of table) {
    if (!value.startsWith('/')) continue; // "no" or another special value
    let isDir: boolean;
    try {
      isDir = statSync(value).isDirectory();
    } catch (e) {
      throw fsError(`find ${param}`, value, e);
    }
    if (!isDir) throw new PostfleetError(`${param} = '${value}' is not a directory`);
    // meta_directory usually overlaps config_directory or others: not claimed.
    if (param !== 'meta_directory') claims.claimAll(primaryDir, [{ param, value }]);
  }
}

function loadPrimary(dir: string, params: ParameterSet, singleInstance: boolean, claims: ClaimTable): FleetEntry {
  const enable = parseBoolean(params.get('multi_instance_enable'));
  if (enable === undefined) {
    return broken(dir, true, `bad boolean configuration: multi_instance_enable = ${params.get('multi_instance_enable')}`);
  }
  const instance: Instance = {
    configDirectory: dir,
    queueDirectory: params.get('queue_directory'),
    dataDirectory: params.get('data_directory'),
    name: nonEmpty(params.get('multi_instance_name')),
    group: nonEmpty(params.get('multi_instance_group')),
    enabled: singleInstance || enable,
    primary: true,
  };
  const conflict = claims.claimAll(dir, instanceClaims(instance));
  return conflict ? broken(dir, true, conflict) : { kind: 'ok', instance };
}

/** Reads one secondary (secondaryFromSettings()); every failure makes it broken rather than fatal. */
function loadSecondary(dir: string, defaults: ReadonlyMap<string, string>, claims: ClaimTable, read: MainCfReader): FleetEntry {
  let instance: Instance;
  try {
    instance = secondaryFromSettings(dir, read(dir), defaults);
  } catch (e) {
    if (e instanceof PostfleetError) return broken(dir, false, e.message);
    throw e;
  }
  const conflict = claims.claimAll(dir, instanceClaims(instance));
  return conflict ? broken(dir, false, conflict) : { kind: 'ok', instance };
}

function broken(configDirectory: string, primary: boolean, reason: string): FleetEntry {
  const b: BrokenInstance = { configDirectory, primary, reason };
  return { kind: 'broken', broken: b };
}
