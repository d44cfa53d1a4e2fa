/**
 * Shows a plan running: a live listr2 task list on a terminal, plain lines
 * elsewhere, nothing with --json (the command returns the results). Either
 * way each instance's own messages are shown whole, grouped by instance, in
 * list order.
 */
import type { PlannedRun } from '../instances/command-class.js';
import { runPlan, type OutputMode, type RunResult } from '../instances/runner.js';

export interface ProgressOptions {
  readonly parallel: number;
  readonly mode: OutputMode;
  readonly json: boolean;
  readonly log: (line: string) => void;
}

export async function runWithProgress(runs: readonly PlannedRun[], options: ProgressOptions): Promise<RunResult[]> {
  if (options.json) return runPlan(runs, { parallel: options.parallel, mode: options.mode });
  // A terminal that does not say how wide it is (columns 0, e.g. under
  // script(1) without a terminal of its own) gets plain lines: listr2 would
  // wrap its task list after every character.
  if (process.stdout.isTTY && (process.stdout.columns ?? 0) > 0 && !process.env['CI']) return runWithTaskList(runs, options);
  return runWithPlainLines(runs, options);
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

export function describeResult(r: RunResult, verb: string): string {
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
  return runPlan(runs, {
    parallel: options.parallel,
    mode: options.mode,
    onResultInOrder: (index, r) => {
      options.log(describeResult(r, runs[index]!.verb));
      if (r.output !== '') options.log(indent(r.output));
    },
  });
}

async function runWithTaskList(runs: readonly PlannedRun[], options: ProgressOptions): Promise<RunResult[]> {
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
    { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false } },
  );
  const listing = list.run().catch(() => undefined);
  const results = await runPlan(runs, {
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

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
