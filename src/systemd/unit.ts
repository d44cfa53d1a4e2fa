/**
 * What postfleet@ID.service runs: `postfleet unit start|stop|reload ID`. The unit answers for
 * its own instance only: another instance that is broken is reported (one line each, in the
 * journal) but does not fail this unit, whereas postmulti -i X aborts on any broken instance.
 * Never goes through systemctl (it is what systemctl runs).
 */
import { existsSync } from 'node:fs';
import { postfixEnvironment, type PlannedRun } from '../instances/fanout/command-class.js';
import { PostfleetError } from '../instances/errors.js';
import { describeBroken, instanceLabel, type FleetEntry, type Instance } from '../instances/instance.js';
import { loadFleetParameters } from '../instances/parameters.js';
import { runPlan } from '../instances/fanout/runner.js';
import type { FastStart } from '../instances/start/fast-start.js';
import { fastStartFacts } from '../instances/start/plan.js';
import { isMasterRunning, readMasterPid } from '../instances/observe/status.js';
import { isService, unitOfProcess } from './cgroup.js';
import { entryOfUnit, unitName } from './units.js';

export const UNIT_ACTIONS = ['start', 'stop', 'reload'] as const;
export type UnitAction = (typeof UNIT_ACTIONS)[number];

/** Debian's per-instance start preparation (chroot refresh), run by its postfix@.service as ExecStartPre. */
const CONFIGURE_INSTANCE = '/usr/lib/postfix/configure-instance.sh';

export interface UnitActionOptions {
  readonly configDirectory?: string | undefined;
  /** Where broken instances and progress are reported (the journal, under systemd). */
  readonly warn: (line: string) => void;
  /** Postfix's own pre-start checks instead of the native ones (start/fast-start.ts). */
  readonly fullCheck?: boolean | undefined;
}

/** The instance of unit postfleet@ID.service, or an error naming the unit. */
export function resolveUnit(entries: readonly FleetEntry[], id: string): Instance {
  const entry = entryOfUnit(entries, id);
  const unit = unitName(id);
  if (entry === undefined) {
    throw new PostfleetError(`${unit}: no instance has this unit (the primary is '-', others their name or escaped config directory)`);
  }
  if (entry.kind === 'broken') throw new PostfleetError(`${unit}: ${describeBroken(entry.broken).replace(/^skipping /, '')}`);
  return entry.instance;
}

/**
 * The commands a unit action runs, in order: for start, Debian's configure-instance.sh (when
 * present) with MAIL_CONFIG naming the instance and `-` as its argument, so that it reads that
 * instance with plain postconf rather than through postmulti; then `postfix start|stop|reload`.
 * Start is a fast start (native pre-start checks, then Postfix's quick-start) unless the
 * unit asks for --full-check. Stop and reload act whatever multi_instance_enable says (the unit runs the master);
 * start refuses a disabled instance, whose unit the generator does not make.
 */
export function planUnitAction(
  action: UnitAction,
  instance: Instance,
  commandDirectory: string,
  configureInstance: string | undefined,
  fastStart?: FastStart,
): PlannedRun[] {
  if (action === 'start' && !instance.enabled) {
    throw new PostfleetError(
      `${instanceLabel(instance)} is disabled (multi_instance_enable = no): not started; enable it with 'postfleet enable'`,
    );
  }
  const env = postfixEnvironment(instance);
  const label = instanceLabel(instance);
  const runs: PlannedRun[] = [];
  if (action === 'start' && configureInstance !== undefined) {
    runs.push({ instance, label, verb: 'configure-instance', file: configureInstance, args: ['-'], env });
  }
  runs.push({ instance, label, verb: action, file: `${commandDirectory}/postfix`, args: ['--', action], env, ...(action === 'start' && fastStart ? { fastStart } : {}) });
  return runs;
}

/**
 * Runs the action; the exit status is that of the first command that failed, else 0.
 *
 * The unit answers for the master in its own cgroup. Start leaves a master that another
 * service unit runs alone (Conflicts= stops Debian's postfix@ of the same instance before
 * this unit starts; a master under another postfleet@ unit, e.g. after a rename, keeps
 * running there) and takes over one started outside any service unit (stopped, then started
 * here). Stop never stops a master this unit does not run. A disabled instance is not started
 * and does not fail its unit, which then simply ends: `systemctl restart postfix` after a
 * disable leaves no failed unit.
 */
export async function runUnitAction(action: UnitAction, id: string, options: UnitActionOptions): Promise<number> {
  const { fleet, parametersOf } = await loadFleetParameters({ configDirectory: options.configDirectory });
  const own = unitOfProcess('self');
  // A unit whose instance was renamed since it started (assign) still stops what it runs.
  const instance = action !== 'start' && entryOfUnit(fleet.entries, id) === undefined ? (runningHere(fleet.entries, own) ?? resolveUnit(fleet.entries, id)) : resolveUnit(fleet.entries, id);
  for (const e of fleet.entries) if (e.kind === 'broken') options.warn(`warning: ${describeBroken(e.broken)}`);
  const label = instanceLabel(instance);
  const pid = readMasterPid(instance.queueDirectory);
  const master = pid !== null && isMasterRunning(pid) ? { pid, unit: unitOfProcess(pid) } : undefined;
  const here = master !== undefined && master.unit === own;
  const elsewhere = master === undefined ? '' : master.unit !== undefined ? `in ${master.unit}` : `outside any service unit (pid ${master.pid})`;
  const direct = (verb: UnitAction): Promise<number> => runDirect(verb, instance, fleet.shared.commandDirectory, undefined, options);
  switch (action) {
    case 'start': {
      if (!instance.enabled) {
        options.warn(`${label} is disabled (multi_instance_enable = no): not started; enable it with 'postfleet enable'`);
        return 0;
      }
      if (master !== undefined && here) return 0;
      if (master !== undefined && isService(master.unit)) {
        options.warn(`${label} already runs ${elsewhere}: not started in ${own ?? 'this unit'}`);
        return 0;
      }
      if (master !== undefined) {
        options.warn(`${label}: its master runs ${elsewhere}; stopping it to start it in ${own ?? 'this unit'}`);
        const stopped = await direct('stop');
        if (stopped !== 0) return stopped;
      }
      const configure = existsSync(CONFIGURE_INSTANCE) ? CONFIGURE_INSTANCE : undefined;
      const fast = !options.fullCheck ? fastStartFacts(fleet, parametersOf, [])?.(instance) : undefined;
      return runDirect('start', instance, fleet.shared.commandDirectory, configure, options, fast);
    }
    case 'stop':
      if (master === undefined) return 0;
      if (!here) {
        options.warn(`${label}: its master runs ${elsewhere}, not in ${own ?? 'this unit'}: left running`);
        return 0;
      }
      return direct('stop');
    case 'reload':
      if (master === undefined) {
        options.warn(`${label} is not running: nothing to reload`);
        return 1;
      }
      return direct('reload');
  }
}

/** The instance whose master runs in this unit's cgroup (none outside a unit). */
function runningHere(entries: readonly FleetEntry[], own: string | undefined): Instance | undefined {
  if (own === undefined) return undefined;
  for (const e of entries) {
    if (e.kind !== 'ok') continue;
    const pid = readMasterPid(e.instance.queueDirectory);
    if (pid !== null && isMasterRunning(pid) && unitOfProcess(pid) === own) return e.instance;
  }
  return undefined;
}

async function runDirect(action: UnitAction, instance: Instance, commandDirectory: string, configure: string | undefined, options: UnitActionOptions, fast?: FastStart): Promise<number> {
  for (const run of planUnitAction(action, instance, commandDirectory, configure, fast)) {
    const [result] = await runPlan([run], { parallel: 1, mode: 'inherit' });
    const code = result?.exitCode ?? 1;
    if (code !== 0) {
      options.warn(`${run.verb} of ${run.label} failed (exit ${code}): ${[run.file, ...run.args].join(' ')}`);
      return code;
    }
  }
  return 0;
}
