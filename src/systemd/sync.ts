/**
 * Life-cycle changes seen by systemd at once: a command that changes which instances exist,
 * their names or whether they are enabled reloads systemd's units (one daemon-reload per
 * command: postfleet-generator runs again), so that `systemctl start|stop|restart postfix`
 * reflects the change; and a running instance whose unit name changed (assign) is moved from
 * its old postfleet@ unit into its new one, checked like any restart.
 */
import type { ChangeReport } from '../instances/lifecycle/report.js';
import { instanceLabel } from '../instances/instance.js';
import { loadFleet } from '../instances/registry.js';
import { controlInstance, type ControlSystem } from './control.js';
import { isPostfleetUnit } from './handover.js';
import { liveControlSystem, probeSystemd, type SystemdContext } from './systemctl.js';
import { unitOf } from './units.js';

export interface SystemdSync {
  /** systemctl daemon-reload was run, and succeeded. */
  readonly reloaded: boolean;
  /** Running instances moved into their new unit, one line each. */
  readonly moved: readonly string[];
  readonly errors: readonly string[];
}

/** config set/unset change no instance's identity or state: the units stay as they are. */
const SETTINGS_ONLY = new Set(['set', 'unset']);

function changesUnits(report: ChangeReport): boolean {
  return !report.dryRun && report.instances.some((i) => i.changed && !SETTINGS_ONLY.has(i.action));
}

/** Where this applies: systemd runs, postfleet's units are installed, and we are not a unit's own command. */
function managesUnits(ctx: SystemdContext): boolean {
  return ctx.booted && ctx.unitInstalled && !ctx.disabledByEnvironment && !ctx.insideUnit;
}

export async function keepSystemdCurrent(
  report: ChangeReport,
  options: { readonly configDirectory?: string | undefined; readonly context?: SystemdContext; readonly system?: ControlSystem } = {},
): Promise<SystemdSync | undefined> {
  if (!changesUnits(report) || !managesUnits(options.context ?? probeSystemd())) return undefined;
  const fleet = loadFleet({ configDirectory: options.configDirectory });
  const sys = options.system ?? liveControlSystem(fleet.shared.commandDirectory);
  const reload = await sys.systemctl(['--no-ask-password', 'daemon-reload']);
  if (reload.exitCode !== 0) {
    return { reloaded: false, moved: [], errors: [`systemctl daemon-reload failed (exit ${reload.exitCode}): ${reload.stderr.trim()}; run it by hand`] };
  }
  const moved: string[] = [];
  const errors: string[] = [];
  const changed = new Set(report.instances.filter((r) => r.changed).map((r) => r.configDirectory));
  for (const e of fleet.entries) {
    if (e.kind !== 'ok' || !changed.has(e.instance.configDirectory) || !e.instance.enabled) continue;
    const i = e.instance;
    const u = unitOf(i);
    const master = sys.master(i);
    if (!('unit' in u) || master === undefined || !isPostfleetUnit(master.unit) || master.unit === u.unit) continue;
    const r = await controlInstance('restart', i, u.unit, sys);
    if (r.exitCode === 0) moved.push(`${instanceLabel(i)}: moved from ${master.unit ?? ''} into ${u.unit}`);
    else errors.push(`${instanceLabel(i)}: could not move from ${master.unit ?? ''} into ${u.unit}: ${r.output.trim().replace(/\n\s*/g, '; ')}`);
  }
  return { reloaded: true, moved, errors };
}

