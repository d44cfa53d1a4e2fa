/**
 * What every changing command answers, whatever the number of instances: the report, with
 * each main.cf's text before and after (what the check after a change reads), and the answer
 * `--json` prints, where each file is a unified diff instead (a thousand whole main.cf files
 * twice over would be ~50 MB). The text rendering says the same in lines.
 */
import { instanceLabel } from '../instance.js';
import { editMainCf } from '../maincf/edit.js';
import type { Action, Plan, Skipped } from './plan.js';
import { describeStep } from './steps.js';
import { unifiedDiff } from './unified-diff.js';

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

interface FileChange {
  readonly path: string;
  /** '' where the file does not exist (before a create, after a destroy). */
  readonly before: string;
  readonly after: string;
}

/** A main.cf in the JSON answer: its change as `diff -u` prints it, /dev/null for the side where it does not exist. */
interface FileDiff {
  readonly path: string;
  readonly unified: string;
}

export interface ChangeReport {
  readonly changed: boolean;
  readonly dryRun: boolean;
  readonly instances: readonly InstanceReport[];
  /** Every main.cf the change writes (or would), whole before and after. */
  readonly files: readonly FileChange[];
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
  const files: FileChange[] = plan.instances.flatMap((p) => (p.mainCf && !p.primary ? [{ path: `${p.configDirectory}/main.cf`, ...p.mainCf }] : []));
  if (primaryChanged) files.push({ path: `${primary.configDirectory}/main.cf`, before: primary.mainCf, after: primaryAfter });
  return { changed: instances.some((i) => i.changed), dryRun, instances, files, warnings: [...warnings], failed: plan.skipped };
}

/** What `--json` prints: the report with each file as a unified diff. */
export type ChangeAnswer = Omit<ChangeReport, 'files'> & { readonly diff: readonly FileDiff[] };

export function changeAnswer(report: ChangeReport): ChangeAnswer {
  const { files, ...rest } = report;
  const diff = files.map((f) => ({
    path: f.path,
    unified: unifiedDiff(f.before, f.after, { from: f.before === '' ? '/dev/null' : f.path, to: f.after === '' ? '/dev/null' : f.path }),
  }));
  return { ...rest, diff };
}
