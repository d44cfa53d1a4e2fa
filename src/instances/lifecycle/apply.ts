/**
 * Declarative provisioning: the manifest is the desired state, the snapshot what is found;
 * one plan brings the second in line with the first — missing instances created (from
 * their template, with their settings, enabled or not), existing ones regrouped,
 * reconfigured, enabled or disabled; those whose state is absent or deported destroyed or
 * deported under destroy's and deport's rules — and one transaction applies it. Instances
 * the manifest does not name are left alone. Applied, the manifest plans to nothing.
 * Pure: actions.ts's applyManifest() runs the plan as a transaction.
 */
import { PostfleetError } from '../errors.js';
import type { Instance } from '../instance.js';
import { planAdditions, requestedDirectory, type AddRequest } from './build.js';
import { listEdits } from './instance-list.js';
import { planRemovals, type RemovalAction } from './removal.js';
import { editPlan, mainCfText, requireInit, type InstancePlan, type Plan } from './plan.js';
import type { Snapshot } from './snapshot.js';
import type { MainCfEdit } from '../maincf/edit.js';
import { ParameterSet } from '../maincf/expand.js';
import { parseMainCf } from '../maincf/parse.js';
import type { ManifestInstance } from './manifest.js';
import type { Fleet } from '../registry.js';
import { renderTemplate, type Template } from '../templates/render.js';

/** A manifest entry with its template loaded (loading reads files: done before planning). */
export interface DesiredInstance extends ManifestInstance {
  readonly loadedTemplate: Template | undefined;
}

export function planApply(snap: Snapshot, desired: readonly DesiredInstance[]): Plan {
  const byName = namedInstances(snap.fleet);
  // Every template and variable is resolved first: a bad manifest plans nothing.
  const rendered = desired.map((m) => renderTemplate(m.loadedTemplate, m.settings));
  const missing = desired.filter((m) => m.state === 'present' && !byName.has(m.name));
  const additions = missing.length > 0 ? planAdditions(snap, 'create', missing.map(addRequest)) : undefined;
  const made = new Map(missing.map((m, k) => [m.name, additions!.instances[k]!]));
  // Instances to remove, planned together: one that cannot go refuses the whole manifest.
  const leaving = desired.filter((m) => m.state !== 'present' && byName.has(m.name));
  const removals = planRemovals(
    snap,
    leaving.map((m) => ({ action: removalAction(m), entry: { kind: 'ok', instance: byName.get(m.name)! } as const })),
    { verb: 'remove', whole: `${leaving.length} instances the manifest removes` },
  );
  const gone = new Map(leaving.map((m, k) => [m.name, removals.instances[k]!]));
  const instances: InstancePlan[] = [];
  const primaryEdits: MainCfEdit[] = additions || leaving.length > 0 ? listEdits(snap.fleet, { add: additions?.add, remove: removals.remove }) : [];
  desired.forEach((m, k) => {
    const existing = byName.get(m.name);
    if (m.state !== 'present') {
      // Already gone: nothing to do. It is reported where an instance of that name would be.
      const entry = gone.get(m.name) ?? { action: removalAction(m), name: m.name, configDirectory: requestedDirectory(snap.fleet, addRequest(m)) ?? '', primary: false, steps: [], notes: [] };
      instances.push(entry);
      return;
    }
    if (existing === undefined) {
      instances.push(made.get(m.name)!);
      return;
    }
    requireSamePlace(m, existing);
    const edits = settingEdits(existing, settingsOf(snap, existing), snap.fleet.defaults, m, rendered[k]!.settings);
    // Only an instance that differs has its main.cf text read (manifestDirectories): the others are planned from their settings.
    if (edits.length === 0) {
      instances.push({ action: 'update', name: existing.name ?? null, configDirectory: existing.configDirectory, primary: existing.primary, steps: [], notes: [] });
      return;
    }
    const p = editPlan(snap, 'update', existing, edits);
    if (p.entry.steps.length > 0 || p.primaryEdits.length > 0) requireInit(snap.fleet);
    instances.push(p.entry);
    primaryEdits.push(...p.primaryEdits);
  });
  return { instances, primaryEdits, skipped: [], independent: missing.length === 0 };
}

const removalAction = (m: DesiredInstance): RemovalAction => (m.state === 'absent' ? 'destroy' : 'deport');

function addRequest(m: DesiredInstance): AddRequest {
  return { name: m.name, group: m.group, paths: m.paths, template: m.loadedTemplate, settings: m.settings, enabled: m.enabled === true };
}

function namedInstances(fleet: Fleet): Map<string, Instance> {
  return new Map(fleet.entries.flatMap((e) => (e.kind === 'ok' && e.instance.name !== undefined ? [[e.instance.name, e.instance] as const] : [])));
}

/** postfleet does not move an instance: a manifest that places an existing one elsewhere is refused. */
function requireSamePlace(m: DesiredInstance, i: Instance): void {
  const actual = { config_directory: i.configDirectory, queue_directory: i.queueDirectory, data_directory: i.dataDirectory };
  for (const [param, wanted] of Object.entries(m.paths) as Array<[keyof typeof actual, string]>) {
    if (wanted !== actual[param]) {
      throw new PostfleetError(`[${m.name}] ${param} = ${wanted}, but the instance has ${actual[param]}: an existing instance is not moved (deport it and import it, or fix the manifest)`);
    }
  }
}

function settingsOf(snap: Snapshot, i: Instance): ReadonlyMap<string, string> {
  return (i.primary ? undefined : snap.settings.get(i.configDirectory)) ?? parseMainCf(i.primary ? snap.primaryMainCf : mainCfText(snap, i.configDirectory));
}

/** Group, parameters and enabled state whose value in the instance's main.cf differs from the manifest's. */
function settingEdits(
  i: Instance,
  current: ReadonlyMap<string, string>,
  defaults: ReadonlyMap<string, string>,
  m: DesiredInstance,
  settings: ReadonlyArray<readonly [string, string]>,
): MainCfEdit[] {
  const params = new ParameterSet(current, defaults, { configDirectory: i.configDirectory });
  const edits: MainCfEdit[] = [];
  if (m.group !== undefined && m.group !== (i.group ?? '')) edits.push({ op: 'set', name: 'multi_instance_group', value: m.group });
  for (const [name, value] of settings) {
    if (!params.isExplicit(name) || (params.raw(name) ?? '').trim() !== value.trim()) edits.push({ op: 'set', name, value });
  }
  if (m.enabled !== undefined && m.enabled !== i.enabled) edits.push({ op: 'set', name: 'multi_instance_enable', value: m.enabled ? 'yes' : 'no' });
  return edits;
}

/** The directories of the instances to create and of the existing ones whose settings differ from the manifest's. */
export function manifestDirectories(fleet: Fleet, settings: ReadonlyMap<string, ReadonlyMap<string, string>>, desired: readonly DesiredInstance[]): string[] {
  const byName = namedInstances(fleet);
  return desired.flatMap((m) => {
    const existing = byName.get(m.name);
    if (m.state !== 'present') return existing ? [existing.configDirectory] : [];
    if (!existing) return requestedDirectory(fleet, addRequest(m)) ?? [];
    if (existing.primary) return [];
    const current = settings.get(existing.configDirectory);
    if (current === undefined) return [existing.configDirectory];
    try {
      const wanted = renderTemplate(m.loadedTemplate, m.settings).settings;
      return settingEdits(existing, current, fleet.defaults, m, wanted).length > 0 ? [existing.configDirectory] : [];
    } catch {
      return []; // a bad manifest: planApply refuses it
    }
  });
}
