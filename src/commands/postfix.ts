import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { PostfleetCommand } from '../cli/base.js';
import { configDirFlag, defaultParallelism, parallelFlag, selectionFlags, selectionFromFlags } from '../cli/flags.js';
import { runWithProgress } from '../cli/progress.js';
import { planPostfixCommand } from '../instances/fanout/command-class.js';
import { PostfleetError } from '../instances/errors.js';
import { loadFleetParameters } from '../instances/parameters.js';
import type { RunResult } from '../instances/fanout/runner.js';
import { fastStartFacts } from '../instances/start/plan.js';
import { nothingSelectedMessage } from '../instances/selection.js';
import type { ControlVerb } from '../systemd/control.js';
import { decideSystemctl, probeSystemd, refuseOptionsThroughSystemd, systemctlRuns } from '../systemd/systemctl.js';
import { memoRuns, probeContext, rollingFlags, rollingVerb, rolloutSettings, rollWithProgress } from '../cli/rollout.js';
import { rollPostfixCommand } from '../instances/rollout/drivers.js';
import type { RolloutReport } from '../instances/rollout/rollout.js';

export default class Postfix extends PostfleetCommand {
  static override summary = 'Run a postfix(1) command (start, stop, reload, status, check, …) on the selected instances.';
  static override description = `Start-like commands (postmulti_start_commands, default "start") run "check" on disabled instances; stop-like commands (postmulti_stop_commands) run in reverse order and skip disabled instances; control commands (postmulti_control_commands) skip disabled instances; any other command runs on every selected instance. Instances run concurrently (--parallel), launched in list order; each instance's messages are shown together.

"start" of an enabled instance is a fast start: postfix-script's pre-start checks (check-fatal: missing queue directories made as postfix-files says, master.cf present, the postlog service when maillog_file is set, postsuper's queue check; check-warn: the same ownership and permission warnings, logged through postlog as the script logs them) are done natively, then the master is started through Postfix's quick-start path. --full-check runs Postfix's own checks instead.

reload, restart and start take --rolling: the instances go batch by batch (--batch N|N%, default 1), each batch health-probed (master running, every inet service answering up to RCPT TO:<postmaster@$myhostname>) before the next; the first failure past --max-failed stops the roll-out (docs/rollout.md).`;
  static override examples = [
    '<%= config.bin %> postfix start',
    '<%= config.bin %> postfix reload -g mta',
    '<%= config.bin %> postfix reload -g mta -g relay',
    '<%= config.bin %> postfix status -i out --json',
    '<%= config.bin %> postfix stop -P 1',
    '<%= config.bin %> postfix start --full-check',
    '<%= config.bin %> postfix reload -g mta --rolling --batch 25% --pause 30s',
  ];
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = { command: Args.string({ required: true, description: 'postfix(1) command, then its arguments' }) };
  static override flags = {
    ...selectionFlags,
    ...parallelFlag,
    ...configDirFlag,
    verbose: Flags.boolean({ char: 'v', description: 'postfix(1) -v (repeat for more), and MAIL_VERBOSE exported' }),
    debug: Flags.boolean({ char: 'D', description: "postfix(1) -D: start each daemon under debugger_command (start only)" }),
    'full-check': Flags.boolean({
      description: "start with Postfix's own pre-start checks (postfix-script check-fatal and check-warn) instead of postfleet's native ones",
    }),
    'no-systemd': Flags.boolean({
      description: 'run postfix(1) directly even where systemd runs postfleet@.service units (start, stop, reload, restart)',
    }),
    ...rollingFlags,
  };

  async run(): Promise<RunResult[] | RolloutReport> {
    const parsed = await this.parse(Postfix);
    const { flags } = parsed;
    const command = this.positionalWords(parsed);
    // --rolling (cli/rollout.ts): checked before anything is read or run.
    const rolling = rolloutSettings(flags);
    const rollingAs = rolling === undefined ? undefined : rollingVerb(command);
    const selection = selectionFromFlags(flags);
    const { fleet, parametersOf } = await loadFleetParameters({ configDirectory: flags['config-dir'] });
    // postfix(1)'s own options, as often as they were given (-v -v, -vv): the parser keeps one token per occurrence.
    const verbosity = parsed.raw.filter((t) => t.type === 'flag' && t.flag === 'verbose').length;
    const postfixOptions = [...(flags.debug ? ['-D'] : []), ...Array<string>(verbosity).fill('-v')];
    // Under systemd with postfleet's units, the masters belong in their units: each instance
    // through its unit, checked before and after (systemd/control.ts); the units start fast
    // themselves.
    const viaSystemd = decideSystemctl(command[0], probeSystemd(), flags['no-systemd']).use;
    if (viaSystemd) refuseOptionsThroughSystemd({ verbose: verbosity, debug: flags.debug, fullCheck: flags['full-check'] });
    const plan = planPostfixCommand(fleet.entries, fleet.shared, fleet.commands, selection, command, {
      verbose: flags.verbose,
      postfixOptions,
      fastStart: flags['full-check'] || viaSystemd ? undefined : fastStartFacts(fleet, parametersOf, postfixOptions),
    });
    if (!plan.matched) throw new PostfleetError(nothingSelectedMessage(fleet.entries, selection));
    const broken = this.reportBroken(fleet.entries);
    if (rolling !== undefined && rollingAs !== undefined) {
      // The same runs as below, made per verb (restart without systemd: stop, then start), batch by batch.
      const runs = memoRuns((verb) => {
        const sd = decideSystemctl(verb, probeSystemd(), flags['no-systemd']).use;
        const p = planPostfixCommand(fleet.entries, fleet.shared, fleet.commands, selection, [verb], {
          verbose: flags.verbose,
          postfixOptions,
          fastStart: flags['full-check'] || sd ? undefined : fastStartFacts(fleet, parametersOf, postfixOptions),
        });
        return sd ? systemctlRuns(p.runs, verb, fleet.shared.commandDirectory) : p.runs;
      });
      const commands = { runs, restartInOne: viaSystemd, parallel: viaSystemd ? 1 : (flags.parallel ?? defaultParallelism()) };
      const probe = probeContext(rolling.probe, fleet.defaults);
      const report = await rollWithProgress(this.jsonEnabled(), (l) => this.log(l), (emit) => rollPostfixCommand(rollingAs, { settings: rolling, commands, probe, emit }));
      if (broken > 0) process.exitCode = process.exitCode || 1;
      return report;
    }
    const runs = viaSystemd ? systemctlRuns(plan.runs, command[0] as ControlVerb, fleet.shared.commandDirectory) : plan.runs;
    const results = await runWithProgress(runs, {
      parallel: flags.parallel ?? defaultParallelism(),
      mode: 'pty',
      json: this.jsonEnabled(),
      log: (l) => this.log(l),
    });
    if (broken > 0 || results.some((r) => r.exitCode !== 0)) process.exitCode = 1;
    return results;
  }
}
