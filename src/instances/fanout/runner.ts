/**
 * Runs a plan: one child per instance, at most `parallel` at a time, launched
 * in plan order, results returned in plan order (p-map keeps both).
 *
 * How a child's output is handled is the caller's choice:
 *  - inherit: the child writes straight to our stdio, as under postmulti; only
 *    sensible one at a time (compat mode without -P).
 *  - pty: the child runs under a pseudo-terminal, because postfix(1) and its
 *    scripts print their messages only to a terminal; the output is captured
 *    whole, so it can be shown grouped by instance, never interleaved.
 *  - pipe: stdout and stderr captured (interleaved as written), for commands
 *    that do not care about terminals.
 *  - split: stdout and stderr captured apart (output and stderr), so that
 *    `postfleet -P N -x` can pass each on to where postmulti's child would
 *    have written it.
 */
import { spawn } from 'node:child_process';
import pMap from 'p-map';
import type { PlannedRun } from './command-class.js';
import { ptyCapture } from './pty-capture.js';
import { strerror } from '../strerror.js';

export type OutputMode = 'inherit' | 'pty' | 'pipe' | 'split';

export interface RunResult {
  readonly instance: string;
  readonly configDirectory: string;
  readonly command: readonly string[];
  readonly exitCode: number;
  readonly durationMs: number;
  /** Captured output (empty with inherit; stdout only with split); lines end in \n. */
  readonly output: string;
  /** split only: the captured stderr. */
  readonly stderr?: string;
  /** A fast start: the time spent in the native pre-start checks. */
  readonly checkMs?: number;
  /** A fast start: 'fast' (native checks, quick-start) or 'postfix' (fell back to Postfix's own start). */
  readonly startPath?: 'fast' | 'postfix';
}

export interface RunOptions {
  readonly parallel: number;
  readonly mode: OutputMode;
  readonly onStart?: (index: number, run: PlannedRun) => void;
  readonly onFinish?: (index: number, result: RunResult) => void;
  /**
   * Each result in plan order, as soon as it and all before it are done:
   * how output is shown grouped by instance yet never out of list order.
   */
  readonly onResultInOrder?: (index: number, result: RunResult) => void;
  /** Base environment; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

export async function runPlan(runs: readonly PlannedRun[], options: RunOptions): Promise<RunResult[]> {
  const spawnOne = options.mode === 'pty' ? await ptyCapture() : options.mode === 'inherit' ? inheritSpawner : execaSpawner(options.mode);
  const baseEnv = options.env ?? process.env;
  // Loaded only when a run starts fast: the boot path (compat -p start) stays lean.
  const fastStart = runs.some((r) => r.fastStart !== undefined) ? (await import('../start/fast-start.js')).fastStart : undefined;
  return runEach(runs, options, async (run) => {
    const env = { ...baseEnv, ...run.env };
    const echo = (text: string): string => (options.mode === 'inherit' ? (process.stderr.write(text), '') : text);
    const fast = run.fastStart !== undefined && fastStart ? await fastStart(run.fastStart, (file, args) => spawnOne(file, args, env), echo) : undefined;
    const { exitCode, output, stderr }: { exitCode: number; output: string; stderr?: string } =
      fast ?? (run.task !== undefined ? await inProcess(run.task, echo) : await spawnOne(run.file, run.args, env));
    return {
      exitCode,
      output,
      ...(stderr !== undefined ? { stderr } : {}),
      ...(fast !== undefined ? { checkMs: fast.checkMs, startPath: fast.path } : {}),
    };
  });
}

/**
 * The fan-out itself: `one` for each run, at most `parallel` at once, launched in plan order,
 * with the hooks of RunOptions; each result is the run's instance, command and duration with
 * what `one` found, and the results come back in plan order.
 */
export async function runEach<R extends Omit<RunResult, 'instance' | 'configDirectory' | 'command' | 'durationMs'>>(
  runs: readonly PlannedRun[],
  options: Pick<RunOptions, 'parallel' | 'onStart' | 'onFinish' | 'onResultInOrder'>,
  one: (run: PlannedRun) => Promise<R>,
): Promise<Array<RunResult & R>> {
  const done: Array<(RunResult & R) | undefined> = [];
  let next = 0;
  return pMap(
    runs.map((run, index) => ({ run, index })),
    async ({ run, index }) => {
      options.onStart?.(index, run);
      const started = performance.now();
      const { exitCode, output, ...rest } = await one(run);
      const result = {
        instance: run.label,
        configDirectory: run.instance.configDirectory,
        command: [run.file, ...run.args],
        exitCode,
        durationMs: Math.round(performance.now() - started),
        output,
        ...rest,
      } as unknown as RunResult & R;
      options.onFinish?.(index, result);
      done[index] = result;
      for (; done[next] !== undefined; next++) options.onResultInOrder?.(next, done[next]!);
      return result;
    },
    { concurrency: Math.max(1, options.parallel) },
  );
}

/** A task done in this process: its lines shown as a child's would be (at once when inheriting). */
async function inProcess(task: NonNullable<PlannedRun['task']>, echo: (text: string) => string): Promise<{ exitCode: number; output: string }> {
  const { exitCode, output } = await task();
  return { exitCode, output: output === '' ? '' : echo(output) };
}

type Spawner = (file: string, args: readonly string[], env: NodeJS.ProcessEnv) => Promise<{ exitCode: number; output: string; stderr?: string }>;

/**
 * One child on our own stdio, as postmulti's fork/execvp/waitpid. This is the
 * boot path (`postfix start` through the wrapper): node:child_process rather
 * than execa, whose import alone costs ~65 ms, for a spawn with nothing to
 * capture.
 */
const inheritSpawner: Spawner = (file, args, env) =>
  new Promise((resolve) => {
    const child = spawn(file, [...args], { env, stdio: 'inherit' });
    child.once('error', (e: NodeJS.ErrnoException) => {
      process.stderr.write(`postfleet: fatal: execvp ${file}: ${e.code !== undefined ? strerror(e.code) : e.message}\n`);
      resolve({ exitCode: 1, output: '' });
    });
    // Killed by a signal: not WIFEXITED, which postmulti counts as status 1.
    child.once('exit', (code) => resolve({ exitCode: code ?? 1, output: '' }));
  });

function execaSpawner(mode: 'pipe' | 'split'): Spawner {
  return async (file, args, env) => {
    const { execa } = await import('execa');
    const result = await execa(file, args, {
      env,
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      all: mode === 'pipe',
      stripFinalNewline: false,
    });
    if (result.failed && result.exitCode === undefined && result.signal === undefined) {
      // The program could not be started at all: say so as postmulti's child
      // does (`postmulti: fatal: execvp FILE: strerror`), whose exit status is 1.
      const code = (result.cause as NodeJS.ErrnoException | undefined)?.code;
      const message = `execvp ${file}: ${code !== undefined ? strerror(code) : result.shortMessage}\n`;
      if (mode === 'split') return { exitCode: 1, output: '', stderr: `postfleet: fatal: ${message}` };
      return { exitCode: 1, output: mode === 'pipe' ? message : '' };
    }
    if (mode === 'split') return { exitCode: result.exitCode ?? 1, output: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
    const output = mode === 'pipe' ? String(result.all ?? '') : '';
    return { exitCode: result.exitCode ?? 1, output };
  };
}
