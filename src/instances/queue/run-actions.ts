/**
 * Carries out a queue action's plan (actions.ts): each instance's postsuper / postqueue
 * commands, with the queue ids on standard input.
 */
import { runEach, type RunOptions } from '../fanout/runner.js';
import type { PlannedRun } from '../fanout/command-class.js';
import { strerror } from '../strerror.js';
import type { QueueRun, QueueRunResult } from './actions.js';

/**
 * Runs each instance's commands in order, up to the first that fails (at most `parallel`
 * instances at once), as the fan-out runner does: the results in plan order, stdout and
 * stderr together in `output`, stderr alone in `stderr`.
 */
export async function runQueueRuns(runs: readonly PlannedRun[], options: RunOptions): Promise<QueueRunResult[]> {
  const { execa } = await import('execa');
  return runEach(runs, options, async (run) => {
    let exitCode = 0;
    let output = '';
    let stderr = '';
    let succeeded = 0;
    for (const c of (run as QueueRun).commands) {
      const r = await execa(c.file, c.args, { input: c.input ?? '', reject: false, all: true, stripFinalNewline: false, env: { ...process.env, ...run.env }, extendEnv: false });
      if (r.failed && r.exitCode === undefined && r.signal === undefined) {
        const code = (r.cause as NodeJS.ErrnoException | undefined)?.code;
        const message = `postfleet: fatal: execvp ${c.file}: ${code !== undefined ? strerror(code) : r.shortMessage}\n`;
        output += message;
        stderr += message;
        exitCode = 1;
        break;
      }
      output += String(r.all ?? '');
      stderr += String(r.stderr ?? '');
      exitCode = r.exitCode ?? 1;
      if (exitCode !== 0) break;
      succeeded++;
    }
    return { exitCode, output, stderr, succeeded };
  });
}

