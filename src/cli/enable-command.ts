/** enable and disable: the same command but for the value they set. */
import * as Args from '@oclif/core/args';
import { PostfleetCommand } from './base.js';
import { configDirFlag } from './flags.js';
import { dryRunFlag, enableTargetFlags, enableTargets, lifecycleContext, renderReport } from './lifecycle.js';
import * as lifecycle from '../instances/lifecycle/actions.js';

export abstract class EnableCommand extends PostfleetCommand {
  static override description =
    'Names one or more instances, or selects them with --group or --all. Each main.cf is edited as postconf -e would, ' +
    'atomically, while the primary main.cf is locked; all of them or, if one edit fails, none. A broken instance that ' +
    '--group or --all selects is reported and skipped, the others are changed, and the exit status is 1.';
  static override enableJsonFlag = true;
  static override strict = false;
  static override args = {
    instance: Args.string({ description: "the instance: its name, its name without 'postfix-', or its config directory (several may be given)" }),
  };
  static override flags = { ...enableTargetFlags, ...dryRunFlag, ...configDirFlag };

  protected abstract readonly enabled: boolean;

  async run(): Promise<lifecycle.ChangeAnswer> {
    // Not this.constructor: parse() spreads the class it gets, which drops the statics a
    // subclass inherits (args, strict) — they are EnableCommand's own.
    const { argv, flags } = await this.parse(EnableCommand);
    const report = await lifecycle.setEnabled(lifecycleContext(flags), enableTargets(argv as string[], flags), this.enabled);
    return renderReport(report, this.jsonEnabled(), (l) => this.log(l), flags['config-dir']);
  }
}
