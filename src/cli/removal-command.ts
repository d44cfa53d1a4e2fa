/** deport and destroy: the same command but for what they do to the files. */
import * as Args from '@oclif/core/args';
import { PostfleetCommand } from './base.js';
import { configDirFlag } from './flags.js';
import { dryRunFlag, lifecycleContext, removalTargetFlags, removalTargets, renderReport } from './lifecycle.js';
import * as lifecycle from '../instances/lifecycle/actions.js';

export abstract class RemovalCommand extends PostfleetCommand {
  static override description =
    'Names one or more instances, or selects them with --group (repeatable), --instance or --all (every secondary), ' +
    'narrowed by --enabled or --disabled. The whole selection is planned first and applied as one transaction: ' +
    'if one selected instance cannot go (the primary, enabled, running, broken, or for destroy mail in its queue), ' +
    'nothing changes and the error names each blocking instance and its reason. The primary main.cf is written once, ' +
    'under its lock, before any file is removed (a crash leaves unlisted leftovers, never a listed half-removed instance).';
  static override enableJsonFlag = true;
  static override strict = false;
  static override args = {
    instance: Args.string({ description: "the instance: its name, its name without 'postfix-', or its config directory (several may be given)" }),
  };
  static override flags = { ...removalTargetFlags, ...dryRunFlag, ...configDirFlag };

  protected abstract readonly action: lifecycle.RemovalAction;

  async run(): Promise<lifecycle.ChangeAnswer> {
    // RemovalCommand's own statics, as EnableCommand's (parse() drops inherited ones).
    const parsed = await this.parse(RemovalCommand);
    const report = await lifecycle.remove(lifecycleContext(parsed.flags), this.action, removalTargets(this.positionalWords(parsed), parsed.flags));
    return renderReport(report, this.jsonEnabled(), (l) => this.log(l), parsed.flags['config-dir']);
  }
}
