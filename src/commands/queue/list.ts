import * as Flags from '@oclif/core/flags';
import { PostfleetCommand } from '../../cli/base.js';
import { configDirFlag, selectionFlags, selectionFromFlags } from '../../cli/flags.js';
import { filtersFromFlags, formatTime, queueFilterFlags, reportScanTrouble } from '../../cli/queue.js';
import { escapeCell, renderTable } from '../../cli/table.js';
import { FleetQueueReader } from '../../instances/queue/fleet-scan.js';
import { readFleetQueues } from '../../instances/queue/read.js';
import type { QueueMessage, ScanProblem } from '../../instances/queue/scan.js';
import { ChunkedOutput, type SerializedList } from '../../instances/queue/serialized.js';

export interface QueueListResult {
  readonly messages: QueueMessage[];
  /** Per selected instance: how many messages were listed, or why its queues could not be read. */
  readonly instances: Array<{ instance: string; messages: number; error?: string }>;
  readonly problems: readonly ScanProblem[];
}

export default class QueueList extends PostfleetCommand {
  static override summary = 'List the queued messages of the selected instances: one row per message.';
  static override description =
    'Queue files and defer logs are read natively, the way showq(8) reads them: each message as postqueue -j shows it ' +
    '(queue_name, queue_id, arrival_time, message_size, forced_expire, sender, recipients with address and delay_reason), ' +
    'plus instance; the corrupt queue is listed too. Filters combine (all must match; a repeated filter matches any of its values). ' +
    'A file that cannot be read is reported on stderr and the rest is listed. --json prints one document, --json-lines one message per line.';
  static override examples = [
    '<%= config.bin %> queue list',
    '<%= config.bin %> queue list --to @example.com --queue deferred --older 2h',
    '<%= config.bin %> queue list -g mta --reason "connection refused" --json',
    '<%= config.bin %> queue list --json-lines | jq -r .queue_id',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    ...selectionFlags,
    ...configDirFlag,
    ...queueFilterFlags,
    'json-lines': Flags.boolean({ description: 'one JSON object per message and line, as postqueue -j prints them (plus instance)', exclusive: ['json'] }),
  };

  /** The messages as JSON text, per instance in fleet order (--json, --json-lines): serialized where they were read. */
  private json: SerializedList[] = [];

  async run(): Promise<QueueListResult> {
    const { flags } = await this.parse(QueueList);
    const filter = filtersFromFlags(flags);
    const asJson = this.jsonEnabled() || flags['json-lines'];
    const read = await readFleetQueues({ configDirectory: flags['config-dir'], selection: selectionFromFlags(flags), filter, reasons: true, json: asJson, reader: new FleetQueueReader() });
    if (this.reportBroken(read.entries) > 0) process.exitCode = 1;
    const { instances, problems } = read.scan;
    reportScanTrouble(instances, problems);
    const messages: QueueMessage[] = [];
    for (const i of instances) {
      for (const m of i.messages) messages.push(m);
      this.json.push(i.json);
    }
    const result: QueueListResult = {
      messages,
      instances: instances.map((i) => ({ instance: i.instance, messages: i.selected, ...(i.error !== undefined ? { error: i.error } : {}) })),
      problems,
    };
    if (flags['json-lines']) this.writeMessages('', '\n', '\n', '');
    else if (!asJson) this.printTable(messages);
    return result;
  }

  /** Compact, and streamed from the messages' JSON text: a queue of 100 000 messages is a large document. */
  protected override logJson(json: unknown): void {
    const { messages: _objects, ...rest } = json as QueueListResult;
    this.writeMessages('{"messages":[\n', ',\n', `\n],${JSON.stringify(rest).slice(1)}\n`, `],${JSON.stringify(rest).slice(1)}\n`);
  }

  /** The messages' JSON texts after `head`, each followed by `between` (the last by `tail`); `empty` when there is none. */
  private writeMessages(head: string, between: string, tail: string, empty = tail): void {
    const out = new ChunkedOutput((b) => process.stdout.write(b));
    const separator = Buffer.from(between, 'utf8');
    out.text(head);
    let first = true;
    for (const list of this.json) {
      for (const text of list.texts()) {
        if (!first) out.bytes(separator);
        out.bytes(text);
        first = false;
      }
    }
    out.text(first ? empty : tail);
    out.flush();
  }

  private printTable(messages: readonly QueueMessage[]): void {
    if (messages.length === 0) {
      this.log('no messages');
      return;
    }
    const rows: string[][] = [];
    let bytes = 0;
    for (const m of messages) {
      bytes += m.message_size;
      const head = [escapeCell(m.instance), m.queue_name, m.queue_id + (m.forced_expire ? '!' : ''), formatTime(m.arrival_time), String(m.message_size), escapeCell(m.sender)];
      if (m.recipients.length === 0) rows.push([...head, '', '']);
      m.recipients.forEach((r, k) => rows.push([...(k === 0 ? head : head.map(() => '')), escapeCell(r.address), r.delay_reason === undefined ? '' : escapeCell(r.delay_reason)]));
    }
    const header = ['INSTANCE', 'QUEUE', 'ID', 'ARRIVAL', 'SIZE', 'SENDER', 'RECIPIENT', 'REASON'];
    writeChunked([renderTable(header, rows, ['left', 'left', 'left', 'left', 'right', 'left', 'left', 'left']).replace(/ +$/gm, ''), `-- ${messages.length} message${messages.length === 1 ? '' : 's'}, ${bytes} bytes`]);
  }
}

/** Lines to stdout (strings, or runs of them), a megabyte at a time: never the whole output in memory at once. */
function writeChunked(lines: Iterable<string | Iterable<string>>): void {
  let chunk = '';
  const add = (line: string): void => {
    chunk += `${line}\n`;
    if (chunk.length >= 1 << 20) {
      process.stdout.write(chunk);
      chunk = '';
    }
  };
  for (const item of lines) {
    if (typeof item === 'string') add(item);
    else for (const line of item) add(line);
  }
  if (chunk !== '') process.stdout.write(chunk);
}
