import { PostfleetCommand } from '../../cli/base.js';
import { queueActionFlags, runQueueAction, type QueueActionResult } from '../../cli/queue-action.js';

export default class QueueHold extends PostfleetCommand {
  static override summary = 'Put the selected messages on hold: postsuper -h, one per instance, the queue ids on its standard input.';
  static override description =
    'Messages in incoming, active and deferred are held (postsuper takes no others: held mail stays, maildrop mail is not yet sanitized). ' +
    'Give filters as for queue list; --dry-run prints the commands and the queue ids, and changes nothing. ' +
    'The result per instance says how many messages were acted on, and which had already left the queue.';
  static override examples = ['<%= config.bin %> queue hold --from spammer@example.com', '<%= config.bin %> queue hold -g mta --to @slow.example --dry-run'];
  static override enableJsonFlag = true;
  static override flags = { ...queueActionFlags };

  async run(): Promise<QueueActionResult> {
    const { flags } = await this.parse(QueueHold);
    return runQueueAction(this, 'hold', flags);
  }
}
