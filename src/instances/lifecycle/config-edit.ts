/**
 * Fleet-wide configuration: `config set NAME=VALUE...` and `config unset NAME...` on every
 * selected instance, with postconf -e / -X semantics (the same editor, byte for byte), as
 * one transaction: every selected main.cf changes, or none does. The parameters identity and
 * life-cycle own are refused with the command that changes them. Pure: actions.ts's
 * editConfig() runs the plan as a transaction.
 */
import { PostfleetError } from '../errors.js';
import { describeBroken } from '../instance.js';
import { isParameterName, parseSetting, type MainCfEdit } from '../maincf/edit.js';
import { editPlan, type InstancePlan, type Plan } from './plan.js';
import type { Snapshot } from './snapshot.js';
import { ownedParameterHint } from './reserved.js';
import { nothingSelectedMessage, selectFleet, type FleetSelection } from '../selection.js';

function checkOwned(name: string): void {
  const instead = ownedParameterHint(name, 'config');
  if (instead !== undefined) throw new PostfleetError(`${name} is not changed by config set/unset: ${instead}`);
}

/** `NAME=VALUE` arguments as postconf -e edits (parseSetting()). */
export function parseAssignments(args: readonly string[]): MainCfEdit[] {
  if (args.length === 0) throw new PostfleetError('give at least one NAME=VALUE');
  return args.map((a) => {
    const [name, value] = parseSetting(a);
    checkOwned(name);
    return { op: 'set', name, value };
  });
}

/** `NAME` arguments as postconf -X edits. */
export function parseNames(args: readonly string[]): MainCfEdit[] {
  if (args.length === 0) throw new PostfleetError('give at least one parameter NAME');
  return args.map((name) => {
    if (!isParameterName(name)) throw new PostfleetError(`bad parameter name in '${name}'`);
    checkOwned(name);
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
