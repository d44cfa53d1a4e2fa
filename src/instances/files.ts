/**
 * What every reader and writer of files says the same way: whether a name is taken, and the one
 * wording of a failed file-system call, `cannot read /etc/postfix-a/main.cf: No such file or
 * directory` (the action, the path, then the reason as Postfix words it: strerror()).
 */
import { lstatSync } from 'node:fs';
import { PostfleetError } from './errors.js';
import { strerror } from './strerror.js';

/** The reason a file-system call failed: strerror() of its errno code, else the error's first line. */
export function fsReason(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return strerror(code);
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n', 1)[0] ?? message;
}

/** `cannot ACTION PATH: reason`, e.g. fsError('write', '/etc/postfix/main.cf', e). */
export function fsError(action: string, path: string, e: unknown): PostfleetError {
  if (e instanceof PostfleetError) return e;
  return new PostfleetError(`cannot ${action} ${path}: ${fsReason(e)}`);
}

/** Whether the name is taken: something is there, a symbolic link too (dangling or not: never followed). */
export function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
