import * as Flags from '@oclif/core/flags';
import { PostfleetCommand } from '../cli/base.js';
import { configDirFlag, defaultParallelism, parallelFlag, selectionFlags, selectionFromFlags } from '../cli/flags.js';
import { renderTable } from '../cli/table.js';
import { gatherFleetFacts } from '../instances/check/facts.js';
import { runPostfixCheck } from '../instances/check/postfix-check.js';
import { checkFleet, countBySeverity, problemsConcerning, type Problem, type Severity } from '../instances/check/problems.js';
import { PostfleetError } from '../instances/errors.js';
import { instanceLabel } from '../instances/instance.js';
import { loadFleetParameters } from '../instances/parameters.js';
import { nothingSelectedMessage, selectFleet } from '../instances/selection.js';

export interface CheckResult {
  readonly ok: boolean;
  readonly counts: Record<Severity, number>;
  readonly problems: Problem[];
}

export default class Check extends PostfleetCommand {
  static override summary = 'Find problems between and within instances: listener clashes, log names, shared paths, …';
  static override description =
    'Looks across the whole fleet and reports the problems that concern the selected instances, each with a severity, ' +
    'the instances, the settings and one line of explanation. Exit status 1 when there is an error (with --strict, also a warning). ' +
    '--postfix also runs "postfix check" on each selected instance, concurrently, and folds its messages in.';
  static override examples = ['<%= config.bin %> check', '<%= config.bin %> check -g mta --json', '<%= config.bin %> check --postfix --strict'];
  static override enableJsonFlag = true;
  static override flags = {
    ...selectionFlags,
    ...parallelFlag,
    ...configDirFlag,
    postfix: Flags.boolean({ description: 'also run "postfix check" on each selected instance' }),
    strict: Flags.boolean({ description: 'warnings fail too (exit status 1)' }),
  };

  async run(): Promise<CheckResult> {
    const { flags } = await this.parse(Check);
    const selection = selectionFromFlags(flags);
    const { fleet, parametersOf } = await loadFleetParameters({ configDirectory: flags['config-dir'] });
    const selected = selectFleet(fleet.entries, selection);
    if (selected.length === 0) throw new PostfleetError(nothingSelectedMessage(fleet.entries, selection));
    const labels = new Set(selected.map((e) => (e.kind === 'ok' ? instanceLabel(e.instance) : e.broken.configDirectory)));
    const all = selection.selectors.length === 0 && selection.state === undefined;
    const found = checkFleet(gatherFleetFacts(fleet, parametersOf));
    const problems = all ? found : problemsConcerning(found, labels);
    if (flags.postfix) problems.push(...(await runPostfixCheck(fleet, selection, flags.parallel ?? defaultParallelism())));
    const counts = countBySeverity(problems);
    const ok = counts.error === 0 && !(flags.strict && counts.warning > 0);
    if (!ok) process.exitCode = 1;
    if (!this.jsonEnabled()) this.log(format(problems, counts));
    return { ok, counts, problems };
  }
}

function format(problems: readonly Problem[], counts: Record<Severity, number>): string {
  const summary = `${counts.error} error(s), ${counts.warning} warning(s)`;
  if (problems.length === 0) return 'no problems found';
  const rows = problems.map((p, k) => [String(k + 1), p.severity, p.check, p.instances.join(', '), p.message]);
  const settings = problems.map((p, k) => `${String(k + 1).padStart(3)}  ${p.settings.join(`\n${' '.repeat(5)}`)}`);
  const table = renderTable(['#', 'SEVERITY', 'CHECK', 'INSTANCES', 'PROBLEM'], rows, ['right', 'left', 'left', 'left', 'left']);
  return `${table}\n\nSettings:\n${settings.join('\n')}\n\n${summary}`;
}
