/**
 * The only code that writes a main.cf.
 *
 * It follows Postfix's own cooperative update protocol (edit_file_open() and
 * edit_file_close() in postfix/src/util/edit_file.c), so a postfleet write is
 * serialised with every other postfleet process and with an administrator's
 * concurrent `postconf -e`, and a crash at any moment leaves either the old
 * or the new main.cf, never a truncated one:
 *
 *   1. open (create if needed, mode 0600) DIR/main.cf.tmp;
 *   2. flock(LOCK_EX) that open file;
 *   3. if DIR/main.cf.tmp is no longer the inode that was locked (the previous
 *      holder renamed it over main.cf or removed it), close and start again;
 *      if it is not a plain 0600 file with one link (debris of a crash at an
 *      awkward moment), remove it and start again;
 *   4. truncate it, write the new text, fsync, rename it over main.cf;
 *   5. close it, which releases the lock.
 *
 * Node has no flock(). The descriptor of the open file is handed to
 * util-linux flock(1) as its fd 3 (`flock --exclusive 3`): a flock() lock
 * belongs to the open file description, which our descriptor shares, so the
 * lock stays held after flock(1) exits and goes away when we close the file
 * or when the kernel closes it for us because we died. No helper process
 * outlives the lock step and no lock can leak.
 *
 * The temporary name is Postfix's own, so it is renamed away by a completed
 * write (ours or postconf's) and removed when nothing is written: no lock or
 * temporary file of ours stays in Postfix's directories.
 */
import { isUtf8 } from 'node:buffer';
import { constants as fsc } from 'node:fs';
import type { BigIntStats, Stats } from 'node:fs';
import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

import { PostfleetError } from '../errors.js';
import { fsReason } from '../files.js';
import { checkMainCfEdits, editMainCf } from './edit.js';
import type { MainCfEdit } from './edit.js';

/** Postfix's EDIT_FILE_SUFFIX. */
const TMP_SUFFIX = '.tmp';
/** Postfix's EDIT_FILE_MODE: anything else under the temporary name is crash debris. */
const TMP_MODE = 0o600;
const PERM_MASK = 0o7777;

/**
 * `rollback` undoes what `fn` did when `next` cannot be written (or its rename cannot be made
 * durable); it answers what it could not undo, one "file: reason" each.
 */
export type MainCfUpdate<T> = { next?: string | undefined; result: T; rollback?: () => Promise<readonly string[]> };

/**
 * Run `fn` on the current main.cf of `configDir` while holding Postfix's
 * main.cf edit lock; if it returns `next`, that text atomically replaces
 * main.cf (same mode and owner as before) before the lock is released.
 */
export async function withMainCfLock<T>(
  configDir: string,
  fn: (current: string) => Promise<MainCfUpdate<T>> | MainCfUpdate<T>,
  held?: HeldLock,
): Promise<T> {
  return lockedUpdate(configDir, fn, held, true);
}

/**
 * The undo of a main.cf write: `previous` goes back only if main.cf still holds exactly
 * `written`, the text postfleet wrote. Anything else means someone (a `postconf -e`, an
 * operator's editor) changed it since postfleet let go of its lock: their edit is kept, and
 * the answer says so. A directory sync that fails after the rename is an error here (the
 * text is back, but may not survive a crash): it is not undone again.
 */
export async function restoreMainCfIfUnchanged(configDir: string, written: string, previous: string, times?: BigIntStats): Promise<'restored' | 'changed'> {
  const outcome = await lockedUpdate(configDir, (current) => (current === written ? { next: previous, result: 'restored' as const } : { result: 'changed' as const }), undefined, false);
  if (outcome === 'restored' && times !== undefined) await restoreTimes(path.join(configDir, 'main.cf'), times);
  return outcome;
}

/** A file's access and modification times as they were, to the nanosecond (utimes() takes a double: touch(1) keeps them). */
export async function restoreTimes(file: string, times: BigIntStats): Promise<void> {
  const at = (ns: bigint): string => `@${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
  await execa('touch', ['-c', '-a', '-d', at(times.atimeNs), file]);
  await execa('touch', ['-c', '-m', '-d', at(times.mtimeNs), file]);
}

async function lockedUpdate<T>(
  configDir: string,
  fn: (current: string) => Promise<MainCfUpdate<T>> | MainCfUpdate<T>,
  held: HeldLock | undefined,
  undoUnsynced: boolean,
): Promise<T> {
  const mainCf = path.join(configDir, 'main.cf');
  const tmpPath = mainCf + TMP_SUFFIX;
  let tmp: FileHandle;
  if (held !== undefined && held.tmpPath === tmpPath && !held.taken) {
    held.taken = true;
    tmp = held.handle;
  } else {
    await requireMainCf(configDir, mainCf);
    // A temporary file we cannot lock is one we may not remove, so make sure
    // flock(1) is there before creating it.
    tmp = await openLocked(await requireFlock(tmpPath), tmpPath);
  }
  let renamed = false;
  try {
    const original = await statOrFail(mainCf);
    const times = await fs.stat(mainCf, { bigint: true }).catch(() => undefined);
    const bytes = await readOrFail(mainCf);
    const { text, encoding } = decodeMainCf(bytes);
    const update = await fn(text);
    if (update.next !== undefined) {
      try {
        await writeInPlace(tmp, tmpPath, encode(update.next, encoding, mainCf), original);
        await renameOrFail(tmpPath, mainCf);
      } catch (e) {
        // What fn did was for this write: undone, as the write did not happen.
        throw withUndoProblems(e, (await update.rollback?.()) ?? []);
      }
      renamed = true;
      try {
        await syncDirectory(configDir);
      } catch (e) {
        if (!undoUnsynced) throw new PostfleetError(`${e instanceof Error ? e.message : String(e)} (after the rename: main.cf holds the new text)`);
        // The new main.cf is in place but its rename may not survive a crash, and the caller
        // will report a failure: so the change is undone, main.cf first (unless someone wrote
        // it since: our lock went with the rename), then what fn did. Error and files agree.
        throw withUndoProblems(e, [...(await putBack(configDir, update.next, text, times)), ...((await update.rollback?.()) ?? [])], true);
      }
    }
    return update.result;
  } finally {
    // We still hold the lock here, so the temporary name is ours to remove
    // (edit_file_cleanup() does the same).
    if (!renamed) await fs.unlink(tmpPath).catch(() => undefined);
    await tmp.close().catch(() => undefined);
  }
}

/**
 * Apply `edits` to the main.cf of `configDir` as `postconf -e/-X/-#` would,
 * under the lock. With `dryRun` the file is only read: no lock, no write.
 */
export async function editMainCfFile(
  configDir: string,
  edits: readonly MainCfEdit[],
  opts: { dryRun?: boolean; held?: HeldLock | undefined } = {},
): Promise<{ before: string; after: string; changed: boolean }> {
  // Bad input must leave Postfix's directory exactly as it was, temporary
  // file included, so it is refused before the lock is taken.
  checkMainCfEdits(edits);
  if (opts.dryRun) {
    const mainCf = path.join(configDir, 'main.cf');
    await requireMainCf(configDir, mainCf);
    const before = decodeMainCf(await readOrFail(mainCf)).text;
    const after = editMainCf(before, edits);
    return { before, after, changed: after !== before };
  }
  return withMainCfLock(
    configDir,
    (before) => {
      const after = editMainCf(before, edits);
      const changed = after !== before;
      return { next: changed ? after : undefined, result: { before, after, changed } };
    },
    opts.held,
  );
}

/** A main.cf's edit lock taken ahead by lockMainCfs(), for one withMainCfLock() or editMainCfFile(). */
export interface HeldLock {
  readonly tmpPath: string;
  readonly handle: FileHandle;
  taken: boolean;
}

/** Locks taken together; release() gives back the ones no write took (removing our temporary file, as edit_file_cleanup() does). */
export interface HeldLocks {
  get(configDir: string): HeldLock | undefined;
  release(): Promise<void>;
}

/**
 * The edit locks of several main.cf files, taken with one process: one flock(1) run per
 * file costs a process spawn from Node each (most of an `enable -g` of a thousand
 * instances); one perl locking every descriptor costs one for them all. Each lock is then
 * what openLocked() gives, after the same checks: a temporary file that is no longer the one
 * locked, or is crash debris, is left out, and its write takes its lock alone. Locks are taken
 * in path order; the only other holder of several at once is another postfleet, which does
 * the same under its primary's lock, so no two wait on each other.
 */
export async function lockMainCfs(configDirs: readonly string[]): Promise<HeldLocks> {
  const dirs = [...new Set(configDirs)].sort();
  const held = new Map<string, HeldLock>();
  const release = async (): Promise<void> => {
    for (const l of held.values()) {
      if (l.taken) continue;
      l.taken = true;
      await giveBack(l);
    }
  };
  if (dirs.length === 0) return { get: () => undefined, release };
  // Everything that can be refused is refused before a temporary file is created.
  for (const dir of dirs) await requireMainCf(dir, path.join(dir, 'main.cf'));
  const perl = await requireProgram('perl', `${dirs[0]}/main.cf${TMP_SUFFIX}`, 'perl-base');
  const opened: Array<{ dir: string; tmpPath: string; handle: FileHandle }> = [];
  let openFailure: unknown;
  for (const dir of dirs) {
    const tmpPath = path.join(dir, 'main.cf') + TMP_SUFFIX;
    try {
      opened.push({ dir, tmpPath, handle: await openTmp(tmpPath) });
    } catch (e) {
      openFailure = e;
      break;
    }
  }
  try {
    await flockAll(perl, opened);
  } catch (e) {
    for (const o of opened) await o.handle.close().catch(() => undefined);
    throw openFailure ?? e;
  }
  const locked = [];
  for (const o of opened) {
    if (await stillOurs(o.handle, o.tmpPath)) locked.push(o);
    else await o.handle.close().catch(() => undefined); // the write locks it alone: openLocked() knows what to do
  }
  if (openFailure !== undefined) {
    for (const o of locked) await giveBack(o);
    throw openFailure;
  }
  for (const o of locked) held.set(o.dir, { tmpPath: o.tmpPath, handle: o.handle, taken: false });
  return { get: (dir) => held.get(dir), release };
}

/** The locked temporary file is still the one under its name, a sound one (not crash debris), and now empty. */
async function stillOurs(handle: FileHandle, tmpPath: string): Promise<boolean> {
  const locked = await handle.stat().catch(() => undefined);
  const current = await fs.lstat(tmpPath).catch(() => undefined);
  if (locked === undefined || current === undefined || current.dev !== locked.dev || current.ino !== locked.ino) return false;
  if (!current.isFile() || current.nlink > 1 || (current.mode & PERM_MASK) !== TMP_MODE) return false;
  return handle.truncate(0).then(
    () => true,
    () => false,
  );
}

/** A lock held and not written under: the temporary file is ours to remove (edit_file_cleanup()), then the lock goes. */
async function giveBack(l: { tmpPath: string; handle: FileHandle }): Promise<void> {
  await fs.unlink(l.tmpPath).catch(() => undefined);
  await l.handle.close().catch(() => undefined);
}

/**
 * flock(2) on each descriptor in turn, in one perl process (perl-base is Essential on Debian
 * and Ubuntu; perl's flock is flock(2), as flock(1)'s): the script is fixed, the descriptors
 * are its arguments. Like flock(1)'s, the locks stay with our descriptors when it exits.
 */
async function flockAll(perl: string, files: ReadonlyArray<{ tmpPath: string; handle: FileHandle }>): Promise<void> {
  if (files.length === 0) return;
  const script = 'use Fcntl qw(:flock); for my $fd (@ARGV) { open(my $fh, ">&=", $fd) or die "descriptor $fd: $!\\n"; flock($fh, LOCK_EX) or die "$!\\n" }';
  const childFds = files.map((_, k) => String(3 + k));
  const stdio = ['ignore', 'ignore', 'pipe', ...files.map((o) => o.handle.fd)] as unknown as ['ignore', 'ignore', 'pipe', 3];
  try {
    await execa(perl, ['-e', script, ...childFds], { stdio });
  } catch (e) {
    const stderr = (e as { stderr?: unknown }).stderr;
    const why = typeof stderr === 'string' && stderr !== '' ? firstLine(stderr) : firstLine(String(e));
    const more = files.length > 1 ? ` (and ${files.length - 1} more)` : '';
    throw new PostfleetError(`cannot lock ${files[0]?.tmpPath}${more}: ${why}`);
  }
}

/** restoreMainCfIfUnchanged(), as "file: reason" lines of what it could not do. */
async function putBack(configDir: string, written: string, previous: string, times: BigIntStats | undefined): Promise<string[]> {
  const mainCf = path.join(configDir, 'main.cf');
  try {
    const outcome = await restoreMainCfIfUnchanged(configDir, written, previous, times);
    return outcome === 'restored' ? [] : [`${mainCf}: ${CHANGED_SINCE}`];
  } catch (e) {
    return [`${mainCf}: ${e instanceof Error ? e.message : String(e)}`];
  }
}

/** Why an undo left a main.cf as it is. */
export const CHANGED_SINCE = 'changed by someone else since postfleet wrote it: left as it is';

/**
 * The error that stopped a change, saying whether the undo that followed is complete: what it
 * could not undo is named, file by file, so the message never claims an unchanged tree that
 * is not. `afterRename`: the error came once the write was in place, which the message says.
 */
export function withUndoProblems(e: unknown, problems: readonly string[], afterRename = false): unknown {
  if (problems.length === 0 && !afterRename) return e;
  const message = e instanceof Error ? e.message : String(e);
  const exitCode = e instanceof PostfleetError ? e.exitCode : 1;
  const outcome = problems.length === 0 ? ': the change was undone' : `; undo incomplete: ${problems.join('; ')}`;
  return new PostfleetError(`${message}${outcome}`, { exitCode });
}

/** Fail early, naming the path, before anything is created next to main.cf. */
async function requireMainCf(configDir: string, mainCf: string): Promise<void> {
  const dir = await fs.stat(configDir).catch((e: unknown) => {
    throw failure(`cannot read config directory ${configDir}`, e);
  });
  if (!dir.isDirectory()) {
    throw new PostfleetError(`config directory ${configDir}: not a directory`);
  }
  const file = await statOrFail(mainCf);
  if (!file.isFile()) {
    throw new PostfleetError(`${mainCf}: not a regular file`);
  }
}

/** edit_file_open(): returns the temporary file, truncated, with the lock held. */
async function openLocked(flock: string, tmpPath: string): Promise<FileHandle> {
  for (;;) {
    const tmp = await openTmp(tmpPath);
    try {
      await flockExclusive(flock, tmp, tmpPath);
      const locked = await tmp.stat();
      const current = await fs.lstat(tmpPath).catch(() => undefined);
      if (current === undefined || current.dev !== locked.dev || current.ino !== locked.ino) {
        await tmp.close();
        continue;
      }
      if (!current.isFile() || current.nlink > 1 || (current.mode & PERM_MASK) !== TMP_MODE) {
        await fs.unlink(tmpPath).catch((e: unknown) => {
          if (errnoCode(e) !== 'ENOENT') throw failure(`cannot remove stale ${tmpPath}`, e);
        });
        await tmp.close();
        continue;
      }
      // A crash may have left content behind; the lock makes it ours to reuse.
      await tmp.truncate(0);
      return tmp;
    } catch (e) {
      await tmp.close().catch(() => undefined);
      throw e;
    }
  }
}

/**
 * Create the temporary file 0600 whatever the umask (a umask that dropped
 * owner bits would otherwise make every opener, postconf included, treat our
 * fresh file as debris forever), or open the one another process made.
 *
 * The chmod is only for a mode the umask made: from the moment the file
 * exists another writer may open it, lock it first, give it main.cf's mode
 * and rename it to main.cf, and a chmod of ours after that would set the new
 * main.cf's mode to 0600 (seen under load: 0640 became 0600). A file still
 * 0600, or already given another mode by such a writer, is left alone; one
 * the umask made is never used by another writer before the chmod (they take
 * a mode other than 0600 for debris).
 */
async function openTmp(tmpPath: string): Promise<FileHandle> {
  const flags = fsc.O_WRONLY | fsc.O_NOFOLLOW;
  for (;;) {
    try {
      const created = await fs.open(tmpPath, flags | fsc.O_CREAT | fsc.O_EXCL, TMP_MODE);
      const mode = (await created.stat().catch(() => undefined))?.mode;
      const byUmask = mode !== undefined && (mode & PERM_MASK) !== TMP_MODE && (mode & ~TMP_MODE & PERM_MASK) === 0;
      if (byUmask) await created.chmod(TMP_MODE).catch(() => undefined);
      return created;
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw failure(`cannot create ${tmpPath}`, e);
    }
    try {
      return await fs.open(tmpPath, flags);
    } catch (e) {
      // Renamed away between our two opens: try creating it again.
      if (errnoCode(e) !== 'ENOENT') throw failure(`cannot open ${tmpPath}`, e);
    }
  }
}

/** The flock(1) that $PATH names, looked up on every call: cheap, and never stale. */
function requireFlock(tmpPath: string): Promise<string> {
  return requireProgram('flock', tmpPath, 'util-linux');
}

/** A program in $PATH, or an error naming the file it was needed to lock and the package that has it. */
async function requireProgram(name: string, tmpPath: string, pkg: string): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    const found = await fs.access(candidate, fsc.X_OK).then(
      () => true,
      () => false,
    );
    if (found) return candidate;
  }
  throw new PostfleetError(`cannot lock ${tmpPath}: ${name}(1) not found in PATH (install ${pkg})`);
}

async function flockExclusive(flock: string, file: FileHandle, tmpPath: string): Promise<void> {
  try {
    // execa passes any parent descriptor number through as is; its types
    // only list the literals 3-9.
    const stdio = ['ignore', 'ignore', 'pipe', file.fd] as unknown as ['ignore', 'ignore', 'pipe', 3];
    await execa(flock, ['--exclusive', '3'], { stdio });
  } catch (e) {
    const stderr = (e as { stderr?: unknown }).stderr;
    const why = typeof stderr === 'string' && stderr !== '' ? firstLine(stderr) : firstLine(String(e));
    throw new PostfleetError(`cannot lock ${tmpPath}: ${why}`);
  }
}

/** Truncated temporary file → complete new main.cf on disk, still under its temporary name. */
async function writeInPlace(tmp: FileHandle, tmpPath: string, data: Buffer, original: Stats): Promise<void> {
  try {
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await tmp.write(data, offset, data.length - offset, offset);
      offset += bytesWritten;
    }
  } catch (e) {
    throw failure(`cannot write ${tmpPath}`, e);
  }
  // postconf always leaves its invoker's ownership and 0644; we keep what
  // the administrator chose. chown before chmod: chown clears set-id bits.
  try {
    if (original.uid !== process.getuid?.() || original.gid !== process.getgid?.()) {
      await tmp.chown(original.uid, original.gid);
    }
    await tmp.chmod(original.mode & PERM_MASK);
  } catch (e) {
    const mode = (original.mode & PERM_MASK).toString(8);
    throw failure(`cannot give ${tmpPath} main.cf's owner ${original.uid}:${original.gid} and mode ${mode}`, e);
  }
  await tmp.sync().catch((e: unknown) => {
    throw failure(`cannot sync ${tmpPath}`, e);
  });
}

async function renameOrFail(from: string, to: string): Promise<void> {
  await fs.rename(from, to).catch((e: unknown) => {
    throw failure(`cannot rename ${from} to ${to}`, e);
  });
}

/** Make the rename itself durable, not just the file's content. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY).catch((e: unknown) => {
    throw failure(`cannot open directory ${dir}`, e);
  });
  try {
    await handle.sync();
  } catch (e) {
    throw failure(`cannot sync directory ${dir}`, e);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function statOrFail(file: string): Promise<Stats> {
  return fs.stat(file).catch((e: unknown) => {
    throw failure(`cannot read ${file}`, e);
  });
}

async function readOrFail(file: string): Promise<Buffer> {
  return fs.readFile(file).catch((e: unknown) => {
    throw failure(`cannot read ${file}`, e);
  });
}

type Encoding = 'utf8' | 'latin1';

/*
 * main.cf is bytes; edits are strings. A file that is valid UTF-8 (every
 * modern one) is edited as UTF-8. Anything else (an old Latin-1 comment, say)
 * is decoded byte for byte as Latin-1 so that untouched lines are written
 * back unchanged instead of being "repaired" with U+FFFD.
 */
export function decodeMainCf(bytes: Buffer): { text: string; encoding: Encoding } {
  if (isUtf8(bytes)) return { text: bytes.toString('utf8'), encoding: 'utf8' };
  return { text: bytes.toString('latin1'), encoding: 'latin1' };
}

function encode(text: string, encoding: Encoding, mainCf: string): Buffer {
  if (encoding === 'latin1' && /[^\0-\xff]/.test(text)) {
    throw new PostfleetError(
      `${mainCf} is not UTF-8, and the new text has characters that cannot be written to it byte for byte`,
    );
  }
  return Buffer.from(text, encoding);
}

function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `cannot write /etc/postfix/main.cf.tmp: No space left on device` (fsReason(): files.ts's wording). */
function failure(what: string, e: unknown): PostfleetError {
  if (e instanceof PostfleetError) return e;
  return new PostfleetError(firstLine(`${what}: ${fsReason(e)}`));
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0] ?? s;
}
