/**
 * Planning deport and destroy: taking a secondary off the list, and for destroy removing the
 * files Postfix made for it, nothing else. Pure: running state and queue counts come from the
 * snapshot.
 */
import { PostfleetError } from '../errors.js';
import type { FleetEntry, Instance } from '../instance.js';
import type { Selection } from '../selection.js';
import { listEdits, listNote } from './instance-list.js';
import { entryDirectory, requireInit, selectExisting, type Plan } from './plan.js';
import type { Snapshot } from './snapshot.js';
import type { Step } from './steps.js';

/** The queue subdirectories Postfix makes; destroy removes these and nothing else there. */
const QUEUE_SUBDIRS = ['active', 'bounce', 'corrupt', 'defer', 'deferred', 'flush', 'hold', 'incoming', 'maildrop', 'pid', 'private', 'public', 'saved', 'trace'];

const label = (e: FleetEntry): string => (e.kind === 'ok' ? (e.instance.name ?? e.instance.configDirectory) : e.broken.configDirectory);

function removable(snap: Snapshot, selection: Selection | undefined): FleetEntry {
  const e = selectExisting(snap.fleet, selection);
  const primary = e.kind === 'ok' ? e.instance.primary : e.broken.primary;
  if (primary) throw new PostfleetError(`Cannot remove the primary instance: ${entryDirectory(e)}`);
  if (e.kind === 'ok' && e.instance.enabled) throw new PostfleetError(`Cannot remove enabled instances: ${label(e)} is enabled`);
  return e;
}

function requireStopped(snap: Snapshot, i: Instance): void {
  const pid = snap.directories.get(i.configDirectory)?.status?.pid ?? null;
  if (pid !== null) throw new PostfleetError(`Instance '${i.configDirectory}' is not stopped (master pid ${pid})`);
}

const hasMainCf = (snap: Snapshot, dir: string): boolean => {
  const d = snap.directories.get(dir);
  return d?.mainCf !== undefined || d?.mainCfError !== undefined;
};

export function planDeport(snap: Snapshot, selection: Selection | undefined): Plan {
  const fleet = snap.fleet;
  const e = removable(snap, selection);
  requireInit(fleet);
  const dir = entryDirectory(e);
  const entry = (name: string | null, how: 'remove' | 'deport') => ({ action: 'deport' as const, name, configDirectory: dir, primary: false, steps: [], notes: [listNote(fleet, dir, how)] });
  // Deporting an instance whose files are already gone just drops it.
  if (!hasMainCf(snap, dir)) return { instances: [entry(null, 'remove')], primaryEdits: listEdits(fleet, { remove: { directory: dir, keepAsAlternate: false } }), skipped: [] };
  if (e.kind === 'broken') throw new PostfleetError(`cannot deport ${dir}: ${e.broken.reason}`);
  requireStopped(snap, e.instance);
  return { instances: [entry(e.instance.name ?? null, 'deport')], primaryEdits: listEdits(fleet, { remove: { directory: dir, keepAsAlternate: true } }), skipped: [] };
}

export function planDestroy(snap: Snapshot, selection: Selection | undefined): Plan {
  const fleet = snap.fleet;
  const e = removable(snap, selection);
  requireInit(fleet);
  const dir = entryDirectory(e);
  if (!hasMainCf(snap, dir)) throw new PostfleetError(`${dir}/main.cf file not found`);
  if (e.kind === 'broken') throw new PostfleetError(`cannot destroy ${dir}: ${e.broken.reason}`);
  const i = e.instance;
  requireStopped(snap, i);
  const queued = snap.directories.get(dir)?.status?.queued ?? 0;
  if (queued > 0) throw new PostfleetError(`Instance '${dir}' has ${queued} message(s) in its queue ${i.queueDirectory}`);
  const removal: Step[] = [
    ...QUEUE_SUBDIRS.map((q): Step => ({ kind: 'rmdir', path: `${i.queueDirectory}/${q}` })),
    { kind: 'rmdir', path: i.dataDirectory },
    { kind: 'rmdir', path: i.queueDirectory },
    { kind: 'unlink', path: `${dir}/master.cf` },
    { kind: 'unlink', path: `${dir}/main.cf` },
    { kind: 'rmdir', path: dir },
  ];
  const before = snap.directories.get(dir)?.mainCf;
  return {
    instances: [
      {
        action: 'destroy',
        name: i.name ?? null,
        configDirectory: dir,
        primary: false,
        steps: [],
        notes: [listNote(fleet, dir, 'remove')],
        mainCf: before === undefined ? undefined : { before, after: '' },
        release: { directories: [dir, i.queueDirectory, i.dataDirectory], steps: removal },
      },
    ],
    primaryEdits: listEdits(fleet, { remove: { directory: dir, keepAsAlternate: false } }),
    skipped: [],
  };
}
