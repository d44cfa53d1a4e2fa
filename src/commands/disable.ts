import { EnableCommand } from '../cli/enable-command.js';

export default class Disable extends EnableCommand {
  static override summary = 'Set multi_instance_enable = no: start runs check on the instances, stop and reload skip them.';
  static override examples = ['<%= config.bin %> disable postfix-out', '<%= config.bin %> disable -g mta --dry-run'];
  protected readonly enabled = false;
}
