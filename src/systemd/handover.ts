/**
 * Hand-over between Debian's postfix@ units and postfleet's postfleet@ units, one instance at
 * a time, each down no longer than its own restart.
 *
 *  - adopt (the package's postinst, or by hand): every enabled instance whose master runs
 *    anywhere but in its own postfleet@ unit is moved into it: the unit that runs it is
 *    stopped (or `postfix stop` for a master no service unit runs), then its postfleet@ unit
 *    is started. Instances that are not running stay stopped.
 *  - release (the package's prerm on removal): every master in a postfleet@ unit goes back to
 *    Debian's postfix@ unit of the same instance; a nameless or disabled instance, which
 *    Debian's units cannot run, is started by postfix(1) directly.
 *
 * planHandover() is pure; moveInstance() does one move and checks it; if the new home fails,
 * the instance is started again where it ran.
 */
import type { PlannedRun } from '../instances/fanout/command-class.js';
import type { Instance } from '../instances/instance.js';
import { instanceLabel } from '../instances/instance.js';
import { isMasterRunning, readMasterPid } from '../instances/observe/status.js';
import { unitOfProcess } from './cgroup.js';
import { controlInstance, unmet, type Completed, type ControlSystem, type Master } from './control.js';
import { unitInstanceId, unitOf, UNIT_PREFIX } from './units.js';

export type Direction = 'adopt' | 'release';

/** Debian's template (postfix package): what release hands the instances back to. */
export const DEBIAN_TEMPLATE = 'postfix@.service';

export interface Move {
  readonly instance: Instance;
  readonly label: string;
  /** The unit the master runs in now (undefined: none). */
  readonly from: string | undefined;
  readonly pid: number;
  /** A unit, or undefined: started by postfix(1) directly, in no unit. */
  readonly to: string | undefined;
}

export interface HandoverPlan {
  readonly moves: readonly Move[];
  /** Instances left as they are, and why (one line each). */
  readonly left: readonly string[];
}

export const isPostfleetUnit = (unit: string | undefined): boolean => unit !== undefined && unit.startsWith(UNIT_PREFIX) && unit.endsWith('.service');

/** Debian's unit for an instance: postfix@-, postfix@NAME; none for a nameless secondary. */
export function debianUnitOf(i: Instance): string | undefined {
  if (!i.primary && i.name === undefined) return undefined;
  const id = unitInstanceId(i);
  return id === undefined ? undefined : `postfix@${id}.service`;
}

export function planHandover(direction: Direction, instances: readonly Instance[], masterOf: (i: Instance) => Master | undefined, debianTemplate: boolean): HandoverPlan {
  const moves: Move[] = [];
  const left: string[] = [];
  for (const i of instances) {
    const label = instanceLabel(i);
    const master = masterOf(i);
    if (master === undefined) continue;
    const where = master.unit ?? 'no unit';
    if (direction === 'adopt') {
      const u = unitOf(i);
      if (!('unit' in u)) {
        left.push(`${label}: ${u.error}: left in ${where}`);
        continue;
      }
      if (master.unit === u.unit) continue;
      if (!i.enabled) {
        left.push(`${label}: disabled, its master left in ${where} (postfleet's units run enabled instances only)`);
        continue;
      }
      moves.push({ instance: i, label, from: master.unit, pid: master.pid, to: u.unit });
    } else {
      if (!isPostfleetUnit(master.unit)) continue;
      const debian = debianTemplate && i.enabled ? debianUnitOf(i) : undefined;
      if (debian === undefined) left.push(`${label}: ${!i.enabled ? 'disabled' : debianTemplate ? 'nameless' : `no ${DEBIAN_TEMPLATE}`}: Debian's units cannot run it; started by postfix(1) in no unit`);
      moves.push({ instance: i, label, from: master.unit, pid: master.pid, to: debian });
    }
  }
  return { moves, left };
}

export interface MoveOutcome {
  readonly exitCode: number;
  readonly output: string;
}

const ok = (r: Completed): boolean => r.exitCode === 0;

/** One move, checked: the master runs in its new home, or, failing that, where it ran. */
export async function moveInstance(move: Move, sys: ControlSystem, settleMs = 15_000): Promise<MoveOutcome> {
  const { instance } = move;
  const home = (u: string | undefined): string => u ?? 'no unit';
  const lines = [`${home(move.from)} -> ${home(move.to)}`];
  const fail = async (why: string): Promise<MoveOutcome> => {
    lines.push(why);
    // Back where it ran: a failed move must not leave the instance down.
    if (sys.master(instance) === undefined) {
      const back = move.from !== undefined ? await sys.systemctl(['--no-ask-password', '--no-pager', 'start', move.from]) : await sys.postfix(instance, ['--', 'start']);
      lines.push(ok(back) && sys.master(instance) !== undefined ? `started again in ${home(move.from)}` : `could not start it again in ${home(move.from)}: it is down`);
    }
    return { exitCode: 1, output: `${lines.join('\n')}\n` };
  };
  if (move.to !== undefined && move.to.startsWith(UNIT_PREFIX)) {
    // Into postfleet@: the checked restart of control.ts moves a master from wherever it runs.
    const r = await controlInstance('restart', instance, move.to, sys, settleMs);
    if (r.exitCode !== 0) return fail(r.output.trim());
    return { exitCode: 0, output: `${lines.join('\n')}\n` };
  }
  const stop = move.from !== undefined ? await sys.systemctl(['--no-ask-password', '--no-pager', 'stop', move.from]) : await sys.postfix(instance, ['--', 'stop']);
  if (!ok(stop)) return fail(`stop in ${home(move.from)} failed (exit ${stop.exitCode}): ${stop.stderr.trim()}`);
  const start = move.to !== undefined ? await sys.systemctl(['--no-ask-password', '--no-pager', 'start', move.to]) : await sys.postfix(instance, ['--', 'start']);
  if (!ok(start)) return fail(`start in ${home(move.to)} failed (exit ${start.exitCode}): ${start.stderr.trim()}`);
  const expect = { running: true as const, unit: move.to, newPid: move.pid };
  const deadline = sys.now() + settleMs;
  let why = unmet(expect, sys.master(instance));
  while (why !== undefined && sys.now() < deadline) {
    await sys.sleep(100);
    why = unmet(expect, sys.master(instance));
  }
  if (why !== undefined) return fail(`not moved: ${why}`);
  return { exitCode: 0, output: `${lines.join('\n')}\n` };
}

export interface UnitPlacement {
  readonly instance: string;
  readonly configDirectory: string;
  readonly enabled: boolean;
  /** Its postfleet@ unit (null when its name cannot be a unit's). */
  readonly unit: string | null;
  readonly pid: number | null;
  /** The unit whose cgroup holds its master (null: not running, or in no unit). */
  readonly runsIn: string | null;
}

/** Where each instance's master runs, read from its pid file and /proc. */
export function unitPlacements(instances: readonly Instance[], masterOf: (i: Instance) => Master | undefined = liveMaster): UnitPlacement[] {
  return instances.map((i) => {
    const u = unitOf(i);
    const m = masterOf(i);
    return { instance: instanceLabel(i), configDirectory: i.configDirectory, enabled: i.enabled, unit: 'unit' in u ? u.unit : null, pid: m?.pid ?? null, runsIn: m?.unit ?? null };
  });
}

/** The master of an instance on this system: its pid file names a live master; and the unit holding it. */
export function liveMaster(i: Instance): Master | undefined {
  const pid = readMasterPid(i.queueDirectory);
  if (pid === null || !isMasterRunning(pid)) return undefined;
  return { pid, unit: unitOfProcess(pid) };
}

/** The moves as runs for the fan-out (one at a time: each is a restart of its own). */
export function handoverRuns(plan: HandoverPlan, direction: Direction, sys: ControlSystem): PlannedRun[] {
  return plan.moves.map((m) => ({
    instance: m.instance,
    label: m.label,
    verb: direction,
    file: 'systemctl',
    args: [m.from ?? 'no unit', '->', m.to ?? 'no unit'],
    env: {},
    task: () => moveInstance(m, sys),
  }));
}
