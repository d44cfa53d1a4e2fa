import { ConfigEditCommand } from '../../cli/config-edit.js';
import { parseNames } from '../../instances/lifecycle/config-edit.js';

export default class ConfigUnset extends ConfigEditCommand {
  static override summary = 'Remove main.cf parameters from every selected instance, as postconf -X would, in one transaction.';
  static override examples = ['<%= config.bin %> config unset -g mta smtpd_tls_loglevel --dry-run', '<%= config.bin %> config unset relayhost -i out --reload'];
  protected edits = parseNames;
}
