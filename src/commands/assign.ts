import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { PostfleetCommand } from '../cli/base.js';
import { configDirFlag } from '../cli/flags.js';
import { dryRunFlag, lifecycleContext, renderReport } from '../cli/lifecycle.js';
import { PostfleetError } from '../instances/errors.js';
import * as lifecycle from '../instances/lifecycle/actions.js';

export default class Assign extends PostfleetCommand {
  static override summary = 'Give an instance a new name and/or group ("-" removes it).';
  static override examples = ['<%= config.bin %> assign postfix-out --group relay', '<%= config.bin %> assign /etc/postfix-x --name postfix-x --group -'];
  static override enableJsonFlag = true;
  static override args = {
    instance: Args.string({ required: true, description: "the instance: its name, its name without 'postfix-', or its config directory" }),
  };
  static override flags = {
    name: Flags.string({ char: 'I', description: "new instance name (must start with 'postfix-'; '-' for none)", helpValue: 'NAME' }),
    group: Flags.string({ char: 'G', description: "new group ('-' for none)", helpValue: 'GROUP' }),
    ...dryRunFlag,
    ...configDirFlag,
  };

  async run(): Promise<lifecycle.ChangeAnswer> {
    const { args, flags } = await this.parse(Assign);
    if (flags.name === undefined && flags.group === undefined) throw new PostfleetError('give a new --name and/or --group');
    const clear = (v: string | undefined): string | undefined => (v === '-' ? '' : v);
    const report = await lifecycle.assign(lifecycleContext(flags), { type: 'name', name: args.instance }, clear(flags.name), clear(flags.group));
    return renderReport(report, this.jsonEnabled(), (l) => this.log(l), flags['config-dir']);
  }
}
