/** What the life-cycle commands share: flags, context and the rendering of a change report. */
import * as Flags from '@oclif/core/flags';
import { PostfleetError } from '../instances/errors.js';
import type { Problem } from '../instances/check/problems.js';
import type { ChangeAnswer, ChangeReport, EnableTargets, LifecycleContext, RemovalTargets } from '../instances/lifecycle/actions.js';
import { changeAnswer } from '../instances/lifecycle/report.js';
import { errorsAddedByChange } from '../instances/lifecycle/follow-up.js';
import { selectionFlags } from './flags.js';
import { loadDefaults } from '../instances/maincf/defaults.js';
import { SettingsCache } from '../instances/maincf/settings-cache.js';
import { keepSystemdCurrent, type SystemdSync } from '../systemd/sync.js';

export const dryRunFlag = {
  'dry-run': Flags.boolean({ char: 'n', description: 'print what would change, change nothing' }),
};

export const templateDirFlag = {
  'template-dir': Flags.string({ description: 'also look for templates here (searched first)', helpValue: 'DIR', multiple: true, multipleNonGreedy: true }),
};

export const placementFlags = {
  before: Flags.string({ description: 'insert before this instance in the list', helpValue: 'NAME', exclusive: ['before-group', 'first'] }),
  'before-group': Flags.string({ description: 'insert before the first member of this group', helpValue: 'GROUP', exclusive: ['before', 'first'] }),
  first: Flags.boolean({ description: 'insert first among the secondary instances', exclusive: ['before', 'before-group'] }),
};

export function lifecycleContext(flags: { 'config-dir'?: string | undefined; 'dry-run'?: boolean }): LifecycleContext {
  return { primaryConfigDirectory: flags['config-dir'], defaults: loadDefaults(), dryRun: Boolean(flags['dry-run']), readSettings: SettingsCache.memory().read };
}

/**
 * The report as lines (nothing on stdout with --json: the command returns the answer, files as
 * unified diffs); warnings and skipped instances on stderr either way. Sets the exit status: 1
 * when an instance was skipped. Under systemd, a change of the instances reloads the units
 * (systemd/sync.ts): in the answer as `systemd`, and a failure there fails the command.
 */
export async function renderReport(report: ChangeReport, json: boolean, log: (line: string) => void, configDirectory?: string): Promise<ChangeAnswer & { readonly systemd?: SystemdSync }> {
  const systemd = await keepSystemdCurrent(report, { configDirectory });
  if (!json) {
    for (const r of report.instances) {
      if (!r.changed) {
        log(`${r.action} ${r.instance}: nothing to change`);
        continue;
      }
      log(`${report.dryRun ? 'would ' : ''}${r.action} ${r.instance}:`);
      for (const c of r.changes) log(`  ${c}`);
    }
  }
  for (const w of report.warnings) process.stderr.write(`postfleet: warning: ${w}\n`);
  for (const f of report.failed) process.stderr.write(`postfleet: ${f.error}\n`);
  if (report.failed.length > 0) process.exitCode = 1;
  if (systemd === undefined) return changeAnswer(report);
  if (!json) for (const m of systemd.moved) log(`systemd: ${m}`);
  for (const e of systemd.errors) process.stderr.write(`postfleet: systemd: ${e}\n`);
  if (systemd.errors.length > 0) process.exitCode = 1;
  return { ...changeAnswer(report), systemd };
}

/** enable / disable: one instance, several, a group (-g) or all (-a). */
export const enableTargetFlags = {
  all: Flags.boolean({ char: 'a', description: "every secondary instance (the primary only when named: '-')", exclusive: ['group'] }),
  group: Flags.string({ char: 'g', description: 'every instance of this group', helpValue: 'GROUP', exclusive: ['all'] }),
};

export function enableTargets(names: readonly string[], flags: { all?: boolean; group?: string | undefined }): EnableTargets {
  const how = [names.length > 0 ? `instance ${names.join(' ')}` : undefined, flags.group !== undefined ? `--group ${flags.group}` : undefined, flags.all ? '--all' : undefined].filter((x) => x !== undefined);
  if (how.length > 1) throw new PostfleetError(`give instances, --group or --all, not several of them (got ${how.join(', ')})`);
  if (flags.group !== undefined) return { group: flags.group };
  if (flags.all) return { secondaries: true };
  if (names.length === 0) throw new PostfleetError('name an instance, or select instances with --group or --all');
  return { names };
}

/**
 * deport / destroy: instances named (as arguments or -i), groups (-g, repeatable), their union;
 * or every secondary (-a); narrowed by --enabled / --disabled. The modern selection's flags,
 * but -a never selects the primary and nothing selected is not "all".
 */
export const removalTargetFlags = {
  ...selectionFlags,
  all: Flags.boolean({ char: 'a', description: 'every secondary instance (never the primary)', exclusive: ['group', 'instance'] }),
};

export function removalTargets(
  names: readonly string[],
  flags: { all?: boolean; group?: readonly string[] | undefined; instance?: readonly string[] | undefined; enabled?: boolean; disabled?: boolean },
): RemovalTargets {
  const named = [...names, ...(flags.instance ?? [])];
  if (flags.all && named.length > 0) throw new PostfleetError(`give instances or --all, not both (got instance ${named.join(' ')}, --all)`);
  const state = flags.enabled ? 'enabled' : flags.disabled ? 'disabled' : undefined;
  return { names: named, groups: flags.group ?? [], all: Boolean(flags.all), state };
}

/**
 * create and apply: the check's errors the change adds (or, with --dry-run, would add) to the
 * fleet, on stderr and in the JSON answer. They do not fail the command: what was asked is done.
 */
export async function reportAddedErrors(report: ChangeReport, ctx: LifecycleContext): Promise<readonly Problem[]> {
  const { problems, checkFailed } = await errorsAddedByChange(report, ctx);
  if (checkFailed !== undefined) process.stderr.write(`postfleet: warning: the check after the change could not run: ${checkFailed}\n`);
  for (const p of problems) process.stderr.write(`postfleet: warning: check: ${p.message}\n`);
  return problems;
}

/** create's and apply's answer: the change, and the errors it adds. */
export type AnswerWithProblems = ChangeAnswer & { readonly problems: readonly Problem[] };
