import { RemovalCommand } from '../cli/removal-command.js';

export default class Destroy extends RemovalCommand {
  static override summary = 'Remove disabled, stopped secondary instances with empty queues, and the files Postfix made for them.';
  static override examples = [
    '<%= config.bin %> destroy postfix-out',
    '<%= config.bin %> destroy out in --dry-run',
    '<%= config.bin %> destroy -g customer-42 --json',
    '<%= config.bin %> destroy -g web -g relay --disabled',
  ];
  protected readonly action = 'destroy';
}
