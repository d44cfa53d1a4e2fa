/**
 * Applies a plan's steps in order, logging how to undo each; if a step fails, the steps
 * already done are undone in reverse and nothing is left half-made. Also the atomic writer
 * of new files (temporary name, fsync, rename).
 */
import { chmodSync, chownSync, lchownSync, closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeSync, type BigIntStats } from 'node:fs';
import { rmdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execa } from 'execa';
import { PostfleetError } from '../errors.js';
import { exists, fsError } from '../files.js';
import { editMainCfFile, withMainCfLock, type HeldLocks } from '../maincf/write.js';
import type { Step } from './steps.js';

/** What was done so far, to be undone in reverse if the change cannot be completed. */
export class UndoLog {
  private readonly undo: Array<() => void | Promise<void>> = [];

  push(fn: () => void | Promise<void>): void {
    this.undo.push(fn);
  }

  /** Best effort, in reverse: the error that made us roll back is what the operator must see. */
  async rollback(): Promise<void> {
    for (const u of this.undo.splice(0).reverse()) {
      try {
        await u();
      } catch {
        // keep undoing the rest
      }
    }
  }
}

/** Applies steps in order, logging how to undo each; warnings of removals go to `warnings`. */
/** `locks`: main.cf edit locks taken ahead (lockMainCfs()), used by the edits of those files. */
export async function applySteps(steps: readonly Step[], undo: UndoLog, warnings: string[], checkpoint: () => void = () => undefined, locks?: HeldLocks): Promise<void> {
  for (const s of steps) {
    checkpoint();
    await applyStep(s, undo, warnings, locks);
  }
}

async function applyStep(s: Step, undo: UndoLog, warnings: string[], locks: HeldLocks | undefined): Promise<void> {
  switch (s.kind) {
    case 'mkdir':
      for (const made of mkdirp(s.path, s.mode)) undo.push(() => rmdirSync(made));
      return;
    case 'write': {
      // A main.cf left by a create that never wrote master.cf is replaced: undo puts it back.
      const previous = readPrevious(s.path);
      writeNewFile(s.path, s.content, s.mode);
      undo.push(() => (previous ? writeNewFile(s.path, previous.content, previous.mode) : unlinkSync(s.path)));
      return;
    }
    case 'edit': {
      const times = statSync(`${s.configDirectory}/main.cf`, { bigint: true, throwIfNoEntry: false });
      const { before, changed } = await editMainCfFile(s.configDirectory, s.edits, { held: locks?.get(s.configDirectory) });
      if (changed) undo.push(() => restoreMainCf(s.configDirectory, before, times));
      return;
    }
    case 'own':
      own(s, undo);
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

/** The text as it was, under the lock; and its times to the nanosecond, so that an undone edit leaves no trace. */
async function restoreMainCf(configDirectory: string, text: string, times: BigIntStats | undefined): Promise<void> {
  const path = `${configDirectory}/main.cf`;
  await withMainCfLock(configDirectory, () => ({ next: text, result: undefined }));
  if (!times) return;
  // utimes() takes a double: touch(1) keeps the nanoseconds.
  const at = (ns: bigint): string => `@${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
  await execa('touch', ['-c', '-a', '-d', at(times.atimeNs), path]);
  await execa('touch', ['-c', '-m', '-d', at(times.mtimeNs), path]);
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

function readPrevious(path: string): { content: Buffer; mode: number } | undefined {
  try {
    const st = lstatSync(path);
    return st.isFile() ? { content: readFileSync(path), mode: st.mode & 0o7777 } : undefined;
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

function own(s: Extract<Step, { kind: 'own' }>, undo: UndoLog): void {
  for (const made of mkdirp(s.path, s.mode)) undo.push(() => rmdirSync(made));
  try {
    const st = statSync(s.path);
    undo.push(() => chmodSync(s.path, st.mode & 0o7777));
    if (s.uid !== undefined || s.gid !== undefined) {
      undo.push(() => chownSync(s.path, st.uid, st.gid));
      chownSync(s.path, s.uid ?? st.uid, s.gid ?? st.gid);
      if (s.recursive) chownTree(s.path, s.uid, s.gid, undo);
    }
    chmodSync(s.path, s.mode);
  } catch (e) {
    throw fsError('set permissions of', s.path, e);
  }
}

function chownTree(dir: string, uid: number | undefined, gid: number | undefined, undo: UndoLog): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    const st = lstatSync(p);
    undo.push(() => lchownSync(p, st.uid, st.gid));
    lchownSync(p, uid ?? st.uid, gid ?? st.gid);
    if (e.isDirectory()) chownTree(p, uid, gid, undo);
  }
}
