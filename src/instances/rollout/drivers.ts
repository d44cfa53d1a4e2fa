/**
 * What rolls: `postfix reload|restart|start` over the selection, `config set|unset` with its
 * reload, and `apply`. Each gives the roll-out its members (in list or manifest order), the
 * batch change (a transaction whose undo log is kept) and the activation, run as `postfleet
 * postfix CMD` runs it.
 */
import { planPostfixCommand, type PlannedRun } from '../fanout/command-class.js';
import { runPlan, type RunResult } from '../fanout/runner.js';
import type { Instance } from '../instance.js';
import { applyManifestUndoable, editConfigUndoable } from '../lifecycle/actions.js';
import type { DesiredInstance } from '../lifecycle/apply.js';
import type { ChangeReport } from '../lifecycle/report.js';
import type { LifecycleContext, Transaction } from '../lifecycle/transaction.js';
import type { MainCfEdit } from '../maincf/edit.js';
import { liveMaster } from '../probe/master.js';
import type { ProbeContext } from '../probe/probe.js';
import { loadFleet } from '../registry.js';
import type { FleetSelection } from '../selection.js';
import type { RolloutSettings } from './options.js';
import { plannedRollout, runRollout, type Activation, type ActivationResult, type Member, type RolloutDriver, type RolloutEvent, type RolloutReport } from './rollout.js';

/** The selection's postfix(1) commands as `postfleet postfix CMD` runs them (through systemctl on a systemd host). */
export interface PostfixRuns {
  runs(verb: 'reload' | 'restart' | 'stop' | 'start'): readonly PlannedRun[];
  /** systemctl restart is one command; postfix(1) has no restart: stop (if running), then start. */
  readonly restartInOne: boolean;
  /** Instances of a batch in flight at once. */
  readonly parallel: number;
}

/** The `postfix reload` runs of a configuration roll-out (as config set --reload runs them), planned afresh for each batch (apply may enable or disable). */
export function reloadRuns(configDirectory: string | undefined, defaults: ReadonlyMap<string, string>, parallel: number): PostfixRuns {
  return {
    runs: (verb) => {
      const fleet = loadFleet({ configDirectory, defaults });
      return planPostfixCommand(fleet.entries, fleet.shared, fleet.commands, { selectors: [] }, [verb]).runs;
    },
    restartInOne: false,
    parallel,
  };
}

export interface RolloutContext {
  readonly settings: RolloutSettings;
  readonly commands: PostfixRuns;
  readonly probe: Omit<ProbeContext, 'signal'>;
  readonly emit: (e: RolloutEvent) => void;
}

/** `postfix reload|restart|start --rolling`: the members are the runs `postfleet postfix CMD` would make, in the same order. */
export function rollPostfixCommand(verb: Activation, rc: RolloutContext): Promise<RolloutReport> {
  const members = rc.commands.runs(verb === 'restart' ? 'start' : verb).map((r): Member => ({ instance: r.instance, label: r.label, changes: [] }));
  return runRollout(members, rc.settings, {
    activation: verb,
    activate: (m, v) => activate(rc.commands, m, v),
    running: isRunning,
    // start and restart of a disabled instance only check it (postmulti's rule): nothing to probe.
    probes: (i) => verb === 'reload' || i.enabled,
    probe: rc.probe,
  }, rc.emit);
}

/** `config set|unset --rolling`: batch by batch, edit (one transaction), reload the running ones, probe. */
export function rollConfigEdit(ctx: LifecycleContext, selection: FleetSelection, edits: readonly MainCfEdit[], rc: RolloutContext): Promise<RolloutReport> {
  return rollChange(ctx, rc, (c) => editConfigUndoable(c, selection, edits), (c, batch) => editConfigUndoable(c, { selectors: batch.map((m) => ({ type: 'name', name: m.instance.configDirectory })) }, edits));
}

/** `apply --rolling`: the manifest's sections batch by batch, each batch applied as one transaction. */
export function rollApply(ctx: LifecycleContext, desired: readonly DesiredInstance[], rc: RolloutContext): Promise<RolloutReport> {
  return rollChange(
    ctx,
    rc,
    (c) => applyManifestUndoable(c, desired),
    (c, batch) => {
      const names = new Set(batch.map((m) => m.label));
      return applyManifestUndoable(c, desired.filter((d) => names.has(d.name)));
    },
  );
}

async function rollChange(
  ctx: LifecycleContext,
  rc: RolloutContext,
  whole: (c: LifecycleContext) => Promise<Transaction>,
  batchChange: (c: LifecycleContext, batch: readonly Member[]) => Promise<Transaction>,
): Promise<RolloutReport> {
  // The whole change planned first (a dry run): bad input is refused before any batch, and the batches hold only what changes.
  const preview = (await whole({ ...ctx, dryRun: true })).report;
  const { members, unchanged } = membersOf(ctx, preview);
  const extra = { unchanged, warnings: preview.warnings, failed: preview.failed };
  if (ctx.dryRun) return plannedRollout(members, rc.settings, 'reload', true, extra);
  const driver: RolloutDriver = {
    activation: 'reload',
    edit: (batch) => batchChange(ctx, batch),
    activate: (m, v) => activate(rc.commands, m, v),
    // What `reload` reaches: enabled instances whose master runs (postmulti skips disabled ones).
    running: (i) => i.enabled && isRunning(i),
    probes: () => true,
    probe: rc.probe,
  };
  return runRollout(members, rc.settings, driver, rc.emit, extra);
}

/** The instances a change report says change (members), and those it leaves as they are. */
function membersOf(ctx: LifecycleContext, report: ChangeReport): { members: Member[]; unchanged: Member[] } {
  const fleet = loadFleet({ configDirectory: ctx.primaryConfigDirectory, defaults: ctx.defaults, read: ctx.readSettings });
  const known = new Map(fleet.entries.flatMap((e) => (e.kind === 'ok' ? [[e.instance.configDirectory, e.instance] as const] : [])));
  const members: Member[] = [];
  const unchanged: Member[] = [];
  for (const r of report.instances) {
    // An instance the change creates has no queue yet: never running, so edited only.
    const instance: Instance = known.get(r.configDirectory) ?? { configDirectory: r.configDirectory, queueDirectory: '', dataDirectory: '', name: r.name ?? undefined, group: undefined, enabled: false, primary: false };
    (r.changed ? members : unchanged).push({ instance, label: r.instance, changes: r.changes });
  }
  return { members, unchanged };
}

const isRunning = (i: Instance): boolean => i.queueDirectory !== '' && liveMaster(i.queueDirectory) !== null;

/**
 * Runs `verb` on the members, as `postfleet postfix VERB` runs it, concurrently; answers per
 * config directory. restart without systemctl: stop where a master runs, then start.
 */
async function activate(commands: PostfixRuns, members: readonly Member[], verb: Activation): Promise<Map<string, ActivationResult>> {
  const dirs = new Set(members.map((m) => m.instance.configDirectory));
  const pick = (v: 'reload' | 'restart' | 'stop' | 'start', only: ReadonlySet<string> = dirs): PlannedRun[] => commands.runs(v).filter((r) => only.has(r.instance.configDirectory));
  const out = new Map<string, ActivationResult>();
  const run = async (runs: readonly PlannedRun[]): Promise<RunResult[]> => (runs.length === 0 ? [] : runPlan(runs, { parallel: commands.parallel, mode: 'pty' }));
  if (verb === 'restart' && !commands.restartInOne) {
    const running = new Set(members.filter((m) => isRunning(m.instance)).map((m) => m.instance.configDirectory));
    const stopped = await run(pick('stop', running));
    const stopFailed = new Map(stopped.filter((r) => r.exitCode !== 0).map((r) => [r.configDirectory, r]));
    for (const [dir, r] of stopFailed) out.set(dir, result(r, 'stop'));
    const started = await run(pick('start', new Set([...dirs].filter((d) => !stopFailed.has(d)))));
    const stopMs = new Map(stopped.map((r) => [r.configDirectory, r.durationMs]));
    for (const r of started) {
      const res = result(r, r.exitCode === 0 ? undefined : 'start');
      out.set(r.configDirectory, { ...res, durationMs: res.durationMs + (stopMs.get(r.configDirectory) ?? 0) });
    }
    return out;
  }
  for (const r of await run(pick(verb))) out.set(r.configDirectory, result(r));
  // Not in the command's plan (an instance a change just disabled: postmulti's rule skips it).
  for (const d of dirs) if (!out.has(d)) out.set(d, { ok: true, durationMs: 0, detail: `not ${verb}ed: disabled` });
  return out;
}

function result(r: RunResult, phase?: string): ActivationResult {
  if (r.exitCode === 0) return { ok: true, durationMs: r.durationMs };
  const last = r.output.trim().split('\n').filter((l) => l.trim() !== '').pop()?.trim();
  return { ok: false, durationMs: r.durationMs, detail: `${phase !== undefined ? `${phase} ` : ''}exit ${r.exitCode}${last ? `: ${last}` : ''}` };
}
