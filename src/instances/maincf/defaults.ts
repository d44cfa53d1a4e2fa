/**
 * Compiled-in defaults (one `postconf -d` per run) and reading main.cf files.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readSync } from 'node:fs';
import { PostfleetError } from '../errors.js';
import { strerror } from '../strerror.js';
import { parseMainCfBytes } from './parse.js';
import { fsError } from '../files.js';

/**
 * `postconf` output, `name = value` or `name =` per line. postconf prints
 * nothing else on stdout (warnings go to stderr) and never folds lines
 * into a pipe, so a line of any other shape cannot be a parameter and is
 * passed over.
 */
export function parsePostconfOutput(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^(\S+) =(?: (.*))?$/.exec(line);
    if (match === null) continue;
    result.set(match[1] as string, match[2] ?? '');
  }
  return result;
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() !== '')?.trim() ?? '';
}

/**
 * The compiled-in default of every parameter, unexpanded, from ONE
 * `postconf -d` run. node:child_process rather than execa on purpose: this
 * is on every command's boot path and importing execa costs ~60 ms.
 * `postconf -d` reads no main.cf, so a broken one cannot make it fail.
 */
export function loadDefaults(postconf: string = findPostconf()): PostfixDefaults {
  const early = earlyDefaults(postconf);
  if (early !== undefined) return early;
  let stdout: string;
  try {
    stdout = execFileSync(postconf, ['-d'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { status?: number | null; stderr?: string | Buffer };
    throw defaultsError(postconf, err.code, err.status ?? null, String(err.stderr ?? ''), err.message);
  }
  return defaultsFrom(postconf, stdout);
}

/**
 * loadDefaults() in the background: `postconf -d` runs on another core
 * while the caller goes on (reading main.cf files, see readAhead()). The
 * output (~47 KB) fits a pipe's buffer, so the child never waits for us.
 * A run started before the program's modules were loaded (startDefaultsEarly())
 * is taken over when it ran the same postconf.
 */
export function loadDefaultsInBackground(postconf: string = findPostconf()): Promise<PostfixDefaults> {
  const run = takeEarlyRun(postconf, false) ?? runPostconfDefaults(postconf).done;
  return run.then((raw) => defaultsFromRun(postconf, raw));
}

/** What one `postconf -d` gave: its output and how it ended. */
interface PostconfRun {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The spawn failed (e.g. ENOENT): no output, no status. */
  readonly error?: NodeJS.ErrnoException;
}

/** Starts `postconf -d`; `done` never rejects (a failure is in the run). */
function runPostconfDefaults(postconf: string): { child: ChildProcess; done: Promise<PostconfRun> } {
  const child = spawn(postconf, ['-d'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const done = new Promise<PostconfRun>((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => resolve({ stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), status: null, signal: null, error: e }));
    child.on('close', (status: number | null, signal: NodeJS.Signals | null) => resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), status, signal }));
  });
  return { child, done };
}

function defaultsFromRun(postconf: string, run: PostconfRun): PostfixDefaults {
  if (run.error !== undefined) throw defaultsError(postconf, run.error.code, null, '', run.error.message);
  if (run.status !== 0) {
    const why = run.signal !== null ? `killed by ${run.signal}` : '';
    throw defaultsError(postconf, undefined, run.status, run.stderr.toString('utf8') || why, '');
  }
  return defaultsFrom(postconf, run.stdout.toString('utf8'));
}

/**
 * The early `postconf -d`, kept on globalThis: bin/run.js starts it from its own small bundle
 * (src/cli/early.ts), before the program's modules are loaded, and the command's bundle,
 * another module graph, takes it over.
 */
const EARLY = Symbol.for('postfleet.early-postconf-d');
interface EarlyRun {
  readonly postconf: string;
  readonly child: ChildProcess;
  readonly done: Promise<PostconfRun>;
  finished?: PostconfRun;
}
type EarlyHolder = { [EARLY]?: EarlyRun };

/**
 * Starts `postconf -d` now, for loadDefaultsInBackground() or loadDefaults() to take over later.
 * Until then it does not keep the process alive: a command that never asks for the defaults
 * does not wait for it.
 */
export function startDefaultsEarly(postconf: string = findPostconf()): void {
  const { child, done } = runPostconfDefaults(postconf);
  const early: EarlyRun = { postconf, child, done };
  void done.then((run) => {
    early.finished = run;
  });
  holdsProcess(child, false);
  (globalThis as EarlyHolder)[EARLY] = early;
}

/** The early run of this postconf (finished, if `finished`), now the caller's; undefined if none. */
function takeEarlyRun(postconf: string, finished: boolean): Promise<PostconfRun> | undefined {
  const holder = globalThis as EarlyHolder;
  const early = holder[EARLY];
  if (early === undefined || early.postconf !== postconf || (finished && early.finished === undefined)) return undefined;
  delete holder[EARLY];
  holdsProcess(early.child, true);
  return early.done;
}

/** Whether the child and its pipes (sockets: ref/unref) keep the event loop alive. */
function holdsProcess(child: ChildProcess, hold: boolean): void {
  for (const handle of [child, child.stdout, child.stderr] as Array<{ ref?: () => void; unref?: () => void } | null>) {
    if (hold) handle?.ref?.();
    else handle?.unref?.();
  }
}

/** The early run's output if it has finished and succeeded (loadDefaults() cannot wait for it). */
function earlyDefaults(postconf: string): PostfixDefaults | undefined {
  const early = (globalThis as EarlyHolder)[EARLY];
  if (early?.finished === undefined || early.finished.status !== 0 || early.postconf !== postconf) return undefined;
  void takeEarlyRun(postconf, true);
  return defaultsFromRun(postconf, early.finished);
}

function defaultsError(postconf: string, code: string | undefined, status: number | null, stderr: string, message: string): PostfleetError {
  if (code === 'ENOENT') {
    return new PostfleetError(`cannot run ${postconf} -d: ${postconf} not found (is Postfix installed?)`);
  }
  const detail = firstLine(stderr) || (status != null ? `exit status ${status}` : message);
  return new PostfleetError(`${postconf} -d failed: ${detail}`);
}

function defaultsFrom(postconf: string, stdout: string): PostfixDefaults {
  const defaults = parsePostconfOutput(stdout);
  if (defaults.size === 0) throw new PostfleetError(`${postconf} -d printed no parameters`);
  return new PostfixDefaults(postconf, defaults);
}

/**
 * The compiled-in defaults, and the one default postconf computes from each main.cf instead
 * of the one `postconf -d` prints: mynetworks (pcf_check_mynetworks(): from that main.cf's
 * mynetworks_style, inet_interfaces and inet_protocols, and the host's interfaces and netmasks).
 * That one is asked of postconf itself, once per distinct combination in a run: a few
 * processes for a fleet, never one per instance.
 */
export class PostfixDefaults extends Map<string, string> {
  /** By combination: postconf's answer, or the first line of its error. */
  private readonly mynetworksBy = new Map<string, { value: string } | { error: string }>();

  constructor(
    private readonly postconf: string,
    entries: Iterable<readonly [string, string]>,
  ) {
    super(entries);
  }

  /**
   * The default mynetworks of the main.cf in `configDirectory`, whose mynetworks_style,
   * inet_interfaces and inet_protocols (expanded) are `basis`; that main.cf must not set
   * mynetworks. Throws PostfleetError where postconf fails (an inet_interfaces it cannot
   * resolve): it prints no value then either.
   */
  mynetworks(configDirectory: string, basis: readonly string[]): string {
    const key = basis.join('\0');
    let answer = this.mynetworksBy.get(key);
    if (answer === undefined) {
      try {
        answer = { value: execFileSync(this.postconf, ['-c', configDirectory, '-h', 'mynetworks'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() };
      } catch (e) {
        const err = e as NodeJS.ErrnoException & { stderr?: string };
        answer = { error: firstLine(String(err.stderr ?? '')) || (err.code !== undefined ? strerror(err.code) : err.message) };
      }
      this.mynetworksBy.set(key, answer);
    }
    if ('error' in answer) throw new PostfleetError(`${configDirectory}/main.cf: cannot compute the default of mynetworks: ${answer.error}`);
    return answer.value;
  }
}

/**
 * postconf from PATH, else from Postfix's own root path: cron and postfix(1)
 * run us with a short PATH (postfix(1) with /bin:/usr/bin:/sbin:/usr/sbin,
 * cron with /usr/bin:/bin), and postconf lives in command_directory.
 */
function findPostconf(path = process.env['PATH'] ?? ''): string {
  const dirs = [...path.split(':').filter((d) => d.startsWith('/')), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    try {
      accessSync(`${d}/postconf`, constants.X_OK);
      return `${d}/postconf`;
    } catch {
      // not here
    }
  }
  return 'postconf';
}

/**
 * The raw settings of `${configDir}/main.cf` (path joined the way Postfix
 * does). Throws PostfleetError naming the path if it cannot be read or is
 * not valid main.cf syntax.
 *
 * A listing reads a thousand stock 27 KB files, so this is the hot path:
 * the bytes go into one reused buffer and only the few setting lines ever
 * become strings (see scanLogicalLines()).
 */
export function readMainCf(configDir: string): Map<string, string> {
  const path = `${configDir}/main.cf`;
  let length: number;
  try {
    length = readIntoShared(path);
  } catch (e) {
    throw fsError('read', path, e);
  }
  return parseMainCfBytes(shared.subarray(0, length), path);
}

let shared = Buffer.allocUnsafe(256 * 1024);

/** Reads a whole file into `shared` (grown as needed); returns its length. */
function readIntoShared(path: string): number {
  const fd = openSync(path, 'r');
  try {
    let length = 0;
    for (;;) {
      if (length === shared.length) {
        const bigger = Buffer.allocUnsafe(shared.length * 2);
        shared.copy(bigger, 0, 0, length);
        shared = bigger;
      }
      const n = readSync(fd, shared, length, shared.length - length, null);
      if (n === 0) return length;
      length += n;
    }
  } finally {
    closeSync(fd);
  }
}
