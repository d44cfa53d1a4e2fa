import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { PostfleetCommand } from '../../cli/base.js';
import { configDirFlag, selectionFlags, selectionFromFlags } from '../../cli/flags.js';
import { renderTable } from '../../cli/table.js';
import { PostfleetError } from '../../instances/errors.js';
import { brokenValues, checkParameterNames, instanceValues, loadFleetParameters, type InstanceValues, type InstanceValuesError } from '../../instances/parameters.js';
import { nothingSelectedMessage, selectFleet } from '../../instances/selection.js';

type Row = InstanceValues | InstanceValuesError;

export interface ConfigGetResult {
  readonly parameters: string[];
  readonly instances: Row[];
}

export default class ConfigGet extends PostfleetCommand {
  static override summary = 'Show parameters of the selected instances, as postconf -xh prints them.';
  static override description =
    'Each value is expanded ($name, ${name?value}, …) exactly as `postconf -c DIR -xh NAME` prints it, read natively: ' +
    'one postconf -d for the compiled-in defaults, no process per instance. --explicit shows only values set in main.cf ' +
    '(postconf -n); the others are null. A name that is no Postfix parameter and is set in no selected main.cf is an error.';
  static override examples = [
    '<%= config.bin %> config get myhostname inet_interfaces',
    '<%= config.bin %> config get -g mta --enabled smtpd_tls_cert_file --json',
    '<%= config.bin %> config get --explicit relayhost',
  ];
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = { parameter: Args.string({ required: true, description: 'parameter names (several may be given)' }) };
  static override flags = {
    ...selectionFlags,
    ...configDirFlag,
    explicit: Flags.boolean({ char: 'n', description: 'only values set in main.cf (as postconf -n); others are null' }),
  };

  async run(): Promise<ConfigGetResult> {
    const parsed = await this.parse(ConfigGet);
    const { flags } = parsed;
    const names = this.positionalWords(parsed);
    const selection = selectionFromFlags(flags);
    const { fleet, parametersOf } = await loadFleetParameters({ configDirectory: flags['config-dir'] });
    const selected = selectFleet(fleet.entries, selection);
    if (selected.length === 0) throw new PostfleetError(nothingSelectedMessage(fleet.entries, selection));
    const sets = selected.flatMap((e) => (e.kind === 'ok' ? [parametersOf(e.instance)] : []));
    checkParameterNames(names, fleet.defaults, sets);
    if (this.reportBroken(fleet.entries) > 0) process.exitCode = 1;
    const instances = selected.map((e): Row => {
      if (e.kind === 'broken') return brokenValues(e);
      const r = instanceValues(e.instance, parametersOf(e.instance), names, flags.explicit);
      if ('error' in r) {
        process.stderr.write(`postfleet: ${r.error}\n`);
        process.exitCode = 1;
      }
      return r;
    });
    if (!this.jsonEnabled()) this.log(formatTable(names, instances));
    return { parameters: names, instances };
  }
}

function formatTable(names: readonly string[], rows: readonly Row[]): string {
  const cells = rows.map((r) => [r.instance, ...names.map((n) => ('error' in r ? '?' : (r.values[n] ?? '(not set)')))]);
  return renderTable(['INSTANCE', ...names], cells, ['left', ...names.map(() => 'left' as const)]);
}
