/**
 * A roll-out: the instances in batches, each batch changed (a configuration change: one
 * transaction over the batch), activated (reload, restart or start) and probed before the
 * next is touched. Instances not reached are never touched.
 *
 * - A failure (activation or probe) counts against --max-failed. Within it, a configuration
 *   change is undone on the failed instance alone (undo, reload back, probe again) and the
 *   roll-out goes on. Past it, the roll-out stops; a configuration change is undone on the
 *   whole batch, which is reloaded back and probed again.
 * - The undo is the batch transaction's own undo log: it puts a main.cf back only if it still
 *   holds what postfleet wrote, and otherwise says so; such an instance keeps the change and
 *   is reported.
 * - A signal (SIGINT, SIGTERM, SIGHUP) stops it: the batch in flight finishes what it cannot
 *   leave half-done (an edit is undone, a reload or restart that ran is let finish), a
 *   configuration change of that batch is undone and reloaded back, probes are cut short, and
 *   no further batch starts. So every instance is fully old or fully new, and the report says
 *   which.
 */
import type { Instance } from '../instance.js';
import type { UndoLog } from '../lifecycle/execute.js';
import type { ChangeReport } from '../lifecycle/report.js';
import type { Skipped } from '../lifecycle/plan.js';
import { childrenOf, liveMaster, waitForOldDaemons } from '../probe/master.js';
import { probeInstance, type InstanceProbe, type MasterExpectation, type ProbeContext } from '../probe/probe.js';
import { batchesOf, batchSize, type RolloutSettings } from './options.js';

export type Activation = 'reload' | 'restart' | 'start';
type StepName = 'edit' | Activation | 'probe' | 'undo' | 'reload back' | 'probe again';

interface StepRecord {
  readonly step: StepName;
  readonly ok: boolean;
  readonly durationMs: number;
  /** Why it failed, or what it found (the probe's summary). */
  readonly detail?: string;
}

/**
 * done: changed/activated and healthy (or edited only: not running); failed: it failed and
 * keeps what it got; rolled back: its change was undone (it failed, its batch failed, or the
 * roll-out was interrupted); interrupted: activated, not probed (a signal); not reached;
 * unchanged: the change was no change for it.
 */
type Outcome = 'done' | 'failed' | 'rolled back' | 'interrupted' | 'not reached' | 'unchanged';

interface MemberReport {
  readonly instance: string;
  readonly configDirectory: string;
  /** 1-based, reached or not; null for an instance no batch holds (nothing to change). */
  readonly batch: number | null;
  readonly outcome: Outcome;
  /** A configuration change: whether its main.cf carries the new value now. null: no configuration change. */
  readonly carriesChange: boolean | null;
  /** What the change does to it (the edits), as the change report says. */
  readonly changes: readonly string[];
  readonly steps: readonly StepRecord[];
  /** The last probe, if any. */
  readonly probe: InstanceProbe | null;
  readonly error?: string;
  readonly durationMs: number;
}

export interface RolloutReport {
  /** Whether any instance was changed, restarted, reloaded or started (and still is: a rolled-back change is no change). */
  readonly changed: boolean;
  readonly dryRun: boolean;
  readonly activation: Activation;
  readonly batchSize: number;
  readonly batches: number;
  readonly maxFailed: number;
  /** Every batch was done. */
  readonly completed: boolean;
  /** Where and why it stopped; null when completed. */
  readonly stopped: { readonly batch: number; readonly reason: string } | null;
  /** The signal that stopped it, if one did. */
  readonly interrupted: NodeJS.Signals | null;
  /** Instances that failed (activation or probe), rolled back or not. */
  readonly failures: number;
  readonly instances: readonly MemberReport[];
  readonly warnings: readonly string[];
  /** Selected instances that are broken: reported and skipped (as in every change report). */
  readonly failed: readonly Skipped[];
  readonly durationMs: number;
}

export interface Member {
  readonly instance: Instance;
  readonly label: string;
  /** What the change does to it (empty for a plain reload/restart/start). */
  readonly changes: readonly string[];
}

export interface ActivationResult {
  readonly ok: boolean;
  readonly durationMs: number;
  /** postfix(1)'s or systemctl's last line when it failed. */
  readonly detail?: string;
}

export interface RolloutDriver {
  readonly activation: Activation;
  /** The batch's configuration change, one transaction with its undo log kept; absent for a plain reload/restart/start. */
  readonly edit?: (batch: readonly Member[]) => Promise<{ readonly report: ChangeReport; readonly undo: UndoLog }>;
  /** Runs `verb` on the members (concurrently), answering per config directory. */
  readonly activate: (members: readonly Member[], verb: Activation) => Promise<ReadonlyMap<string, ActivationResult>>;
  /** Whether an instance's master runs (the instances a configuration change reloads). */
  readonly running: (i: Instance) => boolean;
  /** Whether `verb` acts on it at all (start of a disabled instance only checks it: nothing to probe). */
  readonly probes: (i: Instance) => boolean;
  readonly probe: Omit<ProbeContext, 'signal'>;
}

export type RolloutEvent =
  | { readonly type: 'batch'; readonly index: number; readonly count: number; readonly instances: readonly string[] }
  | { readonly type: 'step'; readonly instance: string; readonly step: StepName; readonly state: 'start' | 'ok' | 'failed'; readonly detail?: string; readonly durationMs?: number }
  /** Where an instance stands once its batch is over. */
  | { readonly type: 'outcome'; readonly instance: string; readonly outcome: Outcome; readonly error?: string }
  | { readonly type: 'pause'; readonly ms: number }
  | { readonly type: 'stop'; readonly batch: number; readonly reason: string };

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** How long a reloaded master's old daemons are waited for before the probe (busy ones finish a session first). */
const OLD_DAEMONS_MS = 3000;

class MemberState {
  outcome: Outcome = 'not reached';
  carriesChange: boolean | null;
  batch: number | null = null;
  changes: readonly string[];
  readonly steps: StepRecord[] = [];
  probe: InstanceProbe | null = null;
  error: string | undefined;
  started = 0;
  durationMs = 0;
  /** Its master before the activation (reload: the one that must still run). */
  masterBefore: number | null = null;

  constructor(
    readonly member: Member,
    configChange: boolean,
  ) {
    this.carriesChange = configChange ? false : null;
    this.changes = member.changes;
  }

  get dir(): string {
    return this.member.instance.configDirectory;
  }

  report(): MemberReport {
    return {
      instance: this.member.label,
      configDirectory: this.dir,
      batch: this.batch,
      outcome: this.outcome,
      carriesChange: this.carriesChange,
      changes: this.changes,
      steps: this.steps,
      probe: this.probe,
      ...(this.error !== undefined ? { error: this.error } : {}),
      durationMs: this.durationMs,
    };
  }
}

export async function runRollout(
  members: readonly Member[],
  settings: RolloutSettings,
  driver: RolloutDriver,
  emit: (e: RolloutEvent) => void,
  extra: { readonly unchanged?: readonly Member[]; readonly warnings?: readonly string[]; readonly failed?: readonly Skipped[] } = {},
): Promise<RolloutReport> {
  const started = performance.now();
  const configChange = driver.edit !== undefined;
  const states = new Map(members.map((m) => [m.instance.configDirectory, new MemberState(m, configChange)]));
  const unchanged = (extra.unchanged ?? []).map((m) => {
    const s = new MemberState(m, configChange);
    s.outcome = 'unchanged';
    return s;
  });
  const batches = batchesOf(members, settings.batch);
  // Each instance's batch, reached or not: the report says where it stands in the plan.
  batches.forEach((b, k) => b.forEach((m) => (states.get(m.instance.configDirectory)!.batch = k + 1)));
  const warnings = [...(extra.warnings ?? [])];
  const signals = new SignalWatch();
  let failures = 0;
  let stopped: RolloutReport['stopped'] = null;
  const run = new BatchRun(driver, settings, emit, signals);
  try {
    for (let b = 0; b < batches.length && stopped === null; b++) {
      const batch = batches[b]!.map((m) => states.get(m.instance.configDirectory)!);
      if (signals.caught) {
        stopped = { batch: b + 1, reason: `interrupted by ${signals.caught} before batch ${b + 1}` };
        break;
      }
      emit({ type: 'batch', index: b + 1, count: batches.length, instances: batch.map((s) => s.member.label) });
      const outcome = await run.batch(batch, b + 1, settings.maxFailed - failures);
      failures += outcome.failures;
      warnings.push(...outcome.warnings);
      if (outcome.stop !== undefined) stopped = { batch: b + 1, reason: outcome.stop };
      else if (b + 1 < batches.length && settings.pauseMs > 0) {
        emit({ type: 'pause', ms: settings.pauseMs });
        await signals.sleep(settings.pauseMs);
      }
    }
    if (stopped === null && signals.caught && batches.length > 0) stopped = { batch: batches.length, reason: `interrupted by ${signals.caught}` };
  } finally {
    signals.release();
  }
  if (stopped !== null) emit({ type: 'stop', batch: stopped.batch, reason: stopped.reason });
  const all = [...states.values(), ...unchanged];
  const instances = all.map((s) => s.report());
  return {
    changed: all.some((s) => (configChange ? s.carriesChange === true : s.outcome === 'done' || s.outcome === 'interrupted' || (s.outcome === 'failed' && s.steps.some((st) => st.step === driver.activation)))),
    dryRun: false,
    activation: driver.activation,
    batchSize: batchSize(settings.batch, members.length),
    batches: batches.length,
    maxFailed: settings.maxFailed,
    completed: stopped === null,
    stopped,
    interrupted: signals.caught ?? null,
    failures,
    instances,
    warnings,
    failed: extra.failed ?? [],
    durationMs: Math.round(performance.now() - started),
  };
}

/** The plan a --dry-run shows: the batches, nothing done. */
export function plannedRollout(members: readonly Member[], settings: RolloutSettings, activation: Activation, configChange: boolean, extra: { unchanged?: readonly Member[]; warnings?: readonly string[]; failed?: readonly Skipped[] } = {}): RolloutReport {
  const batches = batchesOf(members, settings.batch);
  const at = new Map(batches.flatMap((b, k) => b.map((m) => [m.instance.configDirectory, k + 1] as const)));
  const report = (m: Member, outcome: Outcome): MemberReport => ({
    instance: m.label,
    configDirectory: m.instance.configDirectory,
    batch: at.get(m.instance.configDirectory) ?? null,
    outcome,
    carriesChange: configChange ? false : null,
    changes: m.changes,
    steps: [],
    probe: null,
    durationMs: 0,
  });
  return {
    changed: members.length > 0,
    dryRun: true,
    activation,
    batchSize: batchSize(settings.batch, members.length),
    batches: batches.length,
    maxFailed: settings.maxFailed,
    completed: false,
    stopped: null,
    interrupted: null,
    failures: 0,
    instances: [...members.map((m) => report(m, 'not reached')), ...(extra.unchanged ?? []).map((m) => report(m, 'unchanged'))],
    warnings: [...(extra.warnings ?? [])],
    failed: extra.failed ?? [],
    durationMs: 0,
  };
}

/** One batch: edit, activate, probe; on failure undo, reload back, probe again. */
class BatchRun {
  constructor(
    private readonly driver: RolloutDriver,
    private readonly settings: RolloutSettings,
    private readonly emit: (e: RolloutEvent) => void,
    private readonly signals: SignalWatch,
  ) {}

  private record(s: MemberState, step: StepName, ok: boolean, durationMs: number, detail?: string): void {
    s.steps.push({ step, ok, durationMs, ...(detail !== undefined ? { detail } : {}) });
    this.emit({ type: 'step', instance: s.member.label, step, state: ok ? 'ok' : 'failed', durationMs, ...(detail !== undefined ? { detail } : {}) });
  }

  private begin(members: readonly MemberState[], step: StepName): number {
    for (const s of members) this.emit({ type: 'step', instance: s.member.label, step, state: 'start' });
    return performance.now();
  }

  async batch(batch: readonly MemberState[], index: number, failuresAllowed: number): Promise<{ failures: number; warnings: string[]; stop?: string }> {
    const warnings: string[] = [];
    for (const s of batch) s.started = performance.now();
    const finish = (): void => {
      for (const s of batch) {
        s.durationMs = Math.round(performance.now() - s.started);
        this.emit({ type: 'outcome', instance: s.member.label, outcome: s.outcome, ...(s.error !== undefined && s.outcome !== 'done' ? { error: s.error } : {}) });
      }
    };
    try {
      let undo: UndoLog | undefined;
      let changed = batch;
      let acting = batch;
      if (this.driver.edit) {
        const edited = await this.edit(batch, warnings);
        if ('stop' in edited) return { failures: 0, warnings, stop: edited.stop };
        undo = edited.undo;
        changed = edited.changed;
        if (this.signals.caught) {
          await this.rollBack(changed, [], undo, `interrupted by ${this.signals.caught} after the edit`, warnings, true);
          return { failures: 0, warnings, stop: `interrupted by ${this.signals.caught}` };
        }
        // A change reaches the running instances through their reload; the others carry it on disk only.
        const idle = changed.filter((s) => !this.driver.running(s.member.instance));
        for (const s of idle) {
          s.outcome = 'done';
          warnings.push(`${s.member.label}: not running: changed on disk, not reloaded or probed`);
        }
        acting = changed.filter((s) => !idle.includes(s));
      }
      const activated = await this.activate(acting, this.driver.activation);
      const healthy = this.signals.caught ? new Set<MemberState>() : await this.probe(activated, 'probe');
      if (this.signals.caught) {
        const why = `interrupted by ${this.signals.caught}`;
        // A probe cut short says nothing of the instance: the signal is why it is undone.
        for (const s of acting) if (!healthy.has(s)) s.error = why;
        if (undo) await this.rollBack(changed, activated, undo, why, warnings, true);
        else for (const s of acting) s.outcome = !activated.includes(s) ? 'failed' : healthy.has(s) ? 'done' : 'interrupted';
        return { failures: 0, warnings, stop: why };
      }
      const failed = acting.filter((s) => !healthy.has(s));
      for (const s of acting) s.outcome = healthy.has(s) ? 'done' : 'failed';
      if (failed.length > failuresAllowed) {
        const reason = `${failed.length} of ${batch.length} instance${batch.length === 1 ? '' : 's'} of batch ${index} failed${this.settings.maxFailed > 0 ? ` (more than --max-failed ${this.settings.maxFailed} in all)` : ''}: ${failed.map((s) => s.member.label).join(', ')}`;
        if (undo) await this.rollBack(changed, activated, undo, `batch ${index} failed`, warnings, true);
        return { failures: failed.length, warnings, stop: reason };
      }
      if (failed.length > 0 && undo) await this.rollBack(failed, activated, undo, 'its probe failed', warnings, false);
      return { failures: failed.length, warnings };
    } finally {
      finish();
    }
  }

  /** The batch's transaction; answers the members it changed (the others are unchanged), or why the roll-out stops. */
  private async edit(batch: readonly MemberState[], warnings: string[]): Promise<{ changed: MemberState[]; undo: UndoLog } | { stop: string }> {
    const t0 = this.begin(batch, 'edit');
    let tx: { report: ChangeReport; undo: UndoLog };
    try {
      tx = await this.driver.edit!(batch.map((s) => s.member));
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const ms = Math.round(performance.now() - t0);
      for (const s of batch) {
        this.record(s, 'edit', false, ms, message);
        s.outcome = 'failed';
        s.error = message;
        // An incomplete undo names its files: only those may still carry the change.
        s.carriesChange = message.includes('undo incomplete') && message.includes(`${s.dir}/main.cf`);
      }
      return { stop: message };
    }
    warnings.push(...tx.report.warnings);
    const ms = Math.round(performance.now() - t0);
    const byDir = new Map(tx.report.instances.map((r) => [r.configDirectory, r]));
    const changed: MemberState[] = [];
    for (const s of batch) {
      const r = byDir.get(s.dir);
      if (r?.changed) {
        s.changes = r.changes;
        s.carriesChange = true;
        changed.push(s);
        this.record(s, 'edit', true, ms, `${r.changes.length} change${r.changes.length === 1 ? '' : 's'}`);
      } else {
        s.outcome = 'unchanged';
        this.record(s, 'edit', true, ms, 'nothing to change');
      }
    }
    return { changed, undo: tx.undo };
  }

  /** Runs the activation; answers the members it succeeded on. Signals wait: a reload or restart is never left half-done. */
  private async activate(members: readonly MemberState[], verb: Activation, step: StepName = verb): Promise<MemberState[]> {
    if (members.length === 0) return [];
    const before = new Map<number, number[]>();
    for (const s of members) s.masterBefore = liveMaster(s.member.instance.queueDirectory);
    if (verb === 'reload') {
      const masters = new Set(members.flatMap((s) => (s.masterBefore === null ? [] : [s.masterBefore])));
      for (const [m, kids] of childrenOf(masters)) before.set(m, kids);
    }
    this.begin(members, step);
    const results = await this.driver.activate(
      members.map((s) => s.member),
      verb,
    );
    const ok: MemberState[] = [];
    for (const s of members) {
      const r = results.get(s.dir) ?? { ok: false, durationMs: 0, detail: 'not run' };
      this.record(s, step, r.ok, r.durationMs, r.detail);
      if (r.ok) ok.push(s);
      else s.error = `${step}: ${r.detail ?? 'failed'}`;
    }
    // Probe what the reload made live, not an idle daemon of the old configuration.
    if (verb === 'reload' && before.size > 0) await waitForOldDaemons(before, Math.min(OLD_DAEMONS_MS, this.settings.probe.timeoutMs), this.signals.abort);
    return ok;
  }

  /** Probes the members; answers the healthy ones (and those with nothing to probe). */
  private async probe(members: readonly MemberState[], step: 'probe' | 'probe again'): Promise<Set<MemberState>> {
    const healthy = new Set<MemberState>();
    const probed = members.filter((s) => this.driver.probes(s.member.instance));
    for (const s of members) if (!probed.includes(s)) healthy.add(s);
    if (probed.length === 0) return healthy;
    this.begin(probed, step);
    const ctx: ProbeContext = { ...this.driver.probe, signal: this.signals.abort };
    await Promise.all(
      probed.map(async (s) => {
        const p = await probeInstance(s.member.instance, ctx, this.expectation(s));
        s.probe = p;
        this.record(s, step, p.healthy, p.durationMs, p.healthy ? summary(p) : p.error);
        if (p.healthy) healthy.add(s);
        else s.error = `${step}: ${p.error}`;
      }),
    );
    return healthy;
  }

  private expectation(s: MemberState): MasterExpectation {
    const verb = this.driver.activation;
    if (verb === 'reload' && s.masterBefore !== null) return { kind: 'same', pid: s.masterBefore };
    if (verb === 'restart') return { kind: 'new', previous: s.masterBefore };
    return { kind: 'running' };
  }

  /**
   * Undoes the change of `members` (the batch transaction's undo log, scoped to them), reloads
   * back those that were reloaded, probes them again. A member whose main.cf someone changed
   * since keeps it (and the change): reported, failed.
   */
  private async rollBack(members: readonly MemberState[], reloaded: readonly MemberState[], undo: UndoLog, why: string, warnings: string[], whole: boolean): Promise<void> {
    if (members.length === 0 && !whole) return;
    const t0 = this.begin(members, 'undo');
    // The whole batch: every entry of the transaction, the primary main.cf's own included.
    const problems = await undo.rollback(whole ? undefined : new Set(members.map((s) => s.dir)));
    const ms = Math.round(performance.now() - t0);
    const restored: MemberState[] = [];
    for (const s of members) {
      const mine = problems.filter((p) => p.scope === s.dir || p.path.startsWith(`${s.dir}/`));
      if (mine.length === 0) {
        this.record(s, 'undo', true, ms);
        s.carriesChange = false;
        s.outcome = 'rolled back';
        s.error = s.error ?? why;
        restored.push(s);
      } else {
        const reason = mine.map((p) => `${p.path}: ${p.reason}`).join('; ');
        this.record(s, 'undo', false, ms, reason);
        s.outcome = 'failed';
        s.error = `${s.error ?? why}; not undone: ${reason}`;
      }
    }
    for (const p of problems) if (!members.some((s) => p.scope === s.dir || p.path.startsWith(`${s.dir}/`))) warnings.push(`undo: ${p.path}: ${p.reason}`);
    const back = restored.filter((s) => reloaded.includes(s));
    const reloadedBack = await this.activateBack(back);
    // Stopping on a signal: the old configuration is back and live; no probe holds the exit up.
    if (this.signals.caught) return;
    const healthy = await this.probe(reloadedBack, 'probe again');
    for (const s of reloadedBack) if (!healthy.has(s)) s.error = `${s.error}; and after the undo: ${s.probe?.error ?? 'unhealthy'}`;
  }

  /** The reload that makes an undone change live again; a restart or start that ran is undone by the reload of the old files as well. */
  private async activateBack(members: readonly MemberState[]): Promise<MemberState[]> {
    if (members.length === 0) return [];
    const ok = await this.activate(members, 'reload', 'reload back');
    for (const s of members) if (!ok.includes(s)) s.outcome = 'failed';
    return ok;
  }
}

/** One line of what a healthy probe found. */
function summary(p: InstanceProbe): string {
  const services = p.services.map((s) => ('address' in s ? `${s.address} ${s.command}${s.tls ? ' (TLS)' : ''}` : s.service));
  return `master ${p.master.pid}; ${services.length === 0 ? 'no inet service' : services.join(', ')}`;
}

/** SIGINT, SIGTERM and SIGHUP held off for the whole roll-out: caught, they stop it between safe points. */
class SignalWatch {
  caught: NodeJS.Signals | undefined;
  private readonly controller = new AbortController();
  private readonly handlers: Array<readonly [NodeJS.Signals, () => void]>;

  constructor() {
    this.handlers = SIGNALS.map((sig) => {
      const h = (): void => {
        this.caught ??= sig;
        this.controller.abort();
      };
      process.on(sig, h);
      return [sig, h] as const;
    });
  }

  get abort(): AbortSignal {
    return this.controller.signal;
  }

  /** The pause between batches, cut short by a signal. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.controller.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.controller.signal.addEventListener('abort', done, { once: true });
    });
  }

  release(): void {
    for (const [sig, h] of this.handlers) process.off(sig, h);
  }
}
