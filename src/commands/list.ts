import { configDirFlag, reverseFlag, selectionFlags, selectionFromFlags } from '../cli/flags.js';
import { PostfleetCommand } from '../cli/base.js';
import { renderTable } from '../cli/table.js';
import { PostfleetError } from '../instances/errors.js';
import { listRow, type ListRow } from '../instances/listing.js';
import { loadFleetOverlapped } from '../instances/registry.js';
import { nothingSelectedMessage, selectFleet } from '../instances/selection.js';

type Row = ListRow | { configDirectory: string; primary: boolean; error: string };

export default class List extends PostfleetCommand {
  static override summary = 'List Postfix instances: name, group, enabled, config directory.';
  static override description = 'The primary instance comes first, then the secondaries in multi_instance_directories order. An instance whose main.cf cannot be read, or that conflicts with another, is reported and listed as broken; the exit status is then 1.';
  static override examples = ['<%= config.bin %> list', '<%= config.bin %> list -g mta', '<%= config.bin %> list -i out --json', '<%= config.bin %> list --disabled', '<%= config.bin %> list -g mta -g relay --enabled'];
  static override enableJsonFlag = true;
  static override flags = { ...selectionFlags, ...reverseFlag, ...configDirFlag };

  async run(): Promise<Row[]> {
    const { flags } = await this.parse(List);
    const selection = selectionFromFlags(flags);
    const fleet = await loadFleetOverlapped({ configDirectory: flags['config-dir'] });
    const selected = selectFleet(fleet.entries, selection, flags.reverse);
    if (selected.length === 0) throw new PostfleetError(nothingSelectedMessage(fleet.entries, selection));
    if (this.reportBroken(fleet.entries) > 0) process.exitCode = 1;

    const rows: Row[] = selected.map((e) =>
      e.kind === 'ok' ? listRow(e.instance) : { configDirectory: e.broken.configDirectory, primary: e.broken.primary, error: e.broken.reason },
    );
    if (!this.jsonEnabled()) this.log(formatTable(rows));
    return rows;
  }
}

function formatTable(rows: readonly Row[]): string {
  const cells = rows.map((r) =>
    'error' in r ? ['?', '?', 'broken', r.configDirectory] : [r.name ?? '-', r.group ?? '-', r.enabled ? 'yes' : 'no', r.configDirectory],
  );
  return renderTable(['NAME', 'GROUP', 'ENABLED', 'CONFIG_DIRECTORY'], cells, ['left', 'left', 'left', 'left']);
}
