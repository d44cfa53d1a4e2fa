/**
 * What a life-cycle change is, as data: per instance, the file steps and what the report
 * says of them; for the whole change, the edits of the primary main.cf (written last, in
 * one atomic write) and what is removed once it is written. Planners build one from a
 * snapshot without any I/O; transaction.ts applies it whole or not at all.
 */
import { PostfleetError } from '../errors.js';
import type { FleetEntry, Instance } from '../instance.js';
import { editMainCf, type MainCfEdit } from '../maincf/edit.js';
import type { Fleet } from '../registry.js';
import { entryMatches, type Selection } from '../selection.js';
import type { Snapshot } from './snapshot.js';
import { describeEdit, type Step } from './steps.js';
import { strerror } from '../strerror.js';

export type Action = 'init' | 'create' | 'import' | 'deport' | 'destroy' | 'enable' | 'disable' | 'assign' | 'update' | 'set' | 'unset';

export interface InstancePlan {
  readonly action: Action;
  readonly name: string | null;
  readonly configDirectory: string;
  readonly primary: boolean;
  /** This instance's file work, in order, done before the primary main.cf is written. */
  readonly steps: readonly Step[];
  /** What the report says besides the steps: this instance's part in the primary main.cf edit. */
  readonly notes: readonly string[];
  /** This instance's main.cf before and after ('' where there is none), when it changes. */
  readonly mainCf?: { readonly before: string; readonly after: string } | undefined;
  /**
   * destroy: files removed once the primary no longer lists the instance (postmulti-script's
   * order: a crash leaves unlisted debris, never a listed half-removed instance), unless one of
   * `directories` was claimed again by then. Removal warns where it cannot remove; it is not undone.
   */
  readonly release?: { readonly directories: readonly string[]; readonly steps: readonly Step[] } | undefined;
}

/** An instance the request selected but that cannot be acted on (broken): reported, skipped. */
export interface Skipped {
  readonly configDirectory: string;
  readonly error: string;
}

export interface Plan {
  readonly instances: readonly InstancePlan[];
  /** Applied to the primary main.cf in one atomic write, after every instance's steps. */
  readonly primaryEdits: readonly MainCfEdit[];
  readonly skipped: readonly Skipped[];
  /** Each instance's steps touch only that instance's main.cf: several may run at once. */
  readonly independent?: boolean;
}

/** Whether applying the plan would change anything on disk. */
export function changesAnything(plan: Plan, primaryMainCf: string): boolean {
  return (
    plan.instances.some((i) => i.steps.length > 0) ||
    plan.instances.some((i) => (i.release?.steps.length ?? 0) > 0) ||
    (plan.primaryEdits.length > 0 && editMainCf(primaryMainCf, plan.primaryEdits) !== primaryMainCf)
  );
}

/** postmulti-script refuses every other action until init was done. */
export function requireInit(fleet: Fleet): void {
  if (fleet.primaryParameters.get('multi_instance_wrapper') === '') {
    throw new PostfleetError("multi_instance_wrapper is empty, run 'postfleet init' first.");
  }
  if (fleet.primaryParameters.get('multi_instance_enable') !== 'yes') {
    throw new PostfleetError("multi_instance_enable!=yes, run 'postfleet init' first.");
  }
}

export const entryDirectory = (e: FleetEntry): string => (e.kind === 'ok' ? e.instance.configDirectory : e.broken.configDirectory);

export const isPrimaryEntry = (e: FleetEntry): boolean => (e.kind === 'ok' ? e.instance.primary : e.broken.primary);

/**
 * postmulti's select_existing_instance(): -i is required; the first match wins. A broken entry
 * is matched as selection.ts matches it: by its directory, or '-' for a broken primary.
 */
export function selectExisting(fleet: Fleet, selection: Selection | undefined): FleetEntry {
  if (selection?.type !== 'name') throw new PostfleetError("Select an instance via '-i name'");
  const found = fleet.entries.find((e) => entryMatches(e, selection));
  if (!found) throw new PostfleetError(`No instance named ${selection.name}`);
  return found;
}

export function selectSound(fleet: Fleet, selection: Selection | undefined): Instance {
  const e = selectExisting(fleet, selection);
  if (e.kind === 'broken') throw new PostfleetError(`instance ${e.broken.configDirectory} is broken: ${e.broken.reason}`);
  return e.instance;
}

/** The main.cf text of a directory the snapshot read; a PostfleetError naming it otherwise. */
export function mainCfText(snap: Snapshot, configDirectory: string): string {
  const d = snap.directories.get(configDirectory);
  if (d?.mainCf === undefined) throw new PostfleetError(d?.mainCfError ?? `cannot read ${configDirectory}/main.cf: ${strerror('ENOENT')}`);
  return d.mainCf;
}

/**
 * Edits of an instance's main.cf as a plan entry: under the primary's own lock for the
 * primary (part of the one primary write), else a step under that main.cf's lock. Edits
 * that leave the text as it is are no change at all.
 */
export function editPlan(snap: Snapshot, action: Action, i: Instance, edits: readonly MainCfEdit[]): { entry: InstancePlan; primaryEdits: MainCfEdit[] } {
  const before = i.primary ? snap.primaryMainCf : mainCfText(snap, i.configDirectory);
  const after = edits.length > 0 ? editMainCf(before, edits) : before;
  const changed = after !== before;
  const base = { action, name: i.name ?? null, configDirectory: i.configDirectory, primary: i.primary };
  if (!changed) return { entry: { ...base, steps: [], notes: [] }, primaryEdits: [] };
  const mainCf = { before, after };
  if (i.primary) return { entry: { ...base, steps: [], notes: editLines(i.configDirectory, edits), mainCf }, primaryEdits: [...edits] };
  return { entry: { ...base, steps: [{ kind: 'edit', configDirectory: i.configDirectory, edits }], notes: [], mainCf }, primaryEdits: [] };
}

const editLines = (configDirectory: string, edits: readonly MainCfEdit[]): string[] => edits.map((e) => `edit ${configDirectory}/main.cf: ${describeEdit(e)}`);
