/**
 * Applies a plan's steps in order, logging how to undo each; if a step fails, the steps
 * already done are undone in reverse and nothing is left half-made. An undo never overwrites
 * a main.cf someone else changed meanwhile, and says what it could not undo. Also the atomic
 * writer of new files (temporary name, fsync, rename).
 */
import { chmodSync, chownSync, lchownSync, closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeSync, type BigIntStats } from 'node:fs';
import { rmdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PostfleetError } from '../errors.js';
import { exists, fsError } from '../files.js';
import { CHANGED_SINCE, editMainCfFile, restoreMainCfIfUnchanged, restoreTimes, type HeldLocks } from '../maincf/write.js';
import type { Step } from './steps.js';

/** What an undo could not put back: the file, and why (a refusal or an error). */
export interface UndoProblem {
  readonly path: string;
  readonly reason: string;
  /** The instance (config directory) of the step, when known. */
  readonly scope?: string | undefined;
}

interface UndoEntry {
  readonly path: string;
  /** The instance (config directory) the step was for: a roll-out undoes one instance alone. */
  readonly scope: string | undefined;
  readonly undo: () => void | Promise<void>;
}

/** What was done so far, to be undone in reverse if the change cannot be completed (or, in a roll-out, is not healthy). */
export class UndoLog {
  private readonly entries: UndoEntry[] = [];

  push(path: string, undo: () => void | Promise<void>, scope?: string): void {
    this.entries.push({ path, undo, scope });
  }

  /** Whether anything of `scope` (or of anything at all) is left to undo. */
  has(scope?: string): boolean {
    return this.entries.some((e) => scope === undefined || e.scope === scope);
  }

  /**
   * Undoes in reverse, every entry or only those of `scopes`; an entry that cannot be undone
   * does not stop the others. Answers what could not be undone, file by file: never silent,
   * so that no caller reports an unchanged tree that is not.
   */
  async rollback(scopes?: ReadonlySet<string>): Promise<UndoProblem[]> {
    const problems: UndoProblem[] = [];
    for (let k = this.entries.length - 1; k >= 0; k--) {
      const e = this.entries[k]!;
      if (scopes !== undefined && (e.scope === undefined || !scopes.has(e.scope))) continue;
      this.entries.splice(k, 1);
      try {
        await e.undo();
      } catch (err) {
        problems.push({ path: e.path, reason: reasonOf(err), scope: e.scope });
      }
    }
    return problems;
  }
}

/** "file: reason" lines, as error messages carry them. */
export const problemLines = (problems: readonly UndoProblem[]): string[] => problems.map((p) => `${p.path}: ${p.reason}`);

function reasonOf(e: unknown): string {
  if (e instanceof PostfleetError) return e.message;
  const err = e as NodeJS.ErrnoException;
  return err.code ?? (e instanceof Error ? e.message : String(e));
}

export interface ApplyOptions {
  /** Called before each step: throws to stop (a signal). */
  readonly checkpoint?: () => void;
  /** main.cf edit locks taken ahead (lockMainCfs()), used by the edits of those files. */
  readonly locks?: HeldLocks | undefined;
  /** The instance these steps are for, recorded with their undo. */
  readonly scope?: string | undefined;
}

/** Applies steps in order, logging how to undo each; warnings of removals go to `warnings`. */
export async function applySteps(steps: readonly Step[], undo: UndoLog, warnings: string[], options: ApplyOptions = {}): Promise<void> {
  for (const s of steps) {
    options.checkpoint?.();
    await applyStep(s, undo, warnings, options.locks, options.scope);
  }
}

async function applyStep(s: Step, undo: UndoLog, warnings: string[], locks: HeldLocks | undefined, scope: string | undefined): Promise<void> {
  switch (s.kind) {
    case 'mkdir':
      for (const made of mkdirp(s.path, s.mode)) undo.push(made, () => rmdirSync(made), scope);
      return;
    case 'write': {
      // A main.cf left by a create that never wrote master.cf is replaced: undo puts it back.
      const previous = readPrevious(s.path);
      writeNewFile(s.path, s.content, s.mode);
      undo.push(s.path, async () => (previous ? (writeNewFile(s.path, previous.content, previous.mode), await restoreTimes(s.path, previous.times)) : unlinkSync(s.path)), scope);
      return;
    }
    case 'edit': {
      const times = statSync(`${s.configDirectory}/main.cf`, { bigint: true, throwIfNoEntry: false });
      const { before, after, changed } = await editMainCfFile(s.configDirectory, s.edits, { held: locks?.get(s.configDirectory) });
      if (changed) undo.push(`${s.configDirectory}/main.cf`, () => restoreMainCf(s.configDirectory, after, before, times), scope);
      return;
    }
    case 'own':
      own(s, undo, scope);
      return;
    case 'rmdir':
      // Asynchronous, so that the releases of several destroyed instances overlap (transaction.ts).
      try {
        await rmdir(s.path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') warnings.push(`${s.path}: please verify contents and remove by hand${leftovers(s.path)}`);
      }
      return;
    case 'unlink':
      // Removal is what destroy does once the instance is no longer listed: a file
      // that cannot go is left with a warning, as postmulti-script leaves it, and
      // the rest of the removal goes on.
      try {
        await unlink(s.path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') warnings.push(`${fsError('remove', s.path, e).message}: please verify and remove by hand`);
      }
      return;
  }
}

/**
 * The undo of a main.cf edit: the text as it was, under the lock, only if the file still holds
 * `written` (what postfleet wrote); and its times to the nanosecond, so that an undone edit
 * leaves no trace. A file someone changed since is left as it is: that is a problem of the
 * undo, reported (a PostfleetError), never an overwrite of their edit.
 */
export async function restoreMainCf(configDirectory: string, written: string, text: string, times: BigIntStats | undefined): Promise<void> {
  if ((await restoreMainCfIfUnchanged(configDirectory, written, text, times)) === 'changed') throw new PostfleetError(CHANGED_SINCE);
}

/** mkdir -p that reports which directories it made (deepest last). */
function mkdirp(path: string, mode: number): string[] {
  const missing: string[] = [];
  for (let p = path; p !== '/' && !exists(p); p = dirname(p)) missing.unshift(p);
  for (const p of missing) {
    try {
      mkdirSync(p);
      chmodSync(p, p === path ? mode : 0o755);
    } catch (e) {
      throw fsError('create directory', p, e);
    }
  }
  if (missing.length === 0 && !statSync(path).isDirectory()) {
    throw new PostfleetError(`${path} exists and is not a directory`);
  }
  return missing;
}

/** What a directory that could not be removed still holds, for the warning: the operator must see what was kept. */
function leftovers(dir: string): string {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return '';
  }
  if (names.length === 0) return '';
  const shown = names.slice(0, 5).join(', ');
  return ` (it holds ${shown}${names.length > 5 ? `, and ${names.length - 5} more` : ''})`;
}

function readPrevious(path: string): { content: Buffer; mode: number; times: BigIntStats } | undefined {
  try {
    const st = lstatSync(path, { bigint: true });
    return st.isFile() ? { content: readFileSync(path), mode: Number(st.mode & 0o7777n), times: st } : undefined;
  } catch {
    return undefined;
  }
}

/** Temporary name in the same directory, fsync, rename: never a partial file under the real name. */
function writeNewFile(path: string, content: string | Buffer, mode: number): void {
  const tmp = `${dirname(path)}/.postfleet-${process.pid}-${Date.now()}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    chmodSync(tmp, mode);
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or never made
    }
    throw fsError('write', path, e);
  }
}

function own(s: Extract<Step, { kind: 'own' }>, undo: UndoLog, scope: string | undefined): void {
  for (const made of mkdirp(s.path, s.mode)) undo.push(made, () => rmdirSync(made), scope);
  try {
    const st = statSync(s.path);
    undo.push(s.path, () => chmodSync(s.path, st.mode & 0o7777), scope);
    if (s.uid !== undefined || s.gid !== undefined) {
      undo.push(s.path, () => chownSync(s.path, st.uid, st.gid), scope);
      chownSync(s.path, s.uid ?? st.uid, s.gid ?? st.gid);
      if (s.recursive) chownTree(s.path, s.uid, s.gid, undo, scope);
    }
    chmodSync(s.path, s.mode);
  } catch (e) {
    throw fsError('set permissions of', s.path, e);
  }
}

function chownTree(dir: string, uid: number | undefined, gid: number | undefined, undo: UndoLog, scope: string | undefined): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    const st = lstatSync(p);
    undo.push(p, () => lchownSync(p, st.uid, st.gid), scope);
    lchownSync(p, uid ?? st.uid, gid ?? st.gid);
    if (e.isDirectory()) chownTree(p, uid, gid, undo, scope);
  }
}
