/** enable and disable: the same command but for the value they set. */
import * as Args from '@oclif/core/args';
import { PostfleetCommand } from './base.js';
import { configDirFlag } from './flags.js';
import { dryRunFlag, enableTargetFlags, enableTargets, lifecycleContext, renderBatch } from './lifecycle.js';
import * as lifecycle from '../instances/lifecycle/operations.js';

export abstract class EnableCommand extends PostfleetCommand {
  static override description =
    'Names one or more instances, or selects them with --group or --all. Each main.cf is edited as postconf -e would, ' +
    'atomically, while the primary main.cf is locked. With one instance, --json prints its result; otherwise ' +
    '{results, failed}: an instance that cannot be changed is reported and skipped, the others are changed, and the exit status is 1.';
  static override enableJsonFlag = true;
  static override strict = false;
  static override args = {
    instance: Args.string({ description: "the instance: its name, its name without 'postfix-', or its config directory (several may be given)" }),
  };
  static override flags = { ...enableTargetFlags, ...dryRunFlag, ...configDirFlag };

  protected abstract readonly enabled: boolean;

  /** One named instance: its result (as postmulti -e does it); otherwise every result and what was skipped. */
  async run(): Promise<lifecycle.ActionResult | lifecycle.BatchOutcome> {
    // Not this.constructor: parse() spreads the class it gets, which drops the statics a
    // subclass inherits (args, strict) — they are EnableCommand's own.
    const { argv, flags } = await this.parse(EnableCommand);
    const names = argv as string[];
    const targets = enableTargets(names, flags);
    const outcome = await lifecycle.setEnabledOf(lifecycleContext(flags), targets, this.enabled);
    process.exitCode = renderBatch(outcome, this.jsonEnabled(), (l) => this.log(l));
    return 'names' in targets && names.length === 1 && outcome.results[0] ? outcome.results[0] : outcome;
  }
}
