import * as Args from '@oclif/core/args';
import { PostfleetCommand } from '../cli/base.js';
import { configDirFlag } from '../cli/flags.js';
import { dryRunFlag, lifecycleContext, renderReport } from '../cli/lifecycle.js';
import * as lifecycle from '../instances/lifecycle/actions.js';
import type { Selection } from '../instances/selection.js';

export default class Destroy extends PostfleetCommand {
  static override summary = 'Remove a disabled, stopped secondary instance with an empty queue, and the files Postfix made for it.';
  static override examples = ['<%= config.bin %> destroy postfix-out', '<%= config.bin %> destroy out --dry-run'];
  static override enableJsonFlag = true;
  static override args = {
    instance: Args.string({ required: true, description: "the instance: its name, its name without 'postfix-', or its config directory" }),
  };
  static override flags = { ...dryRunFlag, ...configDirFlag };

  async run(): Promise<lifecycle.ChangeAnswer> {
    const { args, flags } = await this.parse(Destroy);
    const selection: Selection = { type: 'name', name: args.instance };
    const report = await lifecycle.destroy(lifecycleContext(flags), selection);
    return renderReport(report, this.jsonEnabled(), (l) => this.log(l));
  }
}
