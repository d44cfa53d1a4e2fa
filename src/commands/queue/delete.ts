import { PostfleetCommand } from '../../cli/base.js';
import { deleteFlags, runQueueAction, type QueueActionResult } from '../../cli/queue-action.js';

export default class QueueDelete extends PostfleetCommand {
  static override summary = 'Delete the selected messages: postsuper -d, one per instance, the queue ids on its standard input.';
  static override description =
    'A delete that no message filter (--from, --to, --older, --younger, --reason, --id) narrows is refused unless --all is given. ' +
    'Give filters as for queue list; --dry-run prints the commands and the queue ids, and changes nothing. ' +
    'The result per instance says how many messages were acted on, and which had already left the queue.';
  static override examples = ['<%= config.bin %> queue delete --from campaign@example.com --dry-run', '<%= config.bin %> queue delete --id 4BC2F1E3A -i out', '<%= config.bin %> queue delete --all -i test --queue hold'];
  static override enableJsonFlag = true;
  static override flags = deleteFlags;

  async run(): Promise<QueueActionResult> {
    const { flags } = await this.parse(QueueDelete);
    return runQueueAction(this, 'delete', flags);
  }
}
