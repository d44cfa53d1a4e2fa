/**
 * postfix-script's pre-start checks, done natively: `check-fatal` (post-install's
 * create-missing, master.cf present, the postlog service when maillog_file is set) and
 * `check-warn` (ownership and permission warnings). Each function reads and does what the
 * script's lines do and returns the script's messages in its words and order; running
 * postsuper (the queue structure check) and logging the messages through postlog are
 * fast-start.ts's job, because those stay Postfix's own programs.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { parseMasterCf } from '../mastercf/parse.js';
import { expandPostfixFilesField, parsePostfixFiles } from '../lifecycle/permissions.js';
import { groupOrOtherWritable, isDirectory, isFile, walk } from './find.js';

/** What postfix(1) exports to postfix-script for one instance: its expanded parameters. */
export interface StartFacts {
  readonly configDirectory: string;
  /** postconf -dh config_directory: where post-install's `1`/`i` flags apply. */
  readonly defaultConfigDirectory: string;
  /** postfix-script's check_shared_files: not a secondary listed in multi_instance_directories. */
  readonly shared: boolean;
  /** Parameter values (expanded), as postfix(1) exports them: queue_directory, mail_owner, … */
  readonly param: (name: string) => string;
}

/** post-install's MOST_PARAMETERS plus config_directory: what a postfix-files field may name. */
const POSTFIX_FILES_VARIABLES = [
  'config_directory', 'command_directory', 'daemon_directory', 'data_directory', 'html_directory', 'mail_owner', 'mailq_path',
  'manpage_directory', 'newaliases_path', 'queue_directory', 'readme_directory', 'sample_directory', 'sendmail_path',
  'setgid_group', 'shlib_directory', 'meta_directory',
] as const;
/** post-install's NON_SHARED: what a secondary instance's create-missing may touch. */
const NON_SHARED = ['config_directory', 'queue_directory', 'data_directory'];

export interface IdTables {
  readonly users: ReadonlyMap<string, number>;
  readonly groups: ReadonlyMap<string, number>;
}

/** An unexpected state the native checks do not model: the caller falls back to Postfix's own start. */
export class NotModelled extends Error {}

/**
 * `post-install create-missing` for one instance: every missing directory that postfix-files
 * flags `c`, made with its owner, group and mode. Returns the directories made, or the line
 * mkdir(1) would have printed when one cannot be made.
 */
export function createMissing(facts: StartFacts, postfixFiles: string, ids: IdTables): { made: string[]; error?: string } {
  const vars: Record<string, string> = Object.fromEntries(POSTFIX_FILES_VARIABLES.map((n) => [n, n === 'config_directory' ? facts.configDirectory : facts.param(n)]));
  const made: string[] = [];
  for (const e of parsePostfixFiles(postfixFiles)) {
    if (!e.path.startsWith('$')) continue;
    if (!facts.shared && !NON_SHARED.some((n) => e.path.startsWith(`$${n}`))) continue;
    if (e.type === 'h' || e.type === 'l') continue;
    if (e.type !== 'd' && e.type !== 'f') throw new NotModelled(`unknown type ${e.type} for ${e.path}`);
    const value = (f: string): string => (f === '-' ? '' : f.startsWith('$') ? expandPostfixFilesField(f, vars) : f);
    const path = value(e.path);
    const flags = value(e.flags);
    if (path === 'no' || path.startsWith('no/')) continue;
    if (/[1i]/.test(flags) && !readable(path) && facts.configDirectory !== facts.defaultConfigDirectory) continue;
    if (flags.includes('o')) continue;
    if (e.type !== 'd' || !flags.includes('c') || isDirectory(path)) continue;
    try {
      mkdirSync(path, 0o755);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { made, error: `mkdir: cannot create directory '${path}': ${MKDIR_ERRORS[code ?? ''] ?? (err as Error).message}` };
    }
    made.push(path);
    const owner = value(e.owner);
    const group = value(e.group);
    const uid = owner === '' ? 0 : ids.users.get(owner);
    const gid = group === '' ? undefined : ids.groups.get(group);
    if (uid === undefined || (group !== '' && gid === undefined)) throw new NotModelled(`unknown owner ${owner}:${group} for ${path}`);
    // A directory just made is empty: chown -R / chgrp -R / find -type d -exec chmod are the plain calls.
    chownSync(path, uid, gid ?? lstatSync(path).gid);
    chmodSync(path, parseInt(value(e.mode), 8));
  }
  return { made };
}

const MKDIR_ERRORS: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EEXIST: 'File exists',
  ENOTDIR: 'Not a directory',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
};

/** test -r (as root: whatever exists). */
const readable = (path: string): boolean => {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
};



/** The rest of check-fatal before postsuper: the fatal message, or undefined when all is well. */
export function checkConfigurationFiles(facts: StartFacts): string | undefined {
  const masterCf = `${facts.configDirectory}/master.cf`;
  if (!isFile(masterCf)) return `no ${masterCf} file found`;
  if (facts.param('maillog_file') !== '' && !hasPostlogService(masterCf)) {
    return "missing 'postlog' service in master.cf - run 'postfix upgrade-configuration'";
  }
  return undefined;
}

/** `postconf -M postlog/unix-dgram` prints something (an unreadable master.cf prints nothing). */
function hasPostlogService(masterCf: string): boolean {
  try {
    return parseMasterCf(readFileSync(masterCf, 'utf8'), masterCf).some((e) => e.service === 'postlog' && e.type === 'unix-dgram');
  } catch {
    return false;
  }
}

/** The queue subdirectories check-warn looks into for mail_owner's files (its egrep). */
const MAIL_OWNER_QUEUES = /\/(saved|incoming|active|defer|deferred|bounce|hold|trace|corrupt|public|private|flush)$/;

/**
 * check-warn's warnings, in the script's order. What it cannot know natively (an unknown
 * mail_owner, a queue directory without any of the queues) raises NotModelled.
 */
export function checkWarn(facts: StartFacts, ids: IdTables): string[] {
  const p = facts.param;
  const queue = p('queue_directory');
  const mailOwner = p('mail_owner');
  const setgidGroup = p('setgid_group');
  const ownerUid = ids.users.get(mailOwner);
  const setgidGid = ids.groups.get(setgidGroup);
  if (ownerUid === undefined || setgidGid === undefined) throw new NotModelled(`unknown mail_owner ${mailOwner} or setgid_group ${setgidGroup}`);
  const out: string[] = [];
  const warnEach = (starts: readonly string[], test: (v: { path: string; stats: Stats }) => boolean, message: (path: string) => string, opts: { follow?: boolean; prune?: boolean } = {}): void => {
    for (const v of walk(starts, opts)) if (test(v)) out.push(message(v.path));
  };
  const notRoot = (v: { stats: { uid: number } }): boolean => v.stats.uid !== 0;
  const writable = (v: { stats: Stats }): boolean => groupOrOtherWritable(v.stats);

  // Postfix root-owned directories.
  warnEach([`${queue}/.`, `${queue}/pid`], notRoot, (f) => `not owned by root: ${f}`, { prune: true });
  warnEach([`${queue}/.`, `${queue}/pid`], writable, (f) => `group or other writable: ${f}`, { prune: true });

  // Postfix root-owned trees: the config directory, and the shared ones for the primary.
  let todo = [`${facts.configDirectory}/.`];
  if (facts.shared) {
    todo = [`${p('daemon_directory')}/.`, `${p('meta_directory')}/.`, ...todo];
    if (p('shlib_directory') !== 'no') todo = [`${p('shlib_directory')}/.`, ...todo];
  }
  todo = [...new Set(todo)].sort(byteOrder);
  warnEach(todo, notRoot, (f) => `not owned by root: ${f}`);
  warnEach(todo, writable, (f) => `group or other writable: ${f}`, { follow: true });
  for (const v of walk(todo)) {
    if (!v.stats.isSymbolicLink() || v.path === '/etc/postfix/./makedefs.out') continue;
    if (readLink(v.path).includes('/')) out.push(`symlink leaves directory: ${v.path}`);
  }

  // mail_owner's trees.
  const data = p('data_directory');
  warnEach([`${data}/.`], (v) => v.stats.uid !== ownerUid, (f) => `not owned by ${mailOwner}: ${f}`);
  warnEach([`${data}/.`], writable, (f) => `group or other writable: ${f}`);
  const queues = listQueue(queue).filter((f) => MAIL_OWNER_QUEUES.test(f));
  if (queues.length === 0) throw new NotModelled(`no queues in ${queue}`);
  warnEach(queues, (v) => !v.stats.isFIFO() && !v.stats.isSocket() && v.stats.uid !== ownerUid, (f) => `not owned by ${mailOwner}: ${f}`);
  warnEach([`${queue}/maildrop`], (v) => v.stats.uid !== ownerUid, () => `not owned by ${mailOwner}: ${queue}/maildrop`, { prune: true });

  // setgid_group's directories and programs.
  const command = p('command_directory');
  const setgid = [...(facts.shared ? [`${command}/postqueue`, `${command}/postdrop`] : []), `${queue}/public`, `${queue}/maildrop`];
  warnEach(setgid, (v) => v.stats.gid !== setgidGid, (f) => `not owned by group ${setgidGroup}: ${f}`, { prune: true });
  if (facts.shared) {
    warnEach([`${command}/postqueue`, `${command}/postdrop`], (v) => (v.stats.mode & 0o2111) !== 0o2111, (f) => `not set-gid or not owner+group+world executable: ${f}`, { prune: true });
  }

  // Non-Postfix root-owned trees in the queue directory (a chroot's copies).
  for (const dir of ['bin', 'etc', 'lib', 'sbin', 'usr']) {
    if (!isDirectory(`${queue}/${dir}`)) continue;
    for (const v of walk([`${queue}/${dir}`])) if (v.stats.uid !== 0) out.push(`not owned by root: ${v.path}`);
    for (const v of walk([`${queue}/${dir}`])) {
      if (!v.stats.isFile()) continue;
      const relative = v.path.slice(queue.length + 1);
      if (isFile(`/${relative}`) && !sameContents(v.path, `/${relative}`)) out.push(`${v.path} and /${relative} differ`);
    }
  }
  for (const v of walk([`${queue}/corrupt`])) if (v.stats.isFile()) out.push(`damaged message: ${v.path.slice(queue.length + 1)}`);

  // Non-Postfix MTA remnants.
  if (facts.shared && isFile('/usr/sbin/sendmail') && isFile('/usr/lib/sendmail') && !sameContents('/usr/sbin/sendmail', '/usr/lib/sendmail')) {
    out.push('/usr/lib/sendmail and /usr/sbin/sendmail differ', 'Replace one by a symbolic link to the other');
  }
  return out;
}

/** sort(1) under LANG=C, as postfix(1) exports it. */
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** `ls -d QUEUE/*`: the names, sorted as ls sorts under LANG=C, dot files left out. */
function listQueue(queue: string): string[] {
  let names: string[];
  try {
    names = readdirSync(queue);
  } catch {
    return [];
  }
  return names.filter((n) => !n.startsWith('.')).sort(byteOrder).map((n) => `${queue}/${n}`);
}

function readLink(path: string): string {
  try {
    return readlinkSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** cmp -s. */
function sameContents(a: string, b: string): boolean {
  try {
    return readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}
