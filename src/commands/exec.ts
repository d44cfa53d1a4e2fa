import * as Args from '@oclif/core/args';
import { PostfleetCommand } from '../cli/base.js';
import { configDirFlag, defaultParallelism, parallelFlag, reverseFlag, selectionFlags, selectionFromFlags } from '../cli/flags.js';
import { runWithProgress } from '../cli/progress.js';
import { planUnixCommand } from '../instances/fanout/command-class.js';
import { PostfleetError } from '../instances/errors.js';
import { loadFleetOverlapped } from '../instances/registry.js';
import type { RunResult } from '../instances/fanout/runner.js';
import { nothingSelectedMessage } from '../instances/selection.js';

export default class Exec extends PostfleetCommand {
  static override summary = 'Run a command once per selected instance, with that instance’s settings in the environment.';
  static override description =
    'Exports MAIL_CONFIG, command_directory, daemon_directory, config_directory, queue_directory, data_directory, multi_instance_name, multi_instance_group and multi_instance_enable, and puts $command_directory first in PATH, as postmulti -x does.';
  static override examples = ['<%= config.bin %> exec -g mta -- postqueue -p', '<%= config.bin %> exec --enabled -- postqueue -p', '<%= config.bin %> exec -- sh -c \'echo $multi_instance_name $queue_directory\''];
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = { command: Args.string({ required: true, description: 'command, then its arguments (put -- before them)' }) };
  static override flags = { ...selectionFlags, ...reverseFlag, ...parallelFlag, ...configDirFlag };

  async run(): Promise<RunResult[]> {
    const parsed = await this.parse(Exec);
    const { flags } = parsed;
    const argv = this.positionalWords(parsed);
    const selection = selectionFromFlags(flags);
    const fleet = await loadFleetOverlapped({ configDirectory: flags['config-dir'] });
    const plan = planUnixCommand(fleet.entries, fleet.shared, selection, argv, {
      reverse: flags.reverse,
      path: process.env['PATH'],
    });
    if (!plan.matched) throw new PostfleetError(nothingSelectedMessage(fleet.entries, selection));
    const broken = this.reportBroken(fleet.entries);
    const results = await runWithProgress(plan.runs, {
      parallel: flags.parallel ?? defaultParallelism(),
      mode: 'pipe',
      json: this.jsonEnabled(),
      log: (l) => this.log(l),
    });
    if (broken > 0 || results.some((r) => r.exitCode !== 0)) process.exitCode = 1;
    return results;
  }
}
