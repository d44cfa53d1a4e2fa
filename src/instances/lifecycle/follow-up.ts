/**
 * What follows a change, once it is made (or, with --dry-run, planned): the check of the errors
 * it adds to the fleet (create, apply) and the reload of the running instances it changed
 * (config set/unset --reload). The commands render both; nothing here prints.
 */
import { errorsAddedBy } from '../check/change.js';
import type { Problem } from '../check/problems.js';
import { planPostfixCommand, type PlannedRun } from '../fanout/command-class.js';
import { readInstanceStatus } from '../observe/status.js';
import { loadFleetParameters } from '../parameters.js';
import { loadFleet } from '../registry.js';
import type { FleetSelection } from '../selection.js';
import type { ChangeReport } from './report.js';
import type { LifecycleContext } from './transaction.js';

export interface AddedErrors {
  /** The check's errors the change adds (a listener clash, a shared maillog_file, …): they do not fail the command. */
  readonly problems: readonly Problem[];
  /** Why the check could not run, when it could not: the change stands all the same. */
  readonly checkFailed?: string | undefined;
}

/** The fleet read again (through the run's own settings reader: only changed files are read) and checked against the report's files. */
export async function errorsAddedByChange(report: ChangeReport, ctx: LifecycleContext): Promise<AddedErrors> {
  if (report.files.length === 0) return { problems: [] };
  try {
    const { fleet, parametersOf } = await loadFleetParameters({ configDirectory: ctx.primaryConfigDirectory, defaults: ctx.defaults, read: ctx.readSettings });
    return { problems: errorsAddedBy(report, fleet, parametersOf) };
  } catch (e) {
    return { problems: [], checkFailed: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * `postfix reload` of each instance the change changed that the selection's reload would reach
 * (enabled: reload is a control command) and whose master runs; none after a dry run.
 */
export function reloadsAfterChange(report: ChangeReport, ctx: LifecycleContext, selection: FleetSelection): PlannedRun[] {
  const changed = new Set(report.instances.filter((i) => i.changed).map((i) => i.configDirectory));
  if (report.dryRun || changed.size === 0) return [];
  const fleet = loadFleet({ configDirectory: ctx.primaryConfigDirectory, defaults: ctx.defaults });
  const plan = planPostfixCommand(fleet.entries, fleet.shared, fleet.commands, selection, ['reload']);
  return plan.runs.filter((r) => changed.has(r.instance.configDirectory) && readInstanceStatus(r.instance).running);
}
