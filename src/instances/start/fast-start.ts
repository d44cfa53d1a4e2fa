/**
 * The fast start of one instance: postfix-script's pre-start checks done natively
 * (checks.ts), then the master started through Postfix's own quick-start path.
 *
 * Why quick-start rather than running `master -w` ourselves: postfix(1) is what builds the
 * master's environment (import_environment, the exported parameters, MAIL_LOGTAG, -D's
 * MAIL_DEBUG, -v), checks its own configuration, refuses a running master in the script's
 * words and logs "starting the Postfix mail system" where the operator looks for it.
 * Repeating that would be a second, drifting copy of Postfix; it costs an exec of postfix,
 * sh, `master -t` and postlog (~15 % of a start, measured in bench/), while the checks it
 * skips are the other ~85 %. postfix-script honours `$queue_directory/quick-start` by
 * removing it and skipping check-fatal and check-warn — which we have just done.
 *
 * The checks' messages go through Postfix's postlog with the script's tag, so they reach the
 * terminal and the log exactly where postfix-script's would; postsuper (the queue structure
 * check, which renames or moves mis-named queue files) is run as the script runs it. Anything
 * the native checks do not model falls back to Postfix's own `postfix start`.
 */
import { unlinkSync, writeFileSync } from 'node:fs';
import { isMasterRunning, readMasterPid } from '../observe/status.js';
import { isDirectory, isFile } from './find.js';
import { checkConfigurationFiles, checkWarn, createMissing, NotModelled, type IdTables, type StartFacts } from './checks.js';

export interface FastStart {
  readonly facts: StartFacts;
  /** postfix-files and its drop-ins, read once for the run. */
  readonly postfixFiles: string;
  readonly ids: IdTables;
  /** postfix(1)'s own options for the start: -D, -v … */
  readonly postfixOptions: readonly string[];
}

export interface Spawned {
  readonly exitCode: number;
  readonly output: string;
}

export type Spawn = (file: string, args: readonly string[]) => Promise<Spawned>;

/**
 * Shows a line of our own (what mkdir(1) would print) where the children's output goes:
 * returns it for captured output, or writes it at once and returns '' when the children
 * write straight to our terminal, so that it keeps its place among their lines.
 */
export type Echo = (text: string) => string;

export interface FastStartOutcome extends Spawned {
  /** Time spent in the native checks (not in postsuper, postlog or postfix). */
  readonly checkMs: number;
  /** 'fast': native checks and quick-start; 'postfix': Postfix's own start (running master, something not modelled). */
  readonly path: 'fast' | 'postfix';
}

export async function fastStart(fast: FastStart, spawn: Spawn, echo: Echo = (t) => t): Promise<FastStartOutcome> {
  const { facts } = fast;
  const queue = facts.param('queue_directory');
  const command = facts.param('command_directory');
  const postfixStart = [...fast.postfixOptions, '--', 'start'];
  let output = '';
  let checkMs = 0;
  /** Postfix's own start (its own checks), after whatever was shown so far. */
  const postfixOwn = async (): Promise<FastStartOutcome> => {
    const own = await spawn(`${command}/postfix`, postfixStart);
    return { exitCode: own.exitCode, output: output + own.output, checkMs: Math.round(checkMs), path: 'postfix' };
  };
  // A running master: postfix-script refuses before any check, in its own words.
  const pid = readMasterPid(queue);
  if ((pid !== null && isMasterRunning(pid)) || !isDirectory(queue) || !isDirectory(facts.configDirectory)) return postfixOwn();
  // Without master.cf the start fails either way, and every postconf that post-install runs
  // first warns about it: Postfix's own check says that best.
  if (!isFile(`${facts.configDirectory}/master.cf`)) return postfixOwn();

  const log = async (priority: 'warn' | 'fatal', text: string): Promise<void> => {
    output += (await spawn(`${command}/postlog`, ['-t', `${facts.param('syslog_name')}/postfix-script`, '-p', priority, text])).output;
  };
  const failed = async (): Promise<FastStartOutcome> => {
    await log('fatal', 'Postfix integrity check failed!');
    return { exitCode: 1, output, checkMs: Math.round(checkMs), path: 'fast' };
  };

  let started = performance.now();
  let warnings: string[];
  try {
    // check-fatal
    const missing = createMissing(facts, fast.postfixFiles, fast.ids);
    const fatal = missing.error === undefined ? checkConfigurationFiles(facts) : undefined;
    checkMs += performance.now() - started;
    if (missing.error !== undefined) {
      output += echo(`${missing.error}\n`);
      await log('fatal', 'unable to create missing queue directories');
      return await failed();
    }
    if (fatal !== undefined) {
      await log('fatal', fatal);
      return await failed();
    }
    const postsuper = await spawn(`${command}/postsuper`, []);
    output += postsuper.output;
    if (postsuper.exitCode !== 0) return await failed();
    // check-warn
    started = performance.now();
    warnings = checkWarn(facts, fast.ids);
    checkMs += performance.now() - started;
  } catch (e) {
    if (e instanceof NotModelled) return postfixOwn();
    throw e;
  }
  for (const w of warnings) await log('warn', w);

  const marker = `${queue}/quick-start`;
  let placed: boolean;
  try {
    writeFileSync(marker, '', { flag: 'wx', mode: 0o644 });
    placed = true;
  } catch (e) {
    // One left by `postfix quick-stop` does the same; anything else: Postfix checks again.
    placed = false;
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return postfixOwn();
  }
  const start = await spawn(`${command}/postfix`, postfixStart);
  // postfix-script removes the marker as soon as it sees no master; if it never got there
  // (postfix(1) refused its configuration), the next plain start must still check.
  if (placed) removeIfPresent(marker);
  return { exitCode: start.exitCode, output: output + start.output, checkMs: Math.round(checkMs), path: 'fast' };
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already consumed by postfix-script
  }
}


