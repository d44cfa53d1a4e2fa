/**
 * Every change as one transaction: postmulti's life-cycle actions (-e init, create, import,
 * deport, destroy, enable, disable, assign), for one instance or several, config set/unset and
 * apply — what each reads (the snapshot's needs) and which pure planner plans it.
 */
import type { Fleet } from '../registry.js';
import type { MainCfEdit } from '../maincf/edit.js';
import { selectFleet, type FleetSelection, type Selection } from '../selection.js';
import { manifestDirectories, planApply, type DesiredInstance } from './apply.js';
import { planAdd, requestedDirectory, type AddRequest } from './build.js';
import { planConfigEdit } from './config-edit.js';
import { entryDirectory, selectExisting } from './plan.js';
import { planRemove, removalDirectories, type RemovalAction, type RemovalTargets } from './removal.js';
import type { ChangeReport } from './report.js';
import { enableDirectories, planAssign, planEnable, planInit, type EnableTargets } from './settings.js';
import { transact, transactUndoable, type LifecycleContext, type Transaction } from './transaction.js';

export type { AddRequest } from './build.js';
export type { EnableTargets } from './settings.js';
export type { RemovalAction, RemovalTargets } from './removal.js';
export type { ChangeAnswer, ChangeReport } from './report.js';
export type { LifecycleContext } from './transaction.js';

export function init(ctx: LifecycleContext, wrapperCommand: string): Promise<ChangeReport> {
  return transact(ctx, { directories: () => [] }, (snap) => planInit(snap, wrapperCommand));
}

/** One instance, or several in one transaction (appended to the list in order). */
export function create(ctx: LifecycleContext, reqs: readonly AddRequest[]): Promise<ChangeReport> {
  return transact(ctx, { directories: (fleet) => requestedDirectories(fleet, reqs) }, (snap) => planAdd(snap, 'create', reqs));
}

/** One existing instance or several, in one transaction (appended to the list in order). */
export function importInstances(ctx: LifecycleContext, reqs: readonly AddRequest[]): Promise<ChangeReport> {
  return transact(ctx, { directories: (fleet) => requestedDirectories(fleet, reqs) }, (snap) => planAdd(snap, 'import', reqs));
}

/** deport or destroy of one instance or several, in one transaction: refused whole if one cannot go. */
export function remove(ctx: LifecycleContext, action: RemovalAction, targets: RemovalTargets): Promise<ChangeReport> {
  return transact(ctx, { directories: (fleet) => removalDirectories(fleet, targets), status: true }, (snap) => planRemove(snap, action, targets));
}

export function setEnabled(ctx: LifecycleContext, targets: EnableTargets, enabled: boolean): Promise<ChangeReport> {
  return transact(ctx, { directories: (fleet) => enableDirectories(fleet, targets) }, (snap) => planEnable(snap, targets, enabled));
}

/** config set / config unset on every selected instance. */
export function editConfig(ctx: LifecycleContext, selection: FleetSelection, edits: readonly MainCfEdit[]): Promise<ChangeReport> {
  return transact(ctx, { directories: (fleet) => selectedSecondaries(fleet, selection) }, (snap) => planConfigEdit(snap, selection, edits));
}

/** editConfig(), its undo log kept: a roll-out's batch. */
export function editConfigUndoable(ctx: LifecycleContext, selection: FleetSelection, edits: readonly MainCfEdit[]): Promise<Transaction> {
  return transactUndoable(ctx, { directories: (fleet) => selectedSecondaries(fleet, selection) }, (snap) => planConfigEdit(snap, selection, edits));
}

/** One plan for the whole manifest. */
export function applyManifest(ctx: LifecycleContext, desired: readonly DesiredInstance[]): Promise<ChangeReport> {
  return transact(ctx, manifestNeeds(desired), (snap) => planApply(snap, desired));
}

/** applyManifest(), its undo log kept: a roll-out's batch. */
export function applyManifestUndoable(ctx: LifecycleContext, desired: readonly DesiredInstance[]): Promise<Transaction> {
  return transactUndoable(ctx, manifestNeeds(desired), (snap) => planApply(snap, desired));
}

/** What a manifest's plan reads: its directories; and, for removals (state = absent | deported), each removed instance's master and queue. */
function manifestNeeds(desired: readonly DesiredInstance[]): Parameters<typeof transact>[1] {
  return { directories: (fleet, settings) => manifestDirectories(fleet, settings, desired), status: desired.some((m) => m.state !== 'present') };
}

export function assign(ctx: LifecycleContext, selection: Selection | undefined, name: string | undefined, group: string | undefined): Promise<ChangeReport> {
  return transact(ctx, { directories: (fleet) => selectedDirectory(fleet, selection) }, (snap) => planAssign(snap, selection, name, group));
}

function requestedDirectories(fleet: Fleet, reqs: readonly AddRequest[]): string[] {
  return reqs.flatMap((r) => requestedDirectory(fleet, r) ?? []);
}

function selectedSecondaries(fleet: Fleet, selection: FleetSelection): string[] {
  return selectFleet(fleet.entries, selection).flatMap((e) => (e.kind === 'ok' && !e.instance.primary ? [e.instance.configDirectory] : []));
}

/** Best effort: a selection that names nothing is the planner's to refuse. */
function selectedDirectory(fleet: Fleet, selection: Selection | undefined): string[] {
  try {
    return [entryDirectory(selectExisting(fleet, selection))];
  } catch {
    return [];
  }
}
