/**
 * Shows a plan running: a live listr2 task list on a terminal, plain lines
 * elsewhere, nothing with --json (the command returns the results). Either
 * way each instance's own messages are shown whole, grouped by instance, in
 * list order.
 */
import type { PlannedRun } from '../instances/fanout/command-class.js';
import { runPlan as runFanOut, type OutputMode, type RunOptions, type RunResult } from '../instances/fanout/runner.js';

export interface ProgressOptions {
  readonly parallel: number;
  readonly mode: OutputMode;
  readonly json: boolean;
  readonly log: (line: string) => void;
  /** What runs the plan (default: the fan-out runner; the queue actions run several commands per instance). */
  readonly execute?: (runs: readonly PlannedRun[], options: RunOptions) => Promise<RunResult[]>;
}

export async function runWithProgress(runs: readonly PlannedRun[], options: ProgressOptions): Promise<RunResult[]> {
  if (options.json) return (options.execute ?? runFanOut)(runs, { parallel: options.parallel, mode: options.mode });
  // A terminal that does not say how wide it is (columns 0, e.g. under
  // script(1) without a terminal of its own) gets plain lines: listr2 would
  // wrap its task list after every character.
  if (process.stdout.isTTY && (process.stdout.columns ?? 0) > 0 && !process.env['CI']) return runWithTaskList(runs, options);
  return runWithPlainLines(runs, options);
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

function describeResult(r: RunResult, verb: string): string {
  const outcome = r.exitCode === 0 ? 'ok' : `failed (exit ${r.exitCode})`;
  return `${r.instance}: ${verb}: ${outcome}, ${seconds(r.durationMs)}`;
}

const indent = (output: string): string =>
  output
    .split('\n')
    .filter((l, k, all) => l !== '' || k < all.length - 1)
    .map((l) => `  ${l}`)
    .join('\n');

async function runWithPlainLines(runs: readonly PlannedRun[], options: ProgressOptions): Promise<RunResult[]> {
  return (options.execute ?? runFanOut)(runs, {
    parallel: options.parallel,
    mode: options.mode,
    onResultInOrder: (index, r) => {
      options.log(describeResult(r, runs[index]!.verb));
      if (r.output !== '') options.log(indent(r.output));
    },
  });
}

async function runWithTaskList(runs: readonly PlannedRun[], options: ProgressOptions): Promise<RunResult[]> {
  // A line per instance only while they fit on the screen: a thousand-line
  // task list scrolls away and listr2 redraws all of it on every change.
  const rows = process.stdout.rows ?? 24;
  if (runs.length > Math.max(rows - 2, 5)) return runWithSummaryTask(runs, options);
  const { Listr } = await import('listr2');
  const started = runs.map(() => deferred<void>());
  const finished = runs.map(() => deferred<RunResult>());
  const list = new Listr(
    runs.map((run, k) => ({
      title: `${run.label}: waiting`,
      task: async (_ctx: unknown, task: { title: string }) => {
        await started[k]!.promise;
        task.title = `${run.label}: ${run.verb} …`;
        const r = await finished[k]!.promise;
        task.title = describeResult(r, run.verb);
        if (r.exitCode !== 0) throw new Error(describeResult(r, run.verb));
      },
    })),
    // Not listr2's SIGINT handler, which exits 127 ("command not found"): ^C kills postfleet as
    // it kills any program (130 in the shell), and the children lose their terminals (SIGHUP).
    { concurrent: true, exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseErrors: false } },
  );
  const listing = list.run().catch(() => undefined);
  const results = await (options.execute ?? runFanOut)(runs, {
    parallel: options.parallel,
    mode: options.mode,
    onStart: (k) => started[k]!.resolve(),
    onFinish: (k, r) => finished[k]!.resolve(r),
  });
  await listing;
  for (const r of results) {
    if (r.output === '') continue;
    options.log(`${r.instance}:`);
    options.log(indent(r.output));
  }
  return results;
}

/**
 * The task list for a fleet taller than the terminal: one live line of
 * counts and the instances running right now; afterwards the failures and
 * any messages, per instance in list order.
 */
async function runWithSummaryTask(runs: readonly PlannedRun[], options: ProgressOptions): Promise<RunResult[]> {
  const { Listr } = await import('listr2');
  const verbs = [...new Set(runs.map((r) => r.verb))].join(', ');
  const running = new Set<number>();
  let done = 0;
  let failed = 0;
  let results: RunResult[] | undefined;
  let planError: unknown;
  const counts = (): string => `${verbs}: ${done}/${runs.length} done${failed > 0 ? `, ${failed} failed` : ''}`;
  const list = new Listr(
    [
      {
        title: counts(),
        task: async (_ctx: unknown, task: { title: string }) => {
          // One line, however many run at once: an output bar would keep
          // every update for the whole run and redraw ever more of them.
          const refresh = (): void => {
            const now = [...running].map((k) => runs[k]!.label);
            task.title = now.length > 0 ? `${counts()}; running: ${now.join(', ')}` : counts();
          };
          try {
            results = await (options.execute ?? runFanOut)(runs, {
              parallel: options.parallel,
              mode: options.mode,
              onStart: (k) => {
                running.add(k);
                refresh();
              },
              onFinish: (k, r) => {
                running.delete(k);
                done++;
                if (r.exitCode !== 0) failed++;
                refresh();
              },
            });
          } catch (e) {
            planError = e;
            throw e;
          }
          if (failed > 0) throw new Error(counts());
        },
      },
    ],
    { exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseErrors: false } },
  );
  await list.run().catch(() => undefined);
  // A failed instance only fails the task; anything else is ours to report.
  if (results === undefined) throw planError ?? new Error('the task list ended before the instances did');
  results.forEach((r, k) => {
    if (r.exitCode === 0 && r.output === '') return;
    options.log(describeResult(r, runs[k]!.verb));
    if (r.output !== '') options.log(indent(r.output));
  });
  return results;
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
