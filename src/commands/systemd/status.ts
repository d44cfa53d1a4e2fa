import { PostfleetCommand } from '../../cli/base.js';
import { configDirFlag, selectionFlags, selectionFromFlags } from '../../cli/flags.js';
import { renderTable } from '../../cli/table.js';
import { PostfleetError } from '../../instances/errors.js';
import { loadFleet } from '../../instances/registry.js';
import { nothingSelectedMessage, selectFleet } from '../../instances/selection.js';
import { unitPlacements, type UnitPlacement } from '../../systemd/handover.js';

export default class SystemdStatus extends PostfleetCommand {
  static override summary = "Where systemd runs each instance's master: its own postfleet@ unit, Debian's postfix@, or no unit.";
  static override description = "RUNS-IN is the unit whose cgroup holds the master ('-' when it is not running). 'postfleet systemd adopt' moves the masters that run elsewhere into their postfleet@ units.";
  static override examples = ['<%= config.bin %> systemd status', '<%= config.bin %> systemd status -g mta --json'];
  static override enableJsonFlag = true;
  static override flags = { ...selectionFlags, ...configDirFlag };

  async run(): Promise<UnitPlacement[]> {
    const { flags } = await this.parse(SystemdStatus);
    const selection = selectionFromFlags(flags);
    const fleet = loadFleet({ configDirectory: flags['config-dir'] });
    const selected = selectFleet(fleet.entries, selection);
    if (selected.length === 0) throw new PostfleetError(nothingSelectedMessage(fleet.entries, selection));
    if (this.reportBroken(fleet.entries) > 0) process.exitCode = 1;
    const rows = unitPlacements(selected.flatMap((e) => (e.kind === 'ok' ? [e.instance] : [])));
    if (!this.jsonEnabled()) {
      const header = ['INSTANCE', 'ENABLED', 'UNIT', 'PID', 'RUNS-IN'];
      this.log(renderTable(header, rows.map((r) => [r.instance, r.enabled ? 'yes' : 'no', r.unit ?? '-', r.pid === null ? '-' : String(r.pid), r.runsIn ?? (r.pid === null ? '-' : 'no unit')]), header.map((_h, k) => (k === 3 ? 'right' : 'left'))));
    }
    return rows;
  }
}
