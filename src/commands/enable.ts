import * as Args from '@oclif/core/args';
import { PostfleetCommand } from '../cli/base.js';
import { configDirFlag } from '../cli/flags.js';
import { dryRunFlag, lifecycleContext, renderResult } from '../cli/lifecycle.js';
import * as lifecycle from '../instances/lifecycle/operations.js';
import type { Selection } from '../instances/selection.js';

export default class Enable extends PostfleetCommand {
  static override summary = 'Set multi_instance_enable = yes: the instance starts with the others.';
  static override examples = ['<%= config.bin %> enable postfix-out', '<%= config.bin %> enable out --dry-run'];
  static override enableJsonFlag = true;
  static override args = {
    instance: Args.string({ required: true, description: "the instance: its name, its name without 'postfix-', or its config directory" }),
  };
  static override flags = { ...dryRunFlag, ...configDirFlag };

  async run(): Promise<lifecycle.ActionResult> {
    const { args, flags } = await this.parse(Enable);
    const ctx = lifecycleContext(flags);
    const selection: Selection = { type: 'name', name: args.instance };
    const result = await lifecycle.setEnabled(ctx, selection, true);
    if (!this.jsonEnabled()) renderResult(result, (l) => this.log(l));
    return result;
  }
}
