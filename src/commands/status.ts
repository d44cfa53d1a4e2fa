import { PostfleetCommand } from '../cli/base.js';
import { renderTable } from '../cli/table.js';
import { configDirFlag, selectionFlags, selectionFromFlags } from '../cli/flags.js';
import { PostfleetError } from '../instances/errors.js';
import { instanceLabel } from '../instances/instance.js';
import { loadFleetOverlapped } from '../instances/registry.js';
import { nothingSelectedMessage, selectFleet } from '../instances/selection.js';
import { QUEUE_NAMES, readInstanceStatus, type InstanceStatus } from '../instances/observe/status.js';

type Row = InstanceStatus | { instance: string; configDirectory: string; error: string };

export default class Status extends PostfleetCommand {
  static override summary = 'Show each instance: enabled, running, master PID, and queue counts.';
  static override description =
    'Read natively from $queue_directory/pid/master.pid and the queue directories (incoming, active, deferred, hold, maildrop, corrupt); no postfix(1) process is run.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status -g mta --json', '<%= config.bin %> status -g mta --enabled --json'];
  static override enableJsonFlag = true;
  static override flags = { ...selectionFlags, ...configDirFlag };

  async run(): Promise<Row[]> {
    const { flags } = await this.parse(Status);
    const selection = selectionFromFlags(flags);
    const fleet = await loadFleetOverlapped({ configDirectory: flags['config-dir'] });
    const selected = selectFleet(fleet.entries, selection);
    if (selected.length === 0) throw new PostfleetError(nothingSelectedMessage(fleet.entries, selection));
    if (this.reportBroken(fleet.entries) > 0) process.exitCode = 1;
    const rows: Row[] = selected.map((e) =>
      e.kind === 'ok'
        ? readInstanceStatus(e.instance)
        : { instance: instanceLabel(e.broken), configDirectory: e.broken.configDirectory, error: e.broken.reason },
    );
    if (!this.jsonEnabled()) this.log(formatTable(rows));
    return rows;
  }
}

function formatTable(rows: readonly Row[]): string {
  const header = ['INSTANCE', 'ENABLED', 'RUNNING', 'PID', ...QUEUE_NAMES.map((q) => q.toUpperCase())];
  const cells = rows.map((r) =>
    'error' in r
      ? [r.instance, '?', 'broken', '-', ...QUEUE_NAMES.map(() => '-')]
      : [r.instance, r.enabled ? 'yes' : 'no', r.running ? 'yes' : 'no', r.pid === null ? '-' : String(r.pid), ...QUEUE_NAMES.map((q) => (r.queues[q] === null ? '-' : String(r.queues[q])))],
  );
  return renderTable(header, cells, header.map((_h, k) => (k === 0 ? 'left' : 'right')));
}
