import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { PostfleetCommand } from '../cli/base.js';
import { configDirFlag } from '../cli/flags.js';
import { runUnitAction, UNIT_ACTIONS, type UnitAction } from '../systemd/unit.js';

export default class Unit extends PostfleetCommand {
  static override summary = 'What postfleet@INSTANCE.service runs: start, stop or reload one instance, ignoring the others.';
  static override description = `INSTANCE is the unit's instance string (%i): '-' for the primary, the instance's name, or for a nameless instance its config directory escaped as by 'systemd-escape --path'. start first runs Debian's /usr/lib/postfix/configure-instance.sh for that instance when it is installed (as Debian's postfix@.service does), then a fast start (postfleet's native pre-start checks, then Postfix's quick-start; --full-check: plain 'postfix start') with MAIL_CONFIG set; a disabled instance is not started. Other instances that are broken are reported on stderr (the journal) but do not fail this unit. Never goes through systemctl.`;
  static override examples = ['<%= config.bin %> unit start -', '<%= config.bin %> unit reload postfix-out', "<%= config.bin %> unit stop 'srv-postfix\\x2din'"];
  static override args = {
    action: Args.string({ required: true, options: [...UNIT_ACTIONS], description: 'start, stop or reload' }),
    instance: Args.string({ required: true, description: "the unit's instance string (%i)" }),
  };
  static override flags = {
    ...configDirFlag,
    'full-check': Flags.boolean({ description: "start with Postfix's own pre-start checks instead of postfleet's native ones" }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Unit);
    const status = await runUnitAction(args.action as UnitAction, args.instance, {
      configDirectory: flags['config-dir'],
      warn: (line) => process.stderr.write(`postfleet: ${line}\n`),
      fullCheck: flags['full-check'],
    });
    if (status !== 0) process.exitCode = status;
  }
}
