/**
 * Parameters of the selected instances, read natively: each instance's
 * main.cf in the context of the compiled-in defaults, values as
 * `postconf -xc DIR -h NAME` prints them (see maincf/expand.ts). One
 * `postconf -d` per run, never one process per instance.
 */
import { PostfleetError } from './errors.js';
import { instanceLabel, type FleetEntry, type Instance } from './instance.js';
import { loadDefaultsInBackground, readMainCf } from './maincf/defaults.js';
import { ParameterSet } from './maincf/expand.js';
import { SettingsCache } from './maincf/settings-cache.js';
import { loadFleet, readAhead, readingAhead, type Fleet, type MainCfReader } from './registry.js';

/** The fleet, and the parameters of any of its instances without reading its main.cf again. */
export interface FleetParameters {
  readonly fleet: Fleet;
  parametersOf(i: Instance): ParameterSet;
}

/**
 * loadFleetOverlapped() that keeps what it read: commands that then look
 * at each instance's parameters (config get, check, metrics) read every
 * main.cf once.
 */
export async function loadFleetParameters(
  options: {
    configDirectory?: string | undefined;
    postconf?: string | undefined;
    defaults?: ReadonlyMap<string, string> | undefined;
    /** Instead of the settings cache on disk (a life-cycle command's cache of its run). */
    read?: MainCfReader | undefined;
  } = {},
): Promise<FleetParameters> {
  const defaults = options.defaults ?? loadDefaultsInBackground(options.postconf);
  const cache = options.read ? undefined : SettingsCache.open();
  const readOne: MainCfReader = options.read ?? cache!.read;
  const kept = new Map<string, ReadonlyMap<string, string>>();
  const read: MainCfReader = (dir) => {
    const settings = readOne(dir);
    kept.set(dir, settings);
    return settings;
  };
  const fleet = loadFleet({ configDirectory: options.configDirectory, defaults: await defaults, read: readingAhead(readAhead(options.configDirectory, read), read) });
  cache?.save();
  return { fleet, parametersOf: parametersFrom(fleet, (dir) => kept.get(dir) ?? readMainCf(dir)) };
}

/** ParameterSets for the instances of `fleet`, each made once, from `read`. */
export function parametersFrom(fleet: Fleet, read: MainCfReader = readMainCf): (i: Instance) => ParameterSet {
  const made = new Map<string, ParameterSet>();
  return (i) => {
    if (i.primary) return fleet.primaryParameters;
    let set = made.get(i.configDirectory);
    if (set === undefined) {
      set = new ParameterSet(read(i.configDirectory), fleet.defaults, { configDirectory: i.configDirectory });
      made.set(i.configDirectory, set);
    }
    return set;
  };
}

/** A Postfix parameter name: what mac_parse() accepts after `$`. */
const PARAMETER_NAME = /^[A-Za-z0-9_]+$/;

/**
 * Refuses names that are not parameter names, and names that no instance
 * knows: neither a compiled-in default (which includes the parameters of
 * the stock master.cf services) nor set in any of the given main.cf files.
 * postconf only warns "unknown parameter" and prints nothing; a fleet-wide
 * query with a typo should fail loudly instead.
 */
export function checkParameterNames(names: readonly string[], defaults: ReadonlyMap<string, string>, sets: readonly ParameterSet[]): void {
  if (names.length === 0) throw new PostfleetError('no parameter name given');
  for (const name of names) {
    if (!PARAMETER_NAME.test(name)) throw new PostfleetError(`bad parameter name: '${name}'`);
    if (!defaults.has(name) && !sets.some((s) => s.isExplicit(name))) {
      throw new PostfleetError(`unknown parameter: '${name}' (not a Postfix parameter, and set in no selected main.cf)`);
    }
  }
}

export interface InstanceValues {
  readonly instance: string;
  readonly name: string | null;
  readonly group: string | null;
  readonly configDirectory: string;
  /**
   * Per parameter: the expanded value; null where the instance has no such
   * parameter (postconf: "unknown parameter", prints nothing), and with
   * --explicit where main.cf does not set it.
   */
  readonly values: Readonly<Record<string, string | null>>;
}

export interface InstanceValuesError {
  readonly instance: string;
  readonly configDirectory: string;
  readonly error: string;
}

/**
 * `postconf -xh NAMES` (or `-nxh` with explicit) of one instance. An
 * expansion error (postconf: "macro processing error") fails the whole
 * instance, as it does postconf.
 */
export function instanceValues(i: Instance, set: ParameterSet, names: readonly string[], explicit: boolean): InstanceValues | InstanceValuesError {
  try {
    const values: Record<string, string | null> = {};
    for (const n of names) values[n] = set.raw(n) === undefined || (explicit && !setInMainCf(set, n)) ? null : set.get(n);
    return { instance: instanceLabel(i), name: i.name ?? null, group: i.group ?? null, configDirectory: i.configDirectory, values };
  } catch (e) {
    if (!(e instanceof PostfleetError)) throw e;
    return { instance: instanceLabel(i), configDirectory: i.configDirectory, error: e.message };
  }
}

/** What `postconf -c DIR -n` counts as set: main.cf's settings, and config_directory (DIR itself). */
function setInMainCf(set: ParameterSet, name: string): boolean {
  return set.isExplicit(name) || name === 'config_directory';
}

/** Broken entries as the rows of a values table. */
export function brokenValues(e: FleetEntry & { kind: 'broken' }): InstanceValuesError {
  return { instance: e.broken.configDirectory, configDirectory: e.broken.configDirectory, error: e.broken.reason };
}
