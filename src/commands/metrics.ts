import * as Flags from '@oclif/core/flags';
import { PostfleetCommand } from '../cli/base.js';
import { configDirFlag, selectionFlags, selectionFromFlags } from '../cli/flags.js';
import { gatherFleetFacts } from '../instances/check/facts.js';
import { checkFleet } from '../instances/check/problems.js';
import { PostfleetError } from '../instances/errors.js';
import { largestDomains, renderMetrics, writeTextfile } from '../instances/observe/metrics.js';
import { loadFleetParameters } from '../instances/parameters.js';
import { QueueScanner } from '../instances/queue/count.js';
import { nothingSelectedMessage, selectFleet } from '../instances/selection.js';

export default class Metrics extends PostfleetCommand {
  static override summary = 'Print Prometheus metrics of the selected instances, or write them for node_exporter.';
  static override description =
    'Per instance (labels postfix_instance and group): up, enabled, messages and oldest message age per queue ' +
    '(incoming, active, deferred, hold, maildrop, corrupt), and the problems postfleet check finds, by severity. ' +
    'Across the selected instances, the messages queued for the --top-domains largest recipient domains (10; 0 leaves them out), ' +
    'so that the number of series stays bounded. Queues are read natively. --textfile writes FILE (*.prom) atomically for the textfile collector.';
  static override examples = [
    '<%= config.bin %> metrics',
    '<%= config.bin %> metrics -g mta --enabled',
    '<%= config.bin %> metrics --textfile /var/lib/prometheus/node-exporter/postfleet.prom',
  ];
  static override flags = {
    ...selectionFlags,
    ...configDirFlag,
    textfile: Flags.string({ description: "write the metrics to FILE (*.prom) atomically, for node_exporter's textfile collector", helpValue: 'FILE' }),
    'top-domains': Flags.integer({ description: 'series for this many of the largest recipient domains (0: none)', min: 0, max: 100, default: 10, helpValue: 'N' }),
  };

  async run(): Promise<string> {
    const { flags } = await this.parse(Metrics);
    const selection = selectionFromFlags(flags);
    const scanner = new QueueScanner(true, flags['top-domains'] > 0);
    const { fleet, parametersOf } = await loadFleetParameters({ configDirectory: flags['config-dir'] });
    const selected = selectFleet(fleet.entries, selection);
    if (selected.length === 0) throw new PostfleetError(nothingSelectedMessage(fleet.entries, selection));
    if (this.reportBroken(fleet.entries) > 0) process.exitCode = 1;
    const queueDirectories = selected.flatMap((e) => (e.kind === 'ok' ? [e.instance.queueDirectory] : []));
    scanner.submit(queueDirectories);
    const facts = gatherFleetFacts(fleet, parametersOf);
    const problems = checkFleet(facts);
    const running = new Map(facts.instances.map((f) => [f.instance.configDirectory, f.running === true]));
    const scans = await scanner.finish();
    const queues = new Map(queueDirectories.map((d, k) => [d, scans[k]!]));
    const domains = flags['top-domains'] > 0 ? largestDomains(scanner.recipientDomains(), flags['top-domains']) : undefined;
    const text = await renderMetrics({ selected, problems, running, queues, now: Date.now(), domains });
    if (flags.textfile === undefined) process.stdout.write(text);
    else writeTextfile(flags.textfile, text);
    return text;
  }
}
