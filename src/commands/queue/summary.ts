import * as Flags from '@oclif/core/flags';
import { PostfleetCommand } from '../../cli/base.js';
import { configDirFlag, selectionFlags, selectionFromFlags } from '../../cli/flags.js';
import { filtersFromFlags, formatBytes, queueFilterFlags, reportScanTrouble } from '../../cli/queue.js';
import { escapeCell, renderTable } from '../../cli/table.js';
import { FleetQueueReader } from '../../instances/queue/fleet-scan.js';
import { readFleetQueues } from '../../instances/queue/read.js';
import type { ScanProblem } from '../../instances/queue/scan.js';
import { SUMMARY_KEYS, SummaryCounter, type Summary, type SummaryKey, type SummaryRow } from '../../instances/queue/summary.js';

export interface QueueSummaryResult extends Summary {
  readonly instances: Array<{ instance: string; messages: number; error?: string }>;
  readonly problems: readonly ScanProblem[];
}

const HEADINGS: Record<SummaryKey, string> = { 'recipient-domain': 'RECIPIENT DOMAIN', 'sender-domain': 'SENDER DOMAIN', instance: 'INSTANCE', queue: 'QUEUE' };

export default class QueueSummary extends PostfleetCommand {
  static override summary = 'Show the shape of the queues: messages by recipient domain (or sender domain, instance, queue) and age, as qshape does.';
  static override description =
    'Columns: T, the total, then age buckets by arrival time whose upper bounds double (5, 10, 20 … minutes; the last is open). ' +
    'A message counts once in each row it belongs to (once per distinct recipient domain) and once in TOTAL. ' +
    'All queues by default (the queue filters narrow it, e.g. --queue deferred); the other filters of queue list apply too. ' +
    '--bytes shows sizes instead of message counts; --json has both.';
  static override examples = [
    '<%= config.bin %> queue summary',
    '<%= config.bin %> queue summary --queue deferred --top 20',
    '<%= config.bin %> queue summary --by instance --bytes',
    '<%= config.bin %> queue summary -g mta --by sender-domain --json',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    ...selectionFlags,
    ...configDirFlag,
    ...queueFilterFlags,
    by: Flags.string({ description: 'what the rows are', options: [...SUMMARY_KEYS], default: 'recipient-domain' }),
    bytes: Flags.boolean({ description: 'show bytes rather than messages in the table' }),
    'bucket-time': Flags.integer({ description: 'upper bound of the first age bucket, in minutes (qshape -t)', min: 1, default: 5, helpValue: 'MINUTES' }),
    buckets: Flags.integer({ description: 'number of age buckets (qshape -b)', min: 2, max: 40, default: 10, helpValue: 'N' }),
    top: Flags.integer({ description: 'only the N largest rows', min: 1, helpValue: 'N' }),
  };

  async run(): Promise<QueueSummaryResult> {
    const { flags } = await this.parse(QueueSummary);
    const filter = filtersFromFlags(flags);
    const options = { by: flags.by as SummaryKey, bucketMinutes: flags['bucket-time'], buckets: flags.buckets };
    const read = await readFleetQueues({
      configDirectory: flags['config-dir'],
      selection: selectionFromFlags(flags),
      filter,
      reasons: false,
      summary: options,
      reader: new FleetQueueReader(),
    });
    if (this.reportBroken(read.entries) > 0) process.exitCode = 1;
    const { instances, problems, tallies } = read.scan;
    reportScanTrouble(instances, problems);
    const counter = new SummaryCounter({ ...options, now: read.now });
    counter.merge(tallies ?? []);
    const summary = counter.summary(flags.top);
    if (!this.jsonEnabled()) this.log(formatSummary(summary, flags.bytes));
    return {
      ...summary,
      instances: instances.map((i) => ({ instance: i.instance, messages: i.selected, ...(i.error !== undefined ? { error: i.error } : {}) })),
      problems,
    };
  }
}

function formatSummary(s: Summary, bytes: boolean): string {
  const cells = (r: SummaryRow): string[] => (bytes ? [r.bytes, ...r.byteCounts].map(formatBytes) : [r.messages, ...r.counts].map(String));
  const rows = [['TOTAL', ...cells(s.total)], ...s.rows.map((r) => [escapeCell(r.key), ...cells(r)])];
  const header = [HEADINGS[s.by], 'T', ...s.bucketLabels];
  return renderTable(header, rows, header.map((_h, k) => (k === 0 ? 'left' : 'right')));
}
