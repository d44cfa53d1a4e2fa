import { PostfleetCommand } from '../../cli/base.js';
import { queueActionFlags, runQueueAction, type QueueActionResult } from '../../cli/queue-action.js';

export default class QueueRelease extends PostfleetCommand {
  static override summary = 'Release the selected messages from hold: postsuper -H, one per instance, the queue ids on its standard input.';
  static override description =
    'Held messages go back to the deferred queue. ' +
    'Give filters as for queue list; --dry-run prints the commands and the queue ids, and changes nothing. ' +
    'The result per instance says how many messages were acted on, and which had already left the queue.';
  static override examples = ['<%= config.bin %> queue release --from spammer@example.com', '<%= config.bin %> queue release --older 1d --dry-run'];
  static override enableJsonFlag = true;
  static override flags = { ...queueActionFlags };

  async run(): Promise<QueueActionResult> {
    const { flags } = await this.parse(QueueRelease);
    return runQueueAction(this, 'release', flags);
  }
}
