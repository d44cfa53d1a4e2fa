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
import type { PlannedRun } from '../instances/fanout/command-class.js';
import { unitOf, UNIT_PREFIX, UNIT_SUFFIX, UNIT_TEMPLATE } from './units.js';

const NO_SYSTEMD_ENV = 'POSTFLEET_NO_SYSTEMD';
/** postfix(1) commands that become systemctl verbs (restart is systemd's own). */
const SYSTEMCTL_VERBS: readonly string[] = ['start', 'stop', 'reload', 'restart'];

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
  if (verb === undefined || !SYSTEMCTL_VERBS.includes(verb)) return { use: false, reason: `'${verb ?? ''}' is not a systemctl verb` };
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
  let unitInstalled = false;
  for (const dir of UNIT_DIRECTORIES) {
    const state = unitFileState(at(path.join(dir, UNIT_TEMPLATE)));
    if (state === 'absent') continue;
    unitInstalled = state === 'present';
    break;
  }
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
 * A plan's runs as systemctl runs: `systemctl VERB postfleet@ID.service` for each enabled
 * instance, one at a time in the plan's order (list order; stop in reverse), so the result of
 * each instance is its own and systemd orders nothing behind our back. Disabled instances keep
 * their own run (start-like: `postfix check`, as postmulti does), and `restart` of a disabled
 * instance checks it rather than starting it. An instance whose unit name cannot be made keeps
 * its direct run.
 */
export function systemctlRuns(runs: readonly PlannedRun[], verb: string, commandDirectory: string): PlannedRun[] {
  return runs.map((run) => {
    const i = run.instance;
    if (!i.enabled) {
      if (verb !== 'restart') return run;
      return { ...run, verb: 'check', file: `${commandDirectory}/postfix`, args: ['--', 'check'] };
    }
    const u = unitOf(i);
    if (!('unit' in u)) return run;
    // The unit does the start (fast, by postfleet unit start); systemctl is all we run.
    const { fastStart: _unitStartsIt, ...plain } = run;
    return {
      ...plain,
      verb: `systemctl ${verb}`,
      file: 'systemctl',
      args: ['--no-ask-password', '--no-pager', verb, u.unit],
      env: {},
    };
  });
}
