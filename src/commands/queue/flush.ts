import { PostfleetCommand } from '../../cli/base.js';
import { queueActionFlags, runQueueAction, siteFlag, type QueueActionResult } from '../../cli/queue-action.js';

export default class QueueFlush extends PostfleetCommand {
  static override summary = 'Flush deferred mail now: postqueue -f (no message filter), -s SITE (--site), else postqueue -i per selected message.';
  static override description =
    'Only deferred messages are flushed; the instance must be running. ' +
    'Give filters as for queue list; --dry-run prints the commands and the queue ids, and changes nothing. ' +
    'The result per instance says how many messages were acted on, and which had already left the queue.';
  static override examples = ['<%= config.bin %> queue flush -g mta', '<%= config.bin %> queue flush --to @example.com --reason "timed out"', '<%= config.bin %> queue flush --site example.com'];
  static override enableJsonFlag = true;
  static override flags = { ...queueActionFlags, ...siteFlag };

  async run(): Promise<QueueActionResult> {
    const { flags } = await this.parse(QueueFlush);
    return runQueueAction(this, 'flush', flags);
  }
}
