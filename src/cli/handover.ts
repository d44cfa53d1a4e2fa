/** What `postfleet systemd adopt|release` share: flags, the dry-run listing, the run. */
import * as Flags from '@oclif/core/flags';
import { PostfleetError } from '../instances/errors.js';
import { reportBroken } from '../instances/instance.js';
import type { RunResult } from '../instances/fanout/runner.js';
import { loadFleet } from '../instances/registry.js';
import { nothingSelectedMessage, selectFleet } from '../instances/selection.js';
import { DEBIAN_TEMPLATE, handoverRuns, liveMaster, planHandover, type Direction } from '../systemd/handover.js';
import { liveControlSystem, probeSystemd, unitFileInstalled } from '../systemd/systemctl.js';
import type { PostfleetCommand } from './base.js';
import { configDirFlag, selectionFlags, selectionFromFlags, type SelectionFlagValues } from './flags.js';
import { runWithProgress } from './progress.js';

export const handoverCommandFlags = {
  ...selectionFlags,
  ...configDirFlag,
  'dry-run': Flags.boolean({ char: 'n', description: 'list what would move, and move nothing' }),
};

export async function runHandoverCommand(
  cmd: PostfleetCommand,
  direction: Direction,
  flags: SelectionFlagValues & { readonly 'config-dir'?: string | undefined; readonly 'dry-run': boolean },
): Promise<RunResult[]> {
  const ctx = probeSystemd();
  if (!ctx.booted) throw new PostfleetError(`systemd is not running (no /run/systemd/system): there are no units to ${direction === 'adopt' ? 'move the instances into' : 'hand the instances back to'}`);
  if (direction === 'adopt' && !ctx.unitInstalled) throw new PostfleetError('postfleet@.service is not installed: install the postfleet package');
  const selection = selectionFromFlags(flags);
  const fleet = loadFleet({ configDirectory: flags['config-dir'] });
  const selected = selectFleet(fleet.entries, selection);
  if (selected.length === 0) throw new PostfleetError(nothingSelectedMessage(fleet.entries, selection));
  // Broken instances are named, and left alone: they fail no move.
  reportBroken(fleet.entries, (line) => process.stderr.write(`postfleet: ${line}\n`));
  const instances = selected.flatMap((e) => (e.kind === 'ok' ? [e.instance] : []));
  const plan = planHandover(direction, instances, liveMaster, unitFileInstalled(DEBIAN_TEMPLATE));
  const json = cmd.jsonEnabled();
  if (!json) for (const line of plan.left) cmd.log(line);
  if (flags['dry-run']) {
    if (!json) for (const m of plan.moves) cmd.log(`${m.label}: would move ${m.from ?? 'no unit'} -> ${m.to ?? 'no unit'}`);
    return plan.moves.map((m) => ({ instance: m.label, configDirectory: m.instance.configDirectory, command: ['systemctl', m.from ?? 'no unit', '->', m.to ?? 'no unit'], exitCode: 0, durationMs: 0, output: '' }));
  }
  if (!json && plan.moves.length === 0) cmd.log(direction === 'adopt' ? 'nothing to move: every running instance is in its postfleet@ unit' : 'nothing to move: no master runs in a postfleet@ unit');
  const results = await runWithProgress(handoverRuns(plan, direction, liveControlSystem(fleet.shared.commandDirectory)), { parallel: 1, mode: 'pipe', json, log: (l) => cmd.log(l) });
  if (results.some((r) => r.exitCode !== 0)) process.exitCode = 1;
  return results;
}
