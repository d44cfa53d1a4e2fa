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
export function progressLines(log: (line: string) => void): (e: RolloutEvent) => void {
  return (e) => {
    switch (e.type) {
      case 'batch':
        log(`batch ${e.index} of ${e.count}: ${e.instances.join(', ')}`);
        return;
      case 'step':
        if (e.state === 'start') return;
        log(`  ${e.instance}: ${e.step}: ${e.state === 'ok' ? (e.step.startsWith('probe') ? 'healthy' : 'ok') : 'FAILED'}${e.detail !== undefined ? ` (${e.detail})` : ''}${e.durationMs !== undefined ? `, ${seconds(e.durationMs)}` : ''}`);
        return;
      case 'pause':
        log(`pause ${seconds(e.ms)}`);
        return;
      case 'stop':
        log(`stopped at batch ${e.batch}: ${e.reason}`);
        return;
    }
  };
}

/** The closing lines: which instances are where (and, for a configuration change, which carry it). */
export function renderRolloutSummary(report: RolloutReport, log: (line: string) => void): void {
  const by = (pred: (i: RolloutReport['instances'][number]) => boolean): string[] => report.instances.filter(pred).map((i) => i.instance);
  const line = (what: string, names: readonly string[]): void => {
    if (names.length > 0) log(`${what}: ${names.join(', ')}`);
  };
  if (report.dryRun) {
    log(`would roll ${report.instances.filter((i) => i.batch !== null).length} instance(s) in ${report.batches} batch(es) of ${report.batchSize}:`);
    for (let b = 1; b <= report.batches; b++) log(`  batch ${b}: ${by((i) => i.batch === b).join(', ')}`);
    line('unchanged', by((i) => i.outcome === 'unchanged'));
    return;
  }
  log(report.completed ? `rolled out: ${report.batches} batch(es)` : `roll-out stopped at batch ${report.stopped?.batch} of ${report.batches}`);
  line('done', by((i) => i.outcome === 'done'));
  line('failed', by((i) => i.outcome === 'failed'));
  line('rolled back', by((i) => i.outcome === 'rolled back'));
  line('interrupted (reloaded, not probed)', by((i) => i.outcome === 'interrupted'));
  line('not reached', by((i) => i.outcome === 'not reached'));
  line('unchanged', by((i) => i.outcome === 'unchanged'));
  if (report.instances.some((i) => i.carriesChange !== null)) line('carry the change', by((i) => i.carriesChange === true));
}

/** 128 + the signal's number when one stopped it; 1 when it stopped, an instance failed, or one was skipped; else 0. */
export function rolloutExitCode(report: RolloutReport): number {
  if (report.interrupted !== null) return 128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as Record<string, number>)[report.interrupted]!;
  if (!report.dryRun && (!report.completed || report.failures > 0)) return 1;
  return report.failed.length > 0 || report.instances.some((i) => i.outcome === 'failed') ? 1 : 0;
}

/** Warnings and skipped instances on stderr, as the other changing commands print them. */
export function renderRolloutWarnings(report: RolloutReport): void {
  for (const w of report.warnings) process.stderr.write(`postfleet: warning: ${w}\n`);
  for (const f of report.failed) process.stderr.write(`postfleet: ${f.error}\n`);
}

/**
 * Runs a roll-out with its progress lines, then its summary, warnings and exit status; answers
 * the report (what --json prints). A roll-out takes minutes: with --json its progress still
 * shows, on stderr.
 */
export async function rollWithProgress(json: boolean, log: (line: string) => void, roll: (emit: (e: RolloutEvent) => void) => Promise<RolloutReport>): Promise<RolloutReport> {
  const report = await roll(progressLines(json ? (l) => process.stderr.write(`${l}\n`) : log));
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
