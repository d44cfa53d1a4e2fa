import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { PostfleetCommand } from '../cli/base.js';
import { configDirFlag } from '../cli/flags.js';
import { dryRunFlag, lifecycleContext, placementFlags, renderReport } from '../cli/lifecycle.js';
import { PostfleetError } from '../instances/errors.js';
import * as lifecycle from '../instances/lifecycle/actions.js';
import { pathFlags, pathsFromFlags, placementFromFlags } from './create.js';

export default class Import extends PostfleetCommand {
  static override summary = 'Add an existing instance (its main.cf and master.cf must exist) to the managed list.';
  static override examples = ['<%= config.bin %> import postfix-old', '<%= config.bin %> import --config-directory /srv/postfix-legacy --name postfix-legacy --group mta'];
  static override enableJsonFlag = true;
  static override args = { name: Args.string({ required: false, description: "instance name (sets its config directory unless --config-directory is given); '-' keeps it nameless" }) };
  static override flags = {
    name: Flags.string({ char: 'I', description: 'rename the instance on import', helpValue: 'NAME' }),
    group: Flags.string({ char: 'G', description: "(re)group the instance on import ('-' for none)", helpValue: 'GROUP' }),
    'config-directory': pathFlags['config-directory'],
    ...placementFlags,
    ...dryRunFlag,
    ...configDirFlag,
  };

  async run(): Promise<lifecycle.ChangeAnswer> {
    const { args, flags } = await this.parse(Import);
    if (args.name !== undefined && flags.name !== undefined && args.name !== flags.name) {
      throw new PostfleetError(`give the name once: '${args.name}' or --name '${flags.name}'`);
    }
    const clear = (v: string | undefined): string | undefined => (v === '-' ? '' : v);
    const report = await lifecycle.importInstance(lifecycleContext(flags), {
      name: clear(flags.name ?? args.name),
      group: clear(flags.group),
      paths: pathsFromFlags(flags, ['config_directory']),
      placement: placementFromFlags(flags),
    });
    return renderReport(report, this.jsonEnabled(), (l) => this.log(l));
  }
}
