/**
 * Declarative provisioning: make the machine match a manifest. Missing
 * instances are created (from their template, with their settings, enabled
 * or not); existing ones get their group, enabled state and parameters
 * brought in line. Instances the manifest does not name are left alone.
 * Idempotent: a second run finds nothing to change and says so.
 */
import type { ActionResult, LifecycleContext } from './lifecycle/operations.js';
import * as lifecycle from './lifecycle/operations.js';
import type { Instance } from './instance.js';
import type { ManifestInstance } from './manifest.js';
import { readMainCf } from './maincf/defaults.js';
import type { MainCfEdit } from './maincf/edit.js';
import { ParameterSet } from './maincf/expand.js';
import { editMainCfFile } from './maincf/write.js';
import { loadFleet } from './registry.js';
import { loadTemplate, renderTemplate } from './templates.js';

export interface InstanceOutcome {
  readonly instance: string;
  readonly created: boolean;
  readonly changed: boolean;
  readonly changes: readonly string[];
  readonly warnings: readonly string[];
}

export async function applyManifest(ctx: LifecycleContext, manifest: readonly ManifestInstance[], templatePath: readonly string[]): Promise<InstanceOutcome[]> {
  // Resolve every template and variable first: a bad manifest changes nothing.
  const templates = manifest.map((m) => (m.template === undefined ? undefined : loadTemplate(m.template, templatePath)));
  const rendered = manifest.map((m, k) => renderTemplate(templates[k], m.settings));
  // One read of the fleet serves every entry: the manifest names each instance once.
  // createMany reads the fleet again under the lock and refuses a name taken meanwhile.
  const fleet = loadFleet({ configDirectory: ctx.primaryConfigDirectory, defaults: ctx.defaults });
  const byName = new Map(fleet.entries.flatMap((e) => (e.kind === 'ok' && e.instance.name !== undefined ? [[e.instance.name, e.instance] as const] : [])));
  const steps: Array<{ name: string; created: boolean; results: ActionResult[]; changes: string[] }> = [];
  // Missing instances: made together, in one transaction (createMany), registered in manifest order.
  const missing = [...manifest.entries()].filter(([, m]) => !byName.has(m.name));
  const made = await lifecycle.createMany(
    ctx,
    missing.map(([k, m]) => ({ name: m.name, group: m.group, paths: m.paths, placement: undefined, template: templates[k], settings: m.settings })),
  );
  const madeByName = new Map(missing.map(([, m], j) => [m.name, made[j]!]));
  const toEnable: string[] = [];
  for (const [k, m] of manifest.entries()) {
    const existing = byName.get(m.name);
    if (existing === undefined) {
      const result = madeByName.get(m.name)!;
      // New instances are made disabled, as by create; enabling is its own step, one for all.
      const changes = m.enabled && ctx.dryRun ? [`edit ${result.configDirectory}/main.cf: multi_instance_enable = yes`] : [];
      if (m.enabled && !ctx.dryRun) toEnable.push(m.name);
      steps.push({ name: m.name, created: true, results: [result], changes });
      continue;
    }
    const results: ActionResult[] = [];
    if (m.group !== undefined && m.group !== (existing.group ?? '')) {
      results.push(await lifecycle.assign(ctx, { type: 'name', name: m.name }, undefined, m.group));
    }
    const edits = parameterEdits(existing, ctx.defaults, rendered[k]!.settings, m.enabled);
    const changes: string[] = [];
    if (edits.length > 0) {
      const { changed } = await editMainCfFile(existing.configDirectory, edits, { dryRun: ctx.dryRun });
      if (changed) for (const e of edits) changes.push(`edit ${existing.configDirectory}/main.cf: ${e.op === 'set' ? `${e.name} = ${e.value}`.trimEnd() : e.name}`);
    }
    steps.push({ name: m.name, created: false, results, changes });
  }
  if (toEnable.length > 0) {
    const enabled = new Map((await lifecycle.setEnabledOfNamed(ctx, toEnable, true)).map((r) => [r.instance, r]));
    for (const s of steps) {
      const r = enabled.get(s.name);
      if (r) s.results.push(r);
    }
  }
  return steps.map((s) => outcome(s.name, s.created, s.results, s.changes));
}

/** The settings whose value in the instance's main.cf differs from the manifest's. */
function parameterEdits(i: Instance, defaults: ReadonlyMap<string, string>, settings: ReadonlyArray<readonly [string, string]>, enabled: boolean | undefined): MainCfEdit[] {
  const params = new ParameterSet(readMainCf(i.configDirectory), defaults, { configDirectory: i.configDirectory });
  const edits: MainCfEdit[] = [];
  for (const [name, value] of settings) {
    if (!params.isExplicit(name) || (params.raw(name) ?? '').trim() !== value.trim()) edits.push({ op: 'set', name, value });
  }
  if (enabled !== undefined && enabled !== i.enabled) edits.push({ op: 'set', name: 'multi_instance_enable', value: enabled ? 'yes' : 'no' });
  return edits;
}

function outcome(instance: string, created: boolean, results: readonly ActionResult[], extra: readonly string[] = []): InstanceOutcome {
  const changes = [...results.flatMap((r) => r.changes), ...extra];
  return { instance, created, changed: changes.length > 0, changes, warnings: results.flatMap((r) => r.warnings) };
}
