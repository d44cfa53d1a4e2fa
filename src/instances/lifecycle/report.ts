/**
 * What every changing command answers, whatever the number of instances: `--json` prints
 * this object; the text rendering says the same in lines.
 */
import { instanceLabel } from '../instance.js';
import { editMainCf } from '../maincf/edit.js';
import type { Action, Plan, Skipped } from './plan.js';
import { describeStep } from './steps.js';

export interface InstanceReport {
  /** The name; '-' for a nameless primary; else the config directory. */
  readonly instance: string;
  readonly name: string | null;
  readonly configDirectory: string;
  readonly action: Action;
  readonly changed: boolean;
  /** What was (with --dry-run: would be) done, one line each. */
  readonly changes: readonly string[];
}

interface FileDiff {
  readonly path: string;
  /** '' where the file does not exist (before a create, after a destroy). */
  readonly before: string;
  readonly after: string;
}

export interface ChangeReport {
  readonly changed: boolean;
  readonly dryRun: boolean;
  readonly instances: readonly InstanceReport[];
  /** Every main.cf the change writes (or would), whole. */
  readonly diff: readonly FileDiff[];
  readonly warnings: readonly string[];
  /** Selected instances that were reported and skipped (broken): the exit status is 1. */
  readonly failed: readonly Skipped[];
}

export function reportOf(plan: Plan, primary: { configDirectory: string; mainCf: string }, dryRun: boolean, warnings: readonly string[]): ChangeReport {
  const primaryAfter = plan.primaryEdits.length > 0 ? editMainCf(primary.mainCf, plan.primaryEdits) : primary.mainCf;
  const primaryChanged = primaryAfter !== primary.mainCf;
  const instances = plan.instances.map((p): InstanceReport => {
    const changes = [
      ...p.steps.flatMap((s) => describeStep(s).split('\n')),
      ...(primaryChanged ? p.notes : []),
      ...(p.release?.steps ?? []).flatMap((s) => describeStep(s).split('\n')),
    ];
    return { instance: instanceLabel({ ...p, name: p.name ?? undefined }), name: p.name, configDirectory: p.configDirectory, action: p.action, changed: changes.length > 0, changes };
  });
  const diff: FileDiff[] = plan.instances.flatMap((p) => (p.mainCf && !p.primary ? [{ path: `${p.configDirectory}/main.cf`, ...p.mainCf }] : []));
  if (primaryChanged) diff.push({ path: `${primary.configDirectory}/main.cf`, before: primary.mainCf, after: primaryAfter });
  return { changed: instances.some((i) => i.changed), dryRun, instances, diff, warnings: [...warnings], failed: plan.skipped };
}
