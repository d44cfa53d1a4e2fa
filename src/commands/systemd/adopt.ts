import { handoverCommandFlags, runHandoverCommand } from '../../cli/handover.js';
import { PostfleetCommand } from '../../cli/base.js';
import type { RunResult } from '../../instances/fanout/runner.js';

export default class SystemdAdopt extends PostfleetCommand {
  static override summary = "Move running instances into their postfleet@ units, one at a time (each down for one restart).";
  static override description = `Every selected enabled instance whose master runs elsewhere (under Debian's postfix@ unit, another postfleet@ unit, or started by hand outside systemd) is stopped there and started in its own postfleet@ unit; if that fails, it is started again where it ran. Instances that are not running stay stopped. The package's postinst runs this after installing (unless POSTFLEET_ADOPT=no).`;
  static override examples = ['<%= config.bin %> systemd adopt', '<%= config.bin %> systemd adopt --dry-run', '<%= config.bin %> systemd adopt -i postfix-out'];
  static override enableJsonFlag = true;
  static override flags = handoverCommandFlags;

  async run(): Promise<RunResult[]> {
    const { flags } = await this.parse(SystemdAdopt);
    return runHandoverCommand(this, 'adopt', flags);
  }
}
