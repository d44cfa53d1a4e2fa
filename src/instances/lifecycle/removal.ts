/**
 * Planning deport and destroy: taking secondaries off the list, and for destroy removing the
 * files Postfix made for them, nothing else. One instance or many (names, groups, every
 * secondary), planned together: if one of them cannot go, none does, and the refusal names
 * each one that blocks and why. Pure: running state and queue counts come from the snapshot.
 */
import { PostfleetError } from '../errors.js';
import type { FleetEntry, Instance } from '../instance.js';
import type { Fleet } from '../registry.js';
import { nothingMatchedMessage, selectEntries, type StateFilter } from '../selection.js';
import { listEdits, listNote, type ListChange } from './instance-list.js';
import { entryDirectory, isPrimaryEntry, requireInit, selectExisting, type InstancePlan, type Plan } from './plan.js';
import type { Snapshot } from './snapshot.js';
import type { Step } from './steps.js';

/** The queue subdirectories Postfix makes; destroy removes these and nothing else there. */
const QUEUE_SUBDIRS = ['active', 'bounce', 'corrupt', 'defer', 'deferred', 'flush', 'hold', 'incoming', 'maildrop', 'pid', 'private', 'public', 'saved', 'trace'];

export type RemovalAction = 'deport' | 'destroy';

/**
 * What deport and destroy act on: instances named (as -i names them: the first match), the
 * members of groups, or every secondary; their union, each once, in list order, narrowed by
 * multi_instance_enable. A broken entry's state is unknown: a filter keeps it, to be refused.
 */
export interface RemovalTargets {
  readonly names?: readonly string[] | undefined;
  readonly groups?: readonly string[] | undefined;
  readonly all?: boolean | undefined;
  readonly state?: StateFilter | undefined;
}

function removalEntries(fleet: Fleet, targets: RemovalTargets): FleetEntry[] {
  const chosen = new Set<string>();
  if (targets.all) {
    const secondaries = fleet.entries.filter((e) => !isPrimaryEntry(e));
    if (secondaries.length === 0) throw new PostfleetError('no secondary instances');
    for (const e of secondaries) chosen.add(entryDirectory(e));
  }
  for (const name of targets.names ?? []) chosen.add(entryDirectory(selectExisting(fleet, { type: 'name', name })));
  for (const group of targets.groups ?? []) {
    const members = selectEntries(fleet.entries, { type: 'group', group });
    if (members.length === 0) throw new PostfleetError(nothingMatchedMessage({ type: 'group', group }));
    for (const e of members) chosen.add(entryDirectory(e));
  }
  if (chosen.size === 0) throw new PostfleetError('name an instance, or select instances with --group or --all');
  const seen = new Set<string>();
  const picked = fleet.entries.filter((e) => {
    const dir = entryDirectory(e);
    if (!chosen.has(dir) || seen.has(dir)) return false; // an instance listed twice is removed once
    seen.add(dir);
    return true;
  });
  const state = targets.state;
  if (state === undefined) return picked;
  const kept = picked.filter((e) => e.kind === 'broken' || e.instance.enabled === (state === 'enabled'));
  if (kept.length === 0) {
    const other = state === 'enabled' ? 'disabled' : 'enabled';
    throw new PostfleetError(`no ${state} instance among those selected (--${state}: ${picked.length === 1 ? `the 1 selected is ${other}` : `all ${picked.length} selected are ${other}`})`);
  }
  return kept;
}

/** Why one instance cannot be removed: `message` is postmulti's wording, `reason` the short form for a list. */
interface Blocker {
  readonly label: string;
  readonly reason: string;
  readonly message: string;
  /** postmulti refuses these before it checks that init was done. */
  readonly early?: boolean;
}

const label = (e: FleetEntry): string => (e.kind === 'ok' ? (e.instance.name ?? e.instance.configDirectory) : e.broken.configDirectory);

const hasMainCf = (snap: Snapshot, dir: string): boolean => {
  const d = snap.directories.get(dir);
  return d?.mainCf !== undefined || d?.mainCfError !== undefined;
};

/** One instance's part: its plan entry and its list change, or why it cannot go. */
type Part = { readonly entry: InstancePlan; readonly remove: { readonly directory: string; readonly keepAsAlternate: boolean } } | { readonly blocker: Blocker };

function partOf(snap: Snapshot, action: RemovalAction, e: FleetEntry): Part {
  const fleet = snap.fleet;
  const dir = entryDirectory(e);
  const who = label(e);
  const block = (reason: string, message: string, early = false): Part => ({ blocker: { label: who, reason, message, early } });
  if (isPrimaryEntry(e)) return block('the primary instance', `Cannot remove the primary instance: ${dir}`, true);
  if (e.kind === 'ok' && e.instance.enabled) return block('enabled', `Cannot remove enabled instances: ${who} is enabled`, true);
  if (!hasMainCf(snap, dir)) {
    // Deporting an instance whose files are already gone just drops it.
    if (action === 'deport') return { entry: entryOf(action, null, dir, [listNote(fleet, dir, 'remove')]), remove: { directory: dir, keepAsAlternate: false } };
    return block(`${dir}/main.cf not found`, `${dir}/main.cf file not found`);
  }
  if (e.kind === 'broken') return block(`broken: ${e.broken.reason}`, `cannot ${action} ${dir}: ${e.broken.reason}`);
  const i = e.instance;
  const status = snap.directories.get(dir)?.status;
  const pid = status?.pid ?? null;
  if (pid !== null) return block(`running (master pid ${pid})`, `Instance '${dir}' is not stopped (master pid ${pid})`);
  const name = i.name ?? null;
  if (action === 'deport') return { entry: entryOf(action, name, dir, [listNote(fleet, dir, 'deport')]), remove: { directory: dir, keepAsAlternate: true } };
  const queued = status?.queued ?? 0;
  if (queued > 0) return block(`${queued} message(s) in its queue ${i.queueDirectory}`, `Instance '${dir}' has ${queued} message(s) in its queue ${i.queueDirectory}`);
  const before = snap.directories.get(dir)?.mainCf;
  return {
    entry: {
      ...entryOf(action, name, dir, [listNote(fleet, dir, 'remove')]),
      mainCf: before === undefined ? undefined : { before, after: '' },
      release: { directories: [dir, i.queueDirectory, i.dataDirectory], steps: removalSteps(i) },
    },
    remove: { directory: dir, keepAsAlternate: false },
  };
}

function entryOf(action: RemovalAction, name: string | null, configDirectory: string, notes: string[]): InstancePlan {
  return { action, name, configDirectory, primary: false, steps: [], notes };
}

/** What destroy removes once the instance is off the list: Postfix's queue subdirectories, the then empty directories, main.cf and master.cf. */
function removalSteps(i: Instance): Step[] {
  const dir = i.configDirectory;
  return [
    ...QUEUE_SUBDIRS.map((q): Step => ({ kind: 'rmdir', path: `${i.queueDirectory}/${q}` })),
    { kind: 'rmdir', path: i.dataDirectory },
    { kind: 'rmdir', path: i.queueDirectory },
    { kind: 'unlink', path: `${dir}/master.cf` },
    { kind: 'unlink', path: `${dir}/main.cf` },
    { kind: 'rmdir', path: dir },
  ];
}

export interface Removals {
  readonly instances: readonly InstancePlan[];
  readonly remove: NonNullable<ListChange['remove']>;
}

/**
 * Several removals planned as one. Refused whole if one cannot go: with a single instance in
 * postmulti's words, else in one line naming each blocking instance and its reason.
 * `whole` says what was asked for, for that line ("5 selected instances").
 */
export function planRemovals(snap: Snapshot, items: ReadonlyArray<{ readonly action: RemovalAction; readonly entry: FleetEntry }>, refusal: { verb: string; whole: string }): Removals {
  const parts = items.map(({ action, entry }) => partOf(snap, action, entry));
  const blockers = parts.flatMap((p) => ('blocker' in p ? [p.blocker] : []));
  if (items.length === 1 && blockers[0]?.early) throw new PostfleetError(blockers[0].message);
  if (items.length > 0) requireInit(snap.fleet);
  if (blockers.length > 0) {
    if (items.length === 1) throw new PostfleetError(blockers[0]!.message);
    const each = blockers.map((b) => `${b.label}: ${b.reason}`).join('; ');
    throw new PostfleetError(`cannot ${refusal.verb} ${blockers.length} of the ${refusal.whole}, nothing was changed: ${each}`);
  }
  const planned = parts.flatMap((p) => ('entry' in p ? [p] : []));
  return { instances: planned.map((p) => p.entry), remove: planned.map((p) => p.remove) };
}

/** deport or destroy of the targets, one transaction's plan. */
export function planRemove(snap: Snapshot, action: RemovalAction, targets: RemovalTargets): Plan {
  const entries = removalEntries(snap.fleet, targets);
  const r = planRemovals(
    snap,
    entries.map((entry) => ({ action, entry })),
    { verb: action, whole: `${entries.length} selected instances` },
  );
  return { instances: r.instances, primaryEdits: listEdits(snap.fleet, { remove: r.remove }), skipped: [] };
}

/** The config directories a removal reads (best effort: bad targets are the planner's to refuse). */
export function removalDirectories(fleet: Fleet, targets: RemovalTargets): string[] {
  try {
    return removalEntries(fleet, targets).map(entryDirectory);
  } catch {
    return [];
  }
}
