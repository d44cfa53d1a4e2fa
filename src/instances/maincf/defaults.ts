/**
 * Compiled-in defaults (one `postconf -d` per run) and reading main.cf files.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { PostfleetError } from '../errors.js';
import { parseMainCf } from './parse.js';

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
export function loadDefaults(postconf: string = findPostconf()): Map<string, string> {
  let stdout: string;
  try {
    stdout = execFileSync(postconf, ['-d'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { status?: number | null; stderr?: string | Buffer };
    if (err.code === 'ENOENT') {
      throw new PostfleetError(`cannot run ${postconf} -d: ${postconf} not found (is Postfix installed?)`, { value: postconf });
    }
    const detail = firstLine(String(err.stderr ?? '')) || (err.status != null ? `exit status ${err.status}` : err.message);
    throw new PostfleetError(`${postconf} -d failed: ${detail}`, { value: postconf });
  }
  const defaults = parsePostconfOutput(stdout);
  if (defaults.size === 0) throw new PostfleetError(`${postconf} -d printed no parameters`, { value: postconf });
  return defaults;
}

/**
 * postconf from PATH, else from Postfix's own root path: cron and postfix(1)
 * run us with a short PATH (postfix(1) with /bin:/usr/bin:/sbin:/usr/sbin,
 * cron with /usr/bin:/bin), and postconf lives in command_directory.
 */
export function findPostconf(path = process.env['PATH'] ?? ''): string {
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

/** strerror() wording for the usual reasons, as Postfix would print them. */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EIO: 'Input/output error',
};

/**
 * The raw settings of `${configDir}/main.cf` (path joined the way Postfix
 * does). Throws PostfleetError naming the path if it cannot be read or is
 * not valid main.cf syntax.
 */
export function readMainCf(configDir: string): Map<string, string> {
  const path = `${configDir}/main.cf`;
  let text: string;
  try {
    // latin1 maps bytes 1:1 and decodes far faster than utf8: a stock
    // main.cf is 27 KB, and a listing may read a thousand of them. The few
    // values with non-ASCII bytes are turned back into UTF-8 below.
    text = readFileSync(path, 'latin1');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = (code !== undefined ? REASONS[code] ?? code : undefined) ?? (e as Error).message;
    throw new PostfleetError(`cannot read ${path}: ${reason}`, { value: path });
  }
  let settings: Map<string, string>;
  try {
    settings = parseMainCf(text, path);
  } catch (e) {
    if (e instanceof PostfleetError) throw new PostfleetError(fromLatin1(e.message), { value: fromLatin1(e.value ?? ''), exitCode: e.exitCode });
    throw e;
  }
  const result = new Map<string, string>();
  for (const [name, value] of settings) result.set(fromLatin1(name), fromLatin1(value));
  return result;
}

const NON_ASCII = /[\x80-\xff]/;

/**
 * Back from latin1 to UTF-8, and always a fresh copy: a slice of the file's
 * text would keep the whole 27 KB string alive, and a thousand of them make
 * the garbage collector the biggest cost of a listing.
 */
function fromLatin1(s: string): string {
  return Buffer.from(s, 'latin1').toString(NON_ASCII.test(s) ? 'utf8' : 'latin1');
}
