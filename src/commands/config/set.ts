import { ConfigEditCommand } from '../../cli/config-edit.js';
import { parseAssignments } from '../../instances/lifecycle/config-edit.js';

export default class ConfigSet extends ConfigEditCommand {
  static override summary = 'Set main.cf parameters on every selected instance, as postconf -e would, in one transaction.';
  static override examples = [
    "<%= config.bin %> config set -g mta smtpd_banner='$myhostname ESMTP' --dry-run",
    '<%= config.bin %> config set relayhost=[smtp.example.com]:587 -i out --reload',
  ];
  protected edits = parseAssignments;
}
