import { handoverCommandFlags, runHandoverCommand } from '../../cli/handover.js';
import { PostfleetCommand } from '../../cli/base.js';
import type { RunResult } from '../../instances/fanout/runner.js';

export default class SystemdRelease extends PostfleetCommand {
  static override summary = "Hand running instances back to Debian's postfix@ units, one at a time (each down for one restart).";
  static override description = `Every selected instance whose master runs in a postfleet@ unit is stopped there and started by Debian's postfix@ unit of the same instance (postfix@- for the primary, postfix@NAME otherwise); a nameless or disabled instance, which Debian's units cannot run, is started by postfix(1) directly. The package's prerm runs this when postfleet is removed.`;
  static override examples = ['<%= config.bin %> systemd release', '<%= config.bin %> systemd release --dry-run'];
  static override enableJsonFlag = true;
  static override flags = handoverCommandFlags;

  async run(): Promise<RunResult[]> {
    const { flags } = await this.parse(SystemdRelease);
    return runHandoverCommand(this, 'release', flags);
  }
}
