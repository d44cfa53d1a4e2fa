/** What config set and config unset share: flags, the edit, and the reload of the running instances they changed. */
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { editConfig } from '../instances/lifecycle/actions.js';
import { reloadsAfterChange } from '../instances/lifecycle/follow-up.js';
import type { MainCfEdit } from '../instances/maincf/edit.js';
import type { ChangeAnswer } from '../instances/lifecycle/actions.js';
import type { RunResult } from '../instances/fanout/runner.js';
import { PostfleetCommand } from './base.js';
import { configDirFlag, defaultParallelism, parallelFlag, selectionFlags, selectionFromFlags } from './flags.js';
import { dryRunFlag, lifecycleContext, renderReport } from './lifecycle.js';
import { runWithProgress } from './progress.js';
import { probeContext, rollingFlags, rolloutSettings, rollWithProgress } from './rollout.js';
import { reloadRuns, rollConfigEdit } from '../instances/rollout/drivers.js';
import type { RolloutReport } from '../instances/rollout/rollout.js';

const reloadFlag = {
  reload: Flags.boolean({ description: 'afterwards, reload the changed instances that are running (as postfleet postfix reload)' }),
};

export type ConfigEditReport = ChangeAnswer & { readonly reloaded: readonly RunResult[] };

/** config set and config unset: the same command but for how the arguments become edits. */
export abstract class ConfigEditCommand extends PostfleetCommand {
  static override description =
    'Each selected main.cf is edited under its lock, atomically, byte for byte as postconf edits it; all of them or, if one fails, none. ' +
    'With --rolling (which implies --reload) the change goes batch by batch instead: each batch edited (one transaction), reloaded and probed; a batch that fails its probes is undone and reloaded back, and the roll-out stops. ' +
    'The parameters that identity and life-cycle own (multi_instance_*, config_directory, queue_directory, data_directory) are refused: ' +
    'create, assign, enable, disable and init change them. A broken instance in the selection is reported and skipped (exit 1).';
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = { setting: Args.string({ required: true, description: 'NAME=VALUE for set, NAME for unset (several may be given)' }) };
  static override flags = { ...selectionFlags, ...reloadFlag, ...rollingFlags, ...parallelFlag, ...dryRunFlag, ...configDirFlag };

  protected abstract edits(args: readonly string[]): MainCfEdit[];

  async run(): Promise<ConfigEditReport | RolloutReport> {
    // parse(ConfigEditCommand): its statics, as in EnableCommand.
    const { argv, flags } = await this.parse(ConfigEditCommand);
    const edits = this.edits(argv as string[]);
    const selection = selectionFromFlags(flags);
    const ctx = lifecycleContext(flags);
    const log = (l: string): void => this.log(l);
    // --rolling (cli/rollout.ts) reloads, batch by batch, and probes each batch.
    const rolling = rolloutSettings(flags);
    if (rolling !== undefined) {
      const rc = { settings: rolling, commands: reloadRuns(flags['config-dir'], ctx.defaults, flags.parallel ?? defaultParallelism()), probe: probeContext(rolling.probe, ctx.defaults) };
      return rollWithProgress(this.jsonEnabled(), log, (emit) => rollConfigEdit(ctx, selection, edits, { ...rc, emit }));
    }
    const report = await editConfig(ctx, selection, edits);
    const answer = await renderReport(report, this.jsonEnabled(), log, flags['config-dir']);
    if (!flags.reload) return { ...answer, reloaded: [] };
    const runs = reloadsAfterChange(report, ctx, selection);
    const reloaded = await runWithProgress(runs, { parallel: flags.parallel ?? defaultParallelism(), mode: 'pty', json: this.jsonEnabled(), log });
    if (reloaded.some((r) => r.exitCode !== 0)) process.exitCode = 1;
    return { ...answer, reloaded };
  }
}
