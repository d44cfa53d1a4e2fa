/**
 * Fleet-wide configuration: `config set NAME=VALUE...` and `config unset NAME...` on every
 * selected instance, with postconf -e / -X semantics (the same editor, byte for byte), as
 * one transaction: every selected main.cf changes, or none does. The parameters identity and
 * life-cycle own are refused with the command that changes them.
 */
import { PostfleetError } from '../errors.js';
import { describeBroken } from '../instance.js';
import { isParameterName, type MainCfEdit } from '../maincf/edit.js';
import { editPlan, type InstancePlan, type Plan } from './plan.js';
import type { ChangeReport } from './report.js';
import type { Snapshot } from './snapshot.js';
import { transact, transactUndoable, type LifecycleContext, type Transaction } from './transaction.js';
import type { Fleet } from '../registry.js';
import { ownedParameterHint } from './reserved.js';
import { nothingSelectedMessage, selectFleet, type FleetSelection } from '../selection.js';

function checkName(name: string, what: string): void {
  if (!isParameterName(name)) throw new PostfleetError(`bad parameter name in '${what}'`);
  const instead = ownedParameterHint(name, 'config');
  if (instead !== undefined) throw new PostfleetError(`${name} is not changed by config set/unset: ${instead}`);
}

/** `NAME=VALUE` arguments as postconf -e edits; a value with a line break or another control character is refused. */
export function parseAssignments(args: readonly string[]): MainCfEdit[] {
  if (args.length === 0) throw new PostfleetError('give at least one NAME=VALUE');
  return args.map((a) => {
    const eq = a.indexOf('=');
    if (eq < 0) throw new PostfleetError(`expected NAME=VALUE: '${a}'`);
    const name = a.slice(0, eq).trim();
    checkName(name, a);
    const value = a.slice(eq + 1).trim();
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(value)) throw new PostfleetError(`${name}: the value may not contain a line break or another control character`);
    return { op: 'set', name, value };
  });
}

/** `NAME` arguments as postconf -X edits. */
export function parseNames(args: readonly string[]): MainCfEdit[] {
  if (args.length === 0) throw new PostfleetError('give at least one parameter NAME');
  return args.map((name) => {
    checkName(name, name);
    return { op: 'remove', name };
  });
}

export function planConfigEdit(snap: Snapshot, selection: FleetSelection, edits: readonly MainCfEdit[]): Plan {
  const selected = selectFleet(snap.fleet.entries, selection);
  if (selected.length === 0) throw new PostfleetError(nothingSelectedMessage(snap.fleet.entries, selection));
  const instances: InstancePlan[] = [];
  const primaryEdits: MainCfEdit[] = [];
  const skipped: Plan['skipped'][number][] = [];
  const seen = new Set<string>();
  for (const e of selected) {
    if (e.kind === 'broken') {
      skipped.push({ configDirectory: e.broken.configDirectory, error: describeBroken(e.broken) });
      continue;
    }
    if (seen.has(e.instance.configDirectory)) continue;
    seen.add(e.instance.configDirectory);
    const p = editPlan(snap, edits[0]?.op === 'remove' ? 'unset' : 'set', e.instance, edits);
    instances.push(p.entry);
    primaryEdits.push(...p.primaryEdits);
  }
  return { instances, primaryEdits, skipped, independent: true };
}

export function editConfig(ctx: LifecycleContext, selection: FleetSelection, edits: readonly MainCfEdit[]): Promise<ChangeReport> {
  return transact(ctx, { directories: (fleet) => selectedDirectories(fleet, selection) }, (snap) => planConfigEdit(snap, selection, edits));
}

/** editConfig(), its undo log kept: a roll-out's batch. */
export function editConfigUndoable(ctx: LifecycleContext, selection: FleetSelection, edits: readonly MainCfEdit[]): Promise<Transaction> {
  return transactUndoable(ctx, { directories: (fleet) => selectedDirectories(fleet, selection) }, (snap) => planConfigEdit(snap, selection, edits));
}

function selectedDirectories(fleet: Fleet, selection: FleetSelection): string[] {
  return selectFleet(fleet.entries, selection).flatMap((e) => (e.kind === 'ok' && !e.instance.primary ? [e.instance.configDirectory] : []));
}
