/**
 * Shared pieces of the life-cycle integration tests (test/integration-lifecycle-*.test.ts):
 * what a sandbox looks like after a life-cycle action, in a form that can be compared
 * between a sandbox driven by the real postmulti and one driven by postfleet.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { REPO_ROOT, shq, type RunResult, type Sandbox } from './sandbox.js';

/** What `postmulti -e init` writes, and what `postfleet init` writes instead. */
const POSTMULTI_WRAPPER = '${command_directory}/postmulti -p --';
export const POSTFLEET_WRAPPER = `${realpathSync(process.execPath)} ${realpathSync(path.join(REPO_ROOT, 'bin', 'run.js'))} -p --`;

/**
 * Settings that postconf -e appends when they are new. postmulti-script sets several of
 * them in one postconf call, which appends them in hash-table order that differs from run
 * to run; postfleet appends them in a fixed order. So a trailing run of these is compared
 * as a set.
 */
const APPENDED_PARAMETERS = new Set([
  'queue_directory',
  'data_directory',
  'authorized_submit_users',
  'master_service_disable',
  'multi_instance_name',
  'multi_instance_group',
  'multi_instance_enable',
  'multi_instance_wrapper',
  'multi_instance_directories',
  'alternate_config_directories',
  'command_directory',
  'daemon_directory',
  'meta_directory',
  'mail_owner',
  'setgid_group',
  'sendmail_path',
  'mailq_path',
  'newaliases_path',
  'html_directory',
  'manpage_directory',
  'sample_directory',
  'readme_directory',
  'shlib_directory',
]);

/** postfleet's wrapper line written as postmulti's, so the two main.cf files can be compared. */
function asPostmultiWrapper(text: string): string {
  return text.split(`multi_instance_wrapper = ${POSTFLEET_WRAPPER}`).join(`multi_instance_wrapper = ${POSTMULTI_WRAPPER}`);
}

/**
 * A main.cf as a comparable value: every line in order, except that the trailing run of
 * settings of APPENDED_PARAMETERS (what postconf -e appended) is sorted. Two files compare
 * equal iff the prefix is byte-identical and the appended lines are the same set.
 */
function normalizeMainCf(text: string): { prefix: string[]; appended: string[] } {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let start = lines.length;
  while (start > 0) {
    const m = /^([A-Za-z0-9_]+) =/.exec(lines[start - 1] ?? '');
    if (!m || !APPENDED_PARAMETERS.has(m[1] ?? '')) break;
    start--;
  }
  return { prefix: lines.slice(0, start), appended: lines.slice(start).sort() };
}

/**
 * The trees a life-cycle action may touch. Tests place instances only under these (the
 * sandbox overlays /etc, /var/spool and /var/lib; any other path would be the host's).
 */
const TREES = '/etc/postfix* /var/spool/postfix* /var/lib/postfix*';

export interface LifecycleState {
  /** `find -printf '%M %u:%g %p'` of every instance tree, sorted. */
  tree: string[];
  /** Contents of every main.cf and master.cf in those trees. */
  files: Record<string, string>;
  /** `postconf -n -c DIR` of the primary, every listed secondary and every alternate directory. */
  postconf: Record<string, string>;
  /** The primary's multi_instance_directories and alternate_config_directories (postconf -h). */
  primaryLists: string;
  /** `postmulti -l` (its output and exit status). */
  postmultiList: string;
  /** `postfleet -l` (its output, stderr and exit status). */
  postfleetList: string;
}

/**
 * Everything compared after a step. Back-dates the main.cf files first, so that the Postfix
 * programs run here do not pause.
 */
export async function lifecycleState(sb: Sandbox): Promise<LifecycleState> {
  const r = await sb.runOk(String.raw`
shopt -s nullglob
touch -d '-1 minute' /etc/postfix*/main.cf /etc/postfix*/*/main.cf
echo @@TREE
find ${TREES} -printf '%M %u:%g %p\n' 2>/dev/null | LC_ALL=C sort
for f in $(find ${TREES} \( -name main.cf -o -name master.cf \) -type f 2>/dev/null | LC_ALL=C sort); do
  echo "@@FILE $f $(base64 -w0 < "$f")"
done
dirs="/etc/postfix $(postconf -h multi_instance_directories alternate_config_directories | tr ',' ' ')"
for d in $dirs; do
  echo "@@POSTCONF $d $( (postconf -n -c "$d" 2>&1; echo "exit $?") | base64 -w0)"
done
echo "@@LISTS $( (postconf -h multi_instance_directories alternate_config_directories 2>&1) | base64 -w0)"
echo "@@PMLIST $( (postmulti -l 2>&1; echo "exit $?") | base64 -w0)"
echo "@@PFLIST $( (postfleet -l 2>&1; echo "exit $?") | base64 -w0)"
`);
  const state: LifecycleState = { tree: [], files: {}, postconf: {}, primaryLists: '', postmultiList: '', postfleetList: '' };
  const b64 = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');
  let inTree = false;
  for (const line of r.stdout.split('\n')) {
    if (line === '@@TREE') {
      inTree = true;
      continue;
    }
    const m = /^@@(FILE|POSTCONF|LISTS|PMLIST|PFLIST) ?(\S*) ?(\S*)$/.exec(line);
    if (m) {
      inTree = false;
      const [, tag, a, b] = m;
      if (tag === 'FILE') state.files[a!] = b64(b);
      else if (tag === 'POSTCONF') state.postconf[a!] = b64(b);
      else if (tag === 'LISTS') state.primaryLists = b64(a);
      else if (tag === 'PMLIST') state.postmultiList = b64(a);
      else if (tag === 'PFLIST') state.postfleetList = b64(a);
      continue;
    }
    if (inTree && line !== '') state.tree.push(line);
  }
  return state;
}

/**
 * Asserts that two sandboxes are in the same state: `ref` (driven by postmulti) and `ours`
 * (driven by postfleet). main.cf files are compared as normalizeMainCf says, with
 * postfleet's wrapper line read as postmulti's; master.cf files byte for byte; trees with
 * modes, owners and types; postconf -n of every instance; -l of both tools in both.
 */
export function expectSameState(
  ref: LifecycleState,
  ours: LifecycleState,
  step: string,
  opts: {
    /** Known, deliberate differences: [postmulti's tree line, postfleet's]; each must occur. */
    treeDifferences?: ReadonlyArray<readonly [string, string]>;
  } = {},
): void {
  const ctx = (what: string): string => `${step}: ${what}`;
  let refTree = ref.tree;
  for (const [theirs, mine] of opts.treeDifferences ?? []) {
    expect(refTree, ctx(`postmulti's tree has ${theirs}`)).toContain(theirs);
    refTree = refTree.map((l) => (l === theirs ? mine : l)).sort();
  }
  expect([...ours.tree].sort(), ctx('instance trees (find -printf %M %u:%g %p)')).toEqual([...refTree].sort());
  expect(Object.keys(ours.files).sort(), ctx('main.cf/master.cf files present')).toEqual(Object.keys(ref.files).sort());
  for (const [file, refText] of Object.entries(ref.files)) {
    const ourText = ours.files[file] ?? '';
    if (file.endsWith('/master.cf')) {
      expect(ourText, ctx(file)).toBe(refText);
    } else {
      expect(normalizeMainCf(asPostmultiWrapper(ourText)), ctx(file)).toEqual(normalizeMainCf(refText));
    }
  }
  const sortLines = (s: string): string => s.split('\n').sort().join('\n');
  const ourPostconf = Object.fromEntries(Object.entries(ours.postconf).map(([d, t]) => [d, sortLines(asPostmultiWrapper(t))]));
  const refPostconf = Object.fromEntries(Object.entries(ref.postconf).map(([d, t]) => [d, sortLines(t)]));
  expect(ourPostconf, ctx('postconf -n -c DIR of every instance')).toEqual(refPostconf);
  expect(ours.primaryLists, ctx('multi_instance_directories, alternate_config_directories')).toBe(ref.primaryLists);
  expect(ours.postmultiList, ctx('postmulti -l')).toBe(ref.postmultiList);
  expect(ours.postfleetList, ctx('postfleet -l')).toBe(ref.postmultiList);
  expect(ref.postfleetList, ctx('postfleet -l on the postmulti-made sandbox')).toBe(ref.postmultiList);
}

/**
 * One step of a differential test: `postmulti` in `ref` (on a terminal: it prints only
 * there) and `postfleet` in `ours`, at once; both succeed, postmulti silently; then the two
 * sandboxes must be in the same state. Returns postfleet's run.
 */
export async function twinStep(ref: Sandbox, ours: Sandbox, name: string, postmulti: string, postfleet: string): Promise<RunResult> {
  const [a, b] = await Promise.all([ref.run(postmulti, { tty: true }), ours.run(postfleet)]);
  expect(a, `${name}: postmulti`).toEqual({ stdout: '', stderr: '', exitCode: 0 });
  expect(b.exitCode, `${name}: postfleet: ${b.stderr}`).toBe(0);
  const [sa, sb] = await Promise.all([lifecycleState(ref), lifecycleState(ours)]);
  expectSameState(sa, sb, name);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Whole-tree snapshots for "bad input changes nothing"
// ---------------------------------------------------------------------------------------------

/**
 * What was changed under /etc, /var/spool and /var/lib since the sandbox started: every path
 * of the overlays' upper layers (what a write, a chmod, a rename or a removal leaves there)
 * with type, mode, owner, size and mtime, directories included (a refusal may not even
 * create and remove a lock file), and the checksum of every file there. A file system a test
 * mounts under those trees (a small full tmpfs, say) is not in the overlay: it is listed
 * whole. Two snapshots are equal iff nothing under those trees was changed in between, and
 * they cost little: they read what changed, not all of /etc, and nothing the host changes
 * underneath shows in them.
 */
export async function treeSnapshot(sb: Sandbox): Promise<string> {
  const trees = (['/etc', '/var/spool', '/var/lib'] as const).map((d) => [d, sb.upperDir(d)] as const);
  const upperLayers = trees.map(
    ([d, upper]) => String.raw`cd ${shq(upper)}
find . -printf '%y %M %u:%g %s %T@ ${d}/%P\n' | LC_ALL=C sort
find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r md5sum | sed 's,  \./,  ${d}/,'`,
  );
  const r = await sb.runOk(String.raw`set -eo pipefail
${upperLayers.join('\n')}
# mounted inside the sandbox under those trees (the container's bind-mounted files too)
for m in $(awk '{ print $5 }' /proc/self/mountinfo | LC_ALL=C sort -u); do
  m=$(printf '%b' "$m")
  case $m in /etc/*|/var/spool/*|/var/lib/*) ;; *) continue ;; esac
  echo "@@MOUNT $m"
  find "$m" -xdev -printf '%y %M %u:%g %s %T@ %p\n' | LC_ALL=C sort
  find "$m" -xdev -type f -print0 | LC_ALL=C sort -z | xargs -0 -r md5sum
done`);
  return r.stdout;
}

/** A treeSnapshot() without directories' mtimes: directories made and removed again leave their parents with a new mtime, nothing else. */
export function withoutDirectoryTimes(tree: string): string {
  return tree
    .split('\n')
    .map((l) => l.replace(/^(d \S+ \S+ \S+) \S+ /, '$1 '))
    .sort()
    .join('\n');
}

/** Asserts a refusal: non-zero exit, exactly one line on stderr, naming `value`, nothing on stdout. */
export function expectRefusal(r: RunResult, value: string | RegExp): string {
  const err = r.stderr.replace(/\n$/, '');
  expect(r.exitCode, `exit status; stderr: ${r.stderr}`).not.toBe(0);
  expect(err.split('\n'), `one line on stderr: ${r.stderr}`).toHaveLength(1);
  if (typeof value === 'string') expect(err).toContain(value);
  else expect(err).toMatch(value);
  expect(r.stdout).toBe('');
  return err;
}

/** A script that moves DIR onto a tmpfs of its own (inside the sandbox) and fills that to the last block: its next write fails with ENOSPC. */
export const fullTmpfs = (dir: string): string => String.raw`
set -e
cp -a ${dir} ${dir}.copy
mount -t tmpfs -o size=256k,mode=0755 tmpfs ${dir}
cp -a ${dir}.copy/. ${dir}/
rm -rf ${dir}.copy
dd if=/dev/zero of=${dir}/filler bs=4k 2>/dev/null || true
dd if=/dev/zero of=${dir}/filler2 bs=1 2>/dev/null || true
`;
