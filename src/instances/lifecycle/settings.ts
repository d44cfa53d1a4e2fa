/**
 * Planning the actions that only edit main.cf settings: init (the primary's), enable and
 * disable (of one instance, several, a group or every secondary) and assign. Pure.
 */
import { describeBroken, type BrokenInstance, type Instance } from '../instance.js';
import { PostfleetError } from '../errors.js';
import type { MainCfEdit } from '../maincf/edit.js';
import type { Fleet } from '../registry.js';
import { nothingMatchedMessage, selectEntries, type Selection } from '../selection.js';
import { checkGroupName, checkInstanceName } from './names.js';
import { editPlan, entryDirectory, isPrimaryEntry, requireInit, selectSound, type InstancePlan, type Plan } from './plan.js';
import type { Snapshot } from './snapshot.js';

export function planInit(snap: Snapshot, wrapperCommand: string): Plan {
  const primary = snap.fleet.entries[0];
  const edits: MainCfEdit[] = [
    { op: 'set', name: 'multi_instance_wrapper', value: wrapperCommand },
    { op: 'set', name: 'multi_instance_enable', value: 'yes' },
  ];
  // init repairs a primary that is broken (a bad multi_instance_enable, say): it is planned from its directory alone.
  const self: Instance =
    primary?.kind === 'ok'
      ? { ...primary.instance, primary: true }
      : { configDirectory: snap.fleet.primaryConfigDirectory, queueDirectory: '', dataDirectory: '', name: undefined, group: undefined, enabled: false, primary: true };
  const { entry, primaryEdits } = editPlan(snap, 'init', self, edits);
  return { instances: [entry], primaryEdits, skipped: [] };
}

/**
 * Several instances to enable or disable (a postfleet extra): names, a group, or every
 * secondary. "All" leaves the primary out: its multi_instance_enable = yes is what init set
 * and every other action requires, so only naming it ('-') changes it.
 */
export type EnableTargets = { readonly names: readonly string[] } | { readonly group: string } | { readonly secondaries: true };

export function planEnable(snap: Snapshot, targets: EnableTargets, enabled: boolean): Plan {
  const { chosen, broken } = enableTargets(snap.fleet, targets);
  requireInit(snap.fleet);
  const edit: MainCfEdit = { op: 'set', name: 'multi_instance_enable', value: enabled ? 'yes' : 'no' };
  const instances: InstancePlan[] = [];
  const primaryEdits: MainCfEdit[] = [];
  for (const i of chosen) {
    const p = editPlan(snap, enabled ? 'enable' : 'disable', i, [edit]);
    instances.push(p.entry);
    primaryEdits.push(...p.primaryEdits);
  }
  const skipped = broken.map((b) => ({ configDirectory: b.configDirectory, error: describeBroken(b) }));
  return { instances, primaryEdits, skipped, independent: true };
}

/** The instances EnableTargets name, in list order, each once; named ones must all be sound. */
function enableTargets(fleet: Fleet, targets: EnableTargets): { chosen: Instance[]; broken: BrokenInstance[] } {
  if ('names' in targets) {
    const wanted = new Set(targets.names.map((name) => selectSound(fleet, { type: 'name', name }).configDirectory));
    const chosen = new Map<string, Instance>();
    for (const e of fleet.entries) if (e.kind === 'ok' && wanted.has(e.instance.configDirectory)) chosen.set(e.instance.configDirectory, e.instance);
    return { chosen: [...chosen.values()], broken: [] };
  }
  const selection: Selection = 'group' in targets ? { type: 'group', group: targets.group } : { type: 'all' };
  const selected = selectEntries('group' in targets ? fleet.entries : fleet.entries.filter((e) => !isPrimaryEntry(e)), selection);
  if (selected.length === 0) throw new PostfleetError('group' in targets ? nothingMatchedMessage(selection) : 'no secondary instances');
  const seen = new Set<string>();
  const chosen: Instance[] = [];
  const broken: BrokenInstance[] = [];
  for (const e of selected) {
    const dir = entryDirectory(e);
    if (seen.has(dir)) continue; // an instance listed twice is edited once
    seen.add(dir);
    if (e.kind === 'ok') chosen.push(e.instance);
    else broken.push(e.broken);
  }
  return { chosen, broken };
}

export function planAssign(snap: Snapshot, selection: Selection | undefined, name: string | undefined, group: string | undefined): Plan {
  const fleet = snap.fleet;
  const i = selectSound(fleet, selection);
  if (name !== undefined) checkInstanceName(name);
  if (group !== undefined) checkGroupName(group);
  const edits: MainCfEdit[] = [];
  if (group !== undefined && group !== (i.group ?? '')) edits.push({ op: 'set', name: 'multi_instance_group', value: group });
  if (name !== undefined && name !== (i.name ?? '')) {
    if (name !== '') {
      const conflict = fleet.claims.clone().claimAll(i.configDirectory, [{ param: 'multi_instance_name', value: name }]);
      if (conflict) throw new PostfleetError(conflict);
    }
    edits.push({ op: 'set', name: 'multi_instance_name', value: name });
  }
  if (edits.length > 0) requireInit(fleet);
  const { entry, primaryEdits } = editPlan(snap, 'assign', i, edits);
  const newName = name === undefined ? (i.name ?? null) : name || null;
  return { instances: [{ ...entry, name: newName }], primaryEdits, skipped: [] };
}

/** Directories whose main.cf an enable/disable plan reads. */
export function enableDirectories(fleet: Fleet, targets: EnableTargets): string[] {
  try {
    return enableTargets(fleet, targets).chosen.filter((i) => !i.primary).map((i) => i.configDirectory);
  } catch {
    return [];
  }
}
