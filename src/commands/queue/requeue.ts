import { PostfleetCommand } from '../../cli/base.js';
import { queueActionFlags, runQueueAction, type QueueActionResult } from '../../cli/queue-action.js';

export default class QueueRequeue extends PostfleetCommand {
  static override summary = 'Requeue the selected messages: postsuper -r, one per instance, the queue ids on its standard input.';
  static override description =
    'The messages go through cleanup again (new queue ids, current address rewriting and content checks). ' +
    'Give filters as for queue list; --dry-run prints the commands and the queue ids, and changes nothing. ' +
    'The result per instance says how many messages were acted on, and which had already left the queue.';
  static override examples = ['<%= config.bin %> queue requeue --to @example.com --queue deferred', '<%= config.bin %> queue requeue -g mta --reason "relay access denied" --dry-run'];
  static override enableJsonFlag = true;
  static override flags = { ...queueActionFlags };

  async run(): Promise<QueueActionResult> {
    const { flags } = await this.parse(QueueRequeue);
    return runQueueAction(this, 'requeue', flags);
  }
}
