/**
 * What the check looks at, gathered from the files and /proc: each
 * instance's parameters and master.cf, whether its master runs, which of
 * its directories exist, and instance-looking directories nobody listed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { instanceLabel, type Instance } from '../instance.js';
import { ParameterSet } from '../maincf/expand.js';
import { parseMasterCf, type MasterEntry } from '../mastercf/parse.js';
import { readTcpPorts } from '../mastercf/ports.js';
import type { Fleet } from '../registry.js';
import { isMasterRunning, readMasterPid } from '../observe/status.js';
import { parametersFrom } from '../parameters.js';
import { problemsIntroduced, type FleetFacts, type InstanceFacts, type Problem } from './problems.js';
import { fsError } from '../files.js';

/**
 * Parsed master.cf files by content: a fleet's instances mostly carry the
 * same file (made from one prototype), which is then parsed once.
 */
type MasterCache = Map<string, readonly MasterEntry[]>;

function readMaster(configDirectory: string, cache: MasterCache = new Map()): readonly MasterEntry[] | { error: string } {
  const path = `${configDirectory}/master.cf`;
  try {
    const text = readFileSync(path, 'utf8');
    let entries = cache.get(text);
    if (entries === undefined) {
      entries = parseMasterCf(text, path);
      cache.set(text, entries);
    }
    return entries;
  } catch (e) {
    return { error: fsError('read', path, e).message };
  }
}

const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

/** The master's pid file names a live master (no queue is read: metrics reads them once, itself). */
function isRunning(queueDirectory: string): boolean {
  const pid = readMasterPid(queueDirectory);
  return pid !== null && isMasterRunning(pid);
}

function instanceFacts(i: Instance, parameters: ParameterSet, masters?: MasterCache, live = true): InstanceFacts {
  if (!live) return { instance: i, label: instanceLabel(i), parameters, master: readMaster(i.configDirectory, masters), running: undefined, missing: [] };
  const missing = [
    ['config_directory', i.configDirectory],
    ['queue_directory', i.queueDirectory],
    ['data_directory', i.dataDirectory],
  ]
    .filter(([, path]) => !isDirectory(path!))
    .map(([param, path]) => ({ param: param!, path: path! }));
  return {
    instance: i,
    label: instanceLabel(i),
    parameters,
    master: readMaster(i.configDirectory, masters),
    running: isRunning(i.queueDirectory),
    missing,
  };
}

/**
 * An instance that is only planned (create, apply): its main.cf settings and
 * master.cf text as they would be written. Not running, no directory missing.
 */
export function plannedInstanceFacts(i: Instance, settings: ReadonlyMap<string, string>, defaults: ReadonlyMap<string, string>, masterCf: string): InstanceFacts {
  let master: InstanceFacts['master'];
  try {
    master = parseMasterCf(masterCf, `${i.configDirectory}/master.cf`);
  } catch (e) {
    master = { error: (e as Error).message };
  }
  const parameters = new ParameterSet(settings, defaults, { configDirectory: i.configDirectory });
  return { instance: i, label: instanceLabel(i), parameters, master, running: undefined, missing: [] };
}

/** `/etc/postfix-*` (siblings of the primary named like it) holding a main.cf, not in the list. */
function unlistedDirectories(fleet: Fleet): string[] {
  const primary = fleet.primaryConfigDirectory;
  const parent = dirname(primary);
  const prefix = `${basename(primary)}-`;
  const listed = new Set(fleet.entries.map((e) => (e.kind === 'ok' ? e.instance.configDirectory : e.broken.configDirectory)));
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(prefix))
    .map((n) => join(parent, n))
    .filter((d) => !listed.has(d) && isDirectory(d) && existsSync(`${d}/main.cf`))
    .sort();
}

/**
 * Facts of the whole fleet (the check looks across it whatever is selected). `live: false`
 * leaves out what only warnings look at (running masters, missing directories), as for
 * planned instances.
 */
export function gatherFleetFacts(fleet: Fleet, parametersOf: (i: Instance) => ParameterSet, extra: readonly InstanceFacts[] = [], options: { live?: boolean } = {}): FleetFacts {
  const ports = readTcpPorts();
  const masters: MasterCache = new Map();
  return {
    instances: [...fleet.entries.flatMap((e) => (e.kind === 'ok' ? [instanceFacts(e.instance, parametersOf(e.instance), masters, options.live ?? true)] : [])), ...extra],
    broken: fleet.entries.flatMap((e) => (e.kind === 'broken' ? [e.broken] : [])),
    unlisted: unlistedDirectories(fleet),
    port: (name) => ports.get(name),
  };
}

/**
 * The problems that planned instances (plannedInstanceFacts()) would add to
 * the fleet as it is: what create and apply print before (or after) they
 * write. Keep the errors with `.filter((p) => p.severity === 'error')`.
 */
export function problemsAddedBy(fleet: Fleet, planned: readonly InstanceFacts[], parametersOf: (i: Instance) => ParameterSet = parametersFrom(fleet)): Problem[] {
  const before = gatherFleetFacts(fleet, parametersOf);
  return problemsIntroduced(before, { ...before, instances: [...before.instances, ...planned] });
}
