import { EnableCommand } from '../cli/enable-command.js';

export default class Enable extends EnableCommand {
  static override summary = 'Set multi_instance_enable = yes: the instances start with the others.';
  static override examples = ['<%= config.bin %> enable postfix-out', '<%= config.bin %> enable out in --dry-run', '<%= config.bin %> enable -g mta --json'];
  protected readonly enabled = true;
}
