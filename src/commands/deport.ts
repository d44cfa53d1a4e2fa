import { RemovalCommand } from '../cli/removal-command.js';

export default class Deport extends RemovalCommand {
  static override summary = 'Take stopped, disabled secondary instances off the managed list; their files stay (listed in alternate_config_directories).';
  static override examples = ['<%= config.bin %> deport postfix-out', '<%= config.bin %> deport out in --dry-run', '<%= config.bin %> deport -g customer-42 --json'];
  protected readonly action = 'deport';
}
