/**
 * What the rolling commands share on the command line: the flags, their checked values, the
 * progress lines (batch x of y, each instance's step and the probe's result) and the exit
 * status. The roll-out itself is instances/rollout/.
 */
import * as Flags from '@oclif/core/flags';
import { PostfleetError } from '../instances/errors.js';
import type { PlannedRun } from '../instances/fanout/command-class.js';
import { loadDefaults } from '../instances/maincf/defaults.js';
import { readTcpPorts } from '../instances/mastercf/ports.js';
import type { ProbeContext } from '../instances/probe/probe.js';
import { DEFAULT_PROBE_TIMEOUT, parseBatch, parseDuration, parseMaxFailed, parseProbeRcpt, type ProbeSettings, type RolloutSettings } from '../instances/rollout/options.js';
import type { Activation, RolloutEvent, RolloutReport } from '../instances/rollout/rollout.js';

export const probeFlags = {
  'probe-timeout': Flags.string({ description: `time limit of each probe (default ${DEFAULT_PROBE_TIMEOUT})`, helpValue: 'DURATION' }),
  'probe-rcpt': Flags.string({ description: "RCPT TO address of the probe (default: postmaster@ the instance's myhostname); none: stop after EHLO", helpValue: 'ADDRESS|none' }),
};

export const rollingFlags = {
  rolling: Flags.boolean({ description: 'batch by batch: each batch changed, reloaded (or restarted, started) and probed before the next; stop at the first failure past --max-failed' }),
  batch: Flags.string({ description: 'with --rolling: instances per batch, a number or a percentage (default 1)', helpValue: 'N|N%' }),
  pause: Flags.string({ description: 'with --rolling: wait this long between batches (default 0)', helpValue: 'DURATION' }),
  'max-failed': Flags.string({ description: 'with --rolling: failed instances tolerated before the roll-out stops (default 0)', helpValue: 'N' }),
  ...probeFlags,
};

interface ProbeFlagValues {
  readonly 'probe-timeout'?: string | undefined;
  readonly 'probe-rcpt'?: string | undefined;
}

interface RollingFlagValues extends ProbeFlagValues {
  readonly rolling?: boolean | undefined;
  readonly batch?: string | undefined;
  readonly pause?: string | undefined;
  readonly 'max-failed'?: string | undefined;
}

export function probeSettings(flags: ProbeFlagValues): ProbeSettings {
  return {
    timeoutMs: parseDuration(flags['probe-timeout'] ?? DEFAULT_PROBE_TIMEOUT, '--probe-timeout', { allowZero: false }),
    rcpt: parseProbeRcpt(flags['probe-rcpt']),
  };
}

/** The roll-out's settings, or undefined without --rolling (then its own flags are refused: they would be ignored). */
export function rolloutSettings(flags: RollingFlagValues): RolloutSettings | undefined {
  const probe = probeSettings(flags);
  if (!flags.rolling) {
    const stray = (['batch', 'pause', 'max-failed', 'probe-timeout', 'probe-rcpt'] as const).find((f) => flags[f] !== undefined);
    if (stray !== undefined) throw new PostfleetError(`--${stray} is a roll-out setting: give --rolling too`);
    return undefined;
  }
  return {
    batch: flags.batch === undefined ? { count: 1 } : parseBatch(flags.batch),
    pauseMs: flags.pause === undefined ? 0 : parseDuration(flags.pause, '--pause', { allowZero: true }),
    maxFailed: flags['max-failed'] === undefined ? 0 : parseMaxFailed(flags['max-failed']),
    probe,
  };
}

/** The probe's context: the compiled-in defaults (one postconf -d) and /etc/services. */
export function probeContext(probe: ProbeSettings, defaults: ReadonlyMap<string, string> = loadDefaults()): Omit<ProbeContext, 'signal'> {
  const ports = readTcpPorts();
  return { defaults, port: (name) => ports.get(name), timeoutMs: probe.timeoutMs, rcpt: probe.rcpt };
}

/** Runs of a postfix(1) command for a roll-out, by verb, each plan made once. */
export function memoRuns(make: (verb: 'reload' | 'restart' | 'stop' | 'start') => readonly PlannedRun[]): (verb: 'reload' | 'restart' | 'stop' | 'start') => readonly PlannedRun[] {
  const made = new Map<string, readonly PlannedRun[]>();
  return (verb) => {
    let runs = made.get(verb);
    if (runs === undefined) {
      runs = make(verb);
      made.set(verb, runs);
    }
    return runs;
  };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** Progress as plain lines, in the order things happen (on stderr with --json: stdout is the report's). */
function progressLines(log: (line: string) => void): (e: RolloutEvent) => void {
  return (e) => {
    switch (e.type) {
      case 'batch':
        log(`batch ${e.index} of ${e.count}: ${e.instances.join(', ')}`);
        return;
      case 'step':
        if (e.state === 'start') return;
        log(`  ${e.instance}: ${e.step}: ${e.state === 'ok' ? (e.step.startsWith('probe') ? 'healthy' : 'ok') : 'FAILED'}${e.detail !== undefined ? ` (${e.detail})` : ''}${e.durationMs !== undefined ? `, ${seconds(e.durationMs)}` : ''}`);
        return;
      case 'outcome':
        return; // the summary says it
      case 'pause':
        log(`pause ${seconds(e.ms)}`);
        return;
      case 'stop':
        log(`stopped at batch ${e.batch}: ${e.reason}`);
        return;
    }
  };
}

const counted = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The closing lines: which instances are where (and, for a configuration change, which carry it). */
function renderRolloutSummary(report: RolloutReport, log: (line: string) => void): void {
  const by = (pred: (i: RolloutReport['instances'][number]) => boolean): string[] => report.instances.filter(pred).map((i) => i.instance);
  const line = (what: string, names: readonly string[]): void => {
    if (names.length > 0) log(`${what}: ${names.join(', ')}`);
  };
  if (report.dryRun) {
    log(`would roll ${counted(report.instances.filter((i) => i.batch !== null).length, 'instance')} in ${counted(report.batches, 'batch', 'batches')} of ${report.batchSize}:`);
    for (let b = 1; b <= report.batches; b++) log(`  batch ${b}: ${by((i) => i.batch === b).join(', ')}`);
    line('unchanged', by((i) => i.outcome === 'unchanged'));
    return;
  }
  log(report.completed ? `rolled out: ${counted(report.batches, 'batch', 'batches')}` : `roll-out stopped at batch ${report.stopped?.batch} of ${report.batches}`);
  line('done', by((i) => i.outcome === 'done'));
  line('failed', by((i) => i.outcome === 'failed'));
  line('rolled back', by((i) => i.outcome === 'rolled back'));
  line('interrupted (reloaded, not probed)', by((i) => i.outcome === 'interrupted'));
  line('not reached', by((i) => i.outcome === 'not reached'));
  line('unchanged', by((i) => i.outcome === 'unchanged'));
  if (report.instances.some((i) => i.carriesChange !== null)) line('carry the change', by((i) => i.carriesChange === true));
}

/** 128 + the signal's number when one stopped it; 1 when it stopped, an instance failed, or one was skipped; else 0. */
function rolloutExitCode(report: RolloutReport): number {
  if (report.interrupted !== null) return 128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as Record<string, number>)[report.interrupted]!;
  if (!report.dryRun && (!report.completed || report.failures > 0)) return 1;
  return report.failed.length > 0 || report.instances.some((i) => i.outcome === 'failed') ? 1 : 0;
}

/** Warnings and skipped instances on stderr, as the other changing commands print them. */
function renderRolloutWarnings(report: RolloutReport): void {
  for (const w of report.warnings) process.stderr.write(`postfleet: warning: ${w}\n`);
  for (const f of report.failed) process.stderr.write(`postfleet: ${f.error}\n`);
}

/**
 * Runs a roll-out with its progress lines, then its summary, warnings and exit status; answers
 * the report (what --json prints). A roll-out takes minutes: with --json its progress still
 * shows, on stderr.
 */
export async function rollWithProgress(json: boolean, log: (line: string) => void, roll: (emit: (e: RolloutEvent) => void) => Promise<RolloutReport>): Promise<RolloutReport> {
  // A terminal that says how wide it is gets a live task list per batch (as runWithProgress()).
  const live = !json && process.stdout.isTTY && (process.stdout.columns ?? 0) > 0 && !process.env['CI'] ? new BatchTaskList(log) : undefined;
  const report = await roll(live ? (e) => live.emit(e) : progressLines(json ? (l) => process.stderr.write(`${l}\n`) : log));
  await live?.end();
  if (!json) renderRolloutSummary(report, log);
  renderRolloutWarnings(report);
  const status = rolloutExitCode(report);
  if (status !== 0) process.exitCode = status;
  return report;
}

/** The postfix(1) commands that roll; anything else is refused before anything runs. */
export function rollingVerb(command: readonly string[]): Activation {
  const [verb = '', ...rest] = command;
  if (verb !== 'reload' && verb !== 'restart' && verb !== 'start') {
    throw new PostfleetError(`cannot roll '${command.join(' ')}': --rolling works with reload, restart and start`);
  }
  if (rest.length > 0) throw new PostfleetError(`cannot roll '${command.join(' ')}': postfix ${verb} takes no arguments with --rolling`);
  return verb;
}

/**
 * The live view on a terminal: a listr2 task list per batch (after a line naming the batch),
 * one task per instance whose title follows its steps, failed tasks marked. Events are
 * synchronous and listr2 renders asynchronously: each batch's list starts once the one before
 * has finished drawing, and titles set before a task ran are kept for it.
 */
class BatchTaskList {
  private chain: Promise<void> = Promise.resolve();
  private batch: { finish: () => void; titles: Map<string, string>; failed: Map<string, string>; tasks: Map<string, { title: string }> } | undefined;

  constructor(private readonly log: (line: string) => void) {}

  emit(e: RolloutEvent): void {
    switch (e.type) {
      case 'batch':
        this.finish();
        this.start(`batch ${e.index} of ${e.count}`, e.instances);
        return;
      case 'step': {
        const b = this.batch;
        if (b === undefined) return;
        const title =
          e.state === 'start'
            ? `${e.instance}: ${e.step} …`
            : `${e.instance}: ${e.step}: ${e.state === 'ok' ? (e.step.startsWith('probe') ? 'healthy' : 'ok') : 'FAILED'}${e.detail !== undefined ? ` (${e.detail})` : ''}`;
        b.titles.set(e.instance, title);
        const task = b.tasks.get(e.instance);
        if (task) task.title = title;
        return;
      }
      case 'outcome': {
        const b = this.batch;
        if (b === undefined) return;
        const title = `${e.instance}: ${e.outcome}${e.error !== undefined ? ` (${e.error})` : ''}`;
        b.titles.set(e.instance, title);
        if (e.outcome === 'failed' || e.outcome === 'rolled back') b.failed.set(e.instance, title);
        else b.failed.delete(e.instance);
        return;
      }
      case 'pause':
        this.finish();
        this.then(() => this.log(`pause ${(e.ms / 1000).toFixed(2)} s`));
        return;
      case 'stop':
        this.finish();
        this.then(() => this.log(`stopped at batch ${e.batch}: ${e.reason}`));
        return;
    }
  }

  async end(): Promise<void> {
    this.finish();
    await this.chain;
  }

  private then(fn: () => void | Promise<void>): void {
    this.chain = this.chain.then(fn);
  }

  private start(header: string, instances: readonly string[]): void {
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    const b = { finish, titles: new Map(instances.map((i) => [i, `${i}: waiting`])), failed: new Map<string, string>(), tasks: new Map<string, { title: string }>() };
    this.batch = b;
    this.then(async () => {
      this.log(header);
      const { Listr } = await import('listr2');
      const list = new Listr(
        instances.map((i) => ({
          title: b.titles.get(i) ?? i,
          task: async (_ctx: unknown, task: { title: string }) => {
            b.tasks.set(i, task);
            task.title = b.titles.get(i) ?? task.title;
            await finished;
            task.title = b.titles.get(i) ?? task.title;
            const failure = b.failed.get(i);
            if (failure !== undefined) throw new Error(failure);
          },
        })),
        // listr2's own SIGINT handler would exit(127) in the middle of a batch: the roll-out handles signals itself.
        { concurrent: true, exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseErrors: false } },
      );
      await list.run().catch(() => undefined);
    });
  }

  private finish(): void {
    this.batch?.finish();
    this.batch = undefined;
  }
}
