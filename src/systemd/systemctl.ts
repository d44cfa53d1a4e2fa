/**
 * systemctl-aware start/stop/reload/restart. On a host where systemd is PID 1 and postfleet's
 * template unit is installed, masters must live in their units' cgroups, or `systemctl
 * status` lies about them: so `postfleet postfix start` (and the wrapper role's `postfix
 * start`) ask systemd to start postfleet@ID.service instead of running postfix(1) itself.
 *
 * Bypassed by --no-systemd, by POSTFLEET_NO_SYSTEMD=1 (set by postfleet@.service itself: a
 * unit's own commands must never call back into systemctl), and when this process already
 * runs inside a postfleet@ unit (whatever its environment says).
 */
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { postfixEnvironment, type PlannedRun } from '../instances/fanout/command-class.js';
import { PostfleetError } from '../instances/errors.js';
import { liveMaster } from './handover.js';
import { controlInstance, type Completed, type ControlSystem, type ControlVerb } from './control.js';
import { unitOf, UNIT_PREFIX, UNIT_SUFFIX, UNIT_TEMPLATE } from './units.js';

const NO_SYSTEMD_ENV = 'POSTFLEET_NO_SYSTEMD';
/** postfix(1) commands that become systemctl verbs (restart is systemd's own). */
const SYSTEMCTL_VERBS: readonly ControlVerb[] = ['start', 'stop', 'reload', 'restart'];

/** systemd's unit search path for the system manager, highest priority first. */
const UNIT_DIRECTORIES = [
  '/etc/systemd/system',
  '/run/systemd/system',
  '/usr/local/lib/systemd/system',
  '/lib/systemd/system',
  '/usr/lib/systemd/system',
] as const;

export interface SystemdContext {
  /** /run/systemd/system is a directory: systemd is PID 1 (sd_booted()). */
  readonly booted: boolean;
  /** postfleet@.service is found in the unit search path and not masked. */
  readonly unitInstalled: boolean;
  /** POSTFLEET_NO_SYSTEMD is set to 1/yes/true. */
  readonly disabledByEnvironment: boolean;
  /** This process runs in a postfleet@ unit's cgroup. */
  readonly insideUnit: boolean;
}

export interface Decision {
  readonly use: boolean;
  readonly reason: string;
}

export function decideSystemctl(verb: string | undefined, ctx: SystemdContext, noSystemdFlag = false): Decision {
  if (verb === undefined || !(SYSTEMCTL_VERBS as readonly string[]).includes(verb)) return { use: false, reason: `'${verb ?? ''}' is not a systemctl verb` };
  if (noSystemdFlag) return { use: false, reason: '--no-systemd' };
  if (ctx.disabledByEnvironment) return { use: false, reason: `${NO_SYSTEMD_ENV} is set` };
  if (ctx.insideUnit) return { use: false, reason: 'running inside a postfleet@ unit' };
  if (!ctx.booted) return { use: false, reason: 'systemd is not running (no /run/systemd/system)' };
  if (!ctx.unitInstalled) return { use: false, reason: `${UNIT_TEMPLATE} is not installed` };
  return { use: true, reason: 'systemd is running and postfleet@.service is installed' };
}

const truthy = (v: string | undefined): boolean => v !== undefined && /^(1|yes|true)$/i.test(v);

/** Whether a unit file is present and not masked (a link to /dev/null, or empty). */
function unitFileState(file: string): 'absent' | 'masked' | 'present' {
  try {
    const l = lstatSync(file);
    if (l.isSymbolicLink() && readlinkSync(file) === '/dev/null') return 'masked';
    const s = statSync(file);
    if (s.size === 0 || !s.isFile()) return 'masked';
    return 'present';
  } catch {
    return 'absent';
  }
}

/** Whether a unit file is found in systemd's search path, and not masked (the first one found counts). */
export function unitFileInstalled(unit: string, root = '/'): boolean {
  for (const dir of UNIT_DIRECTORIES) {
    const state = unitFileState(path.join(root, dir, unit));
    if (state !== 'absent') return state === 'present';
  }
  return false;
}

/** A cgroup path (the lines of /proc/self/cgroup) inside a postfleet@….service. */
export function cgroupIsPostfleetUnit(procSelfCgroup: string): boolean {
  return procSelfCgroup.split('\n').some((line) => {
    const p = line.split(':').slice(2).join(':');
    return p.split('/').some((c) => c.startsWith(UNIT_PREFIX) && c.endsWith(UNIT_SUFFIX));
  });
}

/** The context of this process; `root` lets tests stand a directory tree in for /. */
export function probeSystemd(env: NodeJS.ProcessEnv = process.env, root = '/'): SystemdContext {
  const at = (p: string): string => path.join(root, p);
  let booted = false;
  try {
    booted = lstatSync(at('/run/systemd/system')).isDirectory();
  } catch {
    booted = false;
  }
  const unitInstalled = unitFileInstalled(UNIT_TEMPLATE, root);
  let cgroup = '';
  try {
    cgroup = existsSync(at('/proc/self/cgroup')) ? readFileSync(at('/proc/self/cgroup'), 'utf8') : '';
  } catch {
    cgroup = '';
  }
  return {
    booted,
    unitInstalled,
    disabledByEnvironment: truthy(env[NO_SYSTEMD_ENV]),
    insideUnit: cgroupIsPostfleetUnit(cgroup),
  };
}

/**
 * A plan's runs under systemd: each enabled instance is started, stopped, reloaded or
 * restarted through its postfleet@ unit, checked before and after (control.ts), so that a
 * master found in another unit or outside systemd is still brought to the state asked for.
 * Disabled instances keep their own run (start-like: `postfix check`, as postmulti does), and
 * `restart` of a disabled instance checks it rather than starting it. An instance whose unit
 * name cannot be made keeps its direct run.
 */
export function systemctlRuns(runs: readonly PlannedRun[], verb: ControlVerb, commandDirectory: string, system: ControlSystem = liveControlSystem(commandDirectory)): PlannedRun[] {
  return runs.map((run) => {
    const i = run.instance;
    if (!i.enabled) {
      if (verb !== 'restart') return run;
      return { ...run, verb: 'check', file: `${commandDirectory}/postfix`, args: ['--', 'check'] };
    }
    const u = unitOf(i);
    if (!('unit' in u)) return run;
    const { fastStart: _unitStartsIt, ...plain } = run;
    return {
      ...plain,
      verb: `systemctl ${verb}`,
      file: 'systemctl',
      args: [verb, u.unit],
      env: {},
      task: () => controlInstance(verb, i, u.unit, system),
    };
  });
}

/**
 * postfix(1)'s own options cannot travel through systemctl: the unit runs its fixed command
 * line. Refused, never dropped (--no-systemd runs postfix(1) directly with them).
 */
export function refuseOptionsThroughSystemd(options: { readonly verbose?: number; readonly debug?: boolean; readonly fullCheck?: boolean }): void {
  const given = [options.fullCheck ? '--full-check' : '', options.debug ? '-D' : '', options.verbose ? '-v' : ''].filter(Boolean);
  if (given.length > 0) {
    throw new PostfleetError(`${given.join(', ')}: cannot be passed through systemctl to postfleet@.service units; add --no-systemd to run postfix(1) directly`);
  }
}

/** The running system: systemctl, postfix(1), the master's pid file and cgroup, the journal. */
export function liveControlSystem(commandDirectory: string): ControlSystem {
  const run = async (file: string, args: readonly string[], env?: Record<string, string>): Promise<Completed> => {
    const { execa } = await import('execa');
    const r = await execa(file, args, { reject: false, stdin: 'ignore', env: env ?? {}, extendEnv: true });
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? r.shortMessage ?? '') };
  };
  return {
    systemctl: (args) => run('systemctl', args),
    postfix: (instance, args) => run(`${commandDirectory}/postfix`, args, { ...postfixEnvironment(instance), [NO_SYSTEMD_ENV]: '1' }),
    master: liveMaster,
    // What the unit's own processes said (postfleet's and Postfix's lines), not systemd's about it.
    journal: async (unit, sinceMs) => (await run('journalctl', ['--no-pager', '-q', '-o', 'cat', '-n', '12', `_SYSTEMD_UNIT=${unit}`, `--since=@${(sinceMs / 1000).toFixed(6)}`])).stdout,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => Date.now(),
  };
}
