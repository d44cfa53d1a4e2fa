import * as Args from '@oclif/core/args';
import { PostfleetCommand } from '../cli/base.js';
import { configDirFlag } from '../cli/flags.js';
import { dryRunFlag, lifecycleContext, renderReport } from '../cli/lifecycle.js';
import * as lifecycle from '../instances/lifecycle/actions.js';
import type { Selection } from '../instances/selection.js';

export default class Deport extends PostfleetCommand {
  static override summary = 'Remove a secondary instance from the managed list (it must be disabled and stopped); its files stay.';
  static override examples = ['<%= config.bin %> deport postfix-out', '<%= config.bin %> deport out --dry-run'];
  static override enableJsonFlag = true;
  static override args = {
    instance: Args.string({ required: true, description: "the instance: its name, its name without 'postfix-', or its config directory" }),
  };
  static override flags = { ...dryRunFlag, ...configDirFlag };

  async run(): Promise<lifecycle.ChangeAnswer> {
    const { args, flags } = await this.parse(Deport);
    const selection: Selection = { type: 'name', name: args.instance };
    const report = await lifecycle.deport(lifecycleContext(flags), selection);
    return renderReport(report, this.jsonEnabled(), (l) => this.log(l));
  }
}
