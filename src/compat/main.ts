/**
 * postmulti-compatible mode: `postfleet -l`, `postfleet -g mta -p reload`,
 * and the multi_instance_wrapper role (`postfix start` runs `postfleet -p --
 * start`). Loaded by bin/run.js before (and instead of) oclif, so it imports
 * only the domain: this path runs at boot.
 */
import { planPostfixCommand, planUnixCommand, type Plan } from '../instances/fanout/command-class.js';
import { isPostfleetError } from '../instances/errors.js';
import { reportBroken } from '../instances/instance.js';
import { formatPostmultiJson, formatPostmultiRow } from '../instances/listing.js';
import { loadDefaultsInBackground } from '../instances/maincf/defaults.js';
import { SettingsCache } from '../instances/maincf/settings-cache.js';
import { loadFleet, readAhead, readingAhead, type Fleet, type MainCfReader } from '../instances/registry.js';
import { runPlan } from '../instances/fanout/runner.js';
import { selectEntries, type Selection } from '../instances/selection.js';
import type { ControlVerb } from '../systemd/control.js';
import { decideSystemctl, probeSystemd, refuseOptionsThroughSystemd, systemctlRuns } from '../systemd/systemctl.js';
import { isParseError, parseCompatArgs, type CompatRequest } from './parse.js';

const PROG = 'postfleet';

export async function runCompat(args: readonly string[]): Promise<number> {
  try {
    return await compat(args);
  } catch (e) {
    if (isPostfleetError(e)) {
      process.stderr.write(`${PROG}: fatal: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}

async function compat(args: readonly string[]): Promise<number> {
  // postconf -d runs on the other core while main.cf files are read ahead,
  // through the settings cache (only for what reads them all anyway;
  // life-cycle actions plan first, from the files themselves).
  const pending = loadDefaultsInBackground();
  const request = parseCompatArgs(args, PROG);
  const iterates = !isParseError(request) && (request.mode === 'list' || request.mode === 'postfix' || request.mode === 'unix');
  const cache = iterates ? SettingsCache.open() : undefined;
  const read = cache !== undefined ? readingAhead(readAhead(undefined, cache.read), cache.read) : undefined;
  const defaults = await pending;
  const defaultConfigDir = defaults.get('config_directory') ?? '/etc/postfix';
  const mailConfig = process.env['MAIL_CONFIG'];
  if (mailConfig !== undefined && mailConfig !== defaultConfigDir) {
    return fatal(`Non-default configuration directory: MAIL_CONFIG=${mailConfig}`);
  }
  if (isParseError(request)) {
    for (const line of request.lines) process.stderr.write(`${line}\n`);
    return 1;
  }
  if (request.mode !== 'list' && request.mode !== 'postfix' && request.mode !== 'unix') {
    const { runCompatLifecycle } = await import('./lifecycle.js');
    return runCompatLifecycle(request, defaults, PROG);
  }

  const fleet = loadFleet({ defaults, read });
  cache?.save();
  const selection: Selection = request.selection ?? { type: 'all' };
  const brokenCount = reportBroken(fleet.entries, (line) => process.stderr.write(`${PROG}: warning: ${line}\n`));
  let status: number;
  if (request.mode === 'list') status = list(fleet, selection, request);
  else status = await iterate(fleet, selection, request, read);
  return brokenCount > 0 ? 1 : status;
}

function fatal(message: string): number {
  process.stderr.write(`${PROG}: fatal: ${message}\n`);
  return 1;
}


async function fastStartOf(fleet: Fleet, read: MainCfReader | undefined): Promise<ReturnType<typeof import('../instances/start/plan.js').fastStartFacts>> {
  const [{ fastStartFacts }, { parametersFrom }] = await Promise.all([import('../instances/start/plan.js'), import('../instances/parameters.js')]);
  return fastStartFacts(fleet, parametersFrom(fleet, read), []);
}

function list(fleet: Fleet, selection: Selection, request: CompatRequest): number {
  let out = '';
  for (const e of selectEntries(fleet.entries, selection, request.reverse)) {
    if (e.kind !== 'ok') continue;
    out += request.json ? formatPostmultiJson(e.instance) : formatPostmultiRow(e.instance);
  }
  process.stdout.write(out);
  return 0;
}

async function iterate(fleet: Fleet, selection: Selection, request: CompatRequest, read: MainCfReader | undefined): Promise<number> {
  // -F (e.g. in multi_instance_wrapper): loaded only when asked, the boot path stays lean.
  const fastStart = request.fastStart ? await fastStartOf(fleet, read) : undefined;
  const plan: Plan =
    request.mode === 'postfix'
      ? planPostfixCommand(fleet.entries, fleet.shared, fleet.commands, selection, request.operands, { verbose: request.verbose, fastStart })
      : planUnixCommand(fleet.entries, fleet.shared, selection, request.operands, {
          reverse: request.reverse,
          verbose: request.verbose,
          path: process.env['PATH'],
        });
  if (!plan.matched) return fatal('No matching instances');

  // The wrapper role's `postfix start` under systemd with postfleet's units: through each
  // instance's unit, checked, one at a time (POSTFLEET_NO_SYSTEMD=1 bypasses; see systemd/control.ts).
  const verb = request.operands[0];
  if (request.mode === 'postfix' && decideSystemctl(verb, probeSystemd()).use) {
    refuseOptionsThroughSystemd({ verbose: request.verbose ? 1 : 0 });
    const runs = systemctlRuns(plan.runs, verb as ControlVerb, fleet.shared.commandDirectory);
    const finished = await runPlan(runs, { parallel: 1, mode: 'inherit' });
    return finished.some((r) => r.exitCode !== 0) ? 1 : 0;
  }
  // Without -P this is postmulti: one at a time, children on our own stdio.
  // With -P, each child's output is held and shown whole, in list order:
  // postfix(1)'s terminal messages on stderr, a Unix command's stdout and
  // stderr each where the child would have written them.
  const parallel = request.parallel ?? 1;
  const mode = request.parallel === undefined ? 'inherit' : request.mode === 'postfix' ? 'pty' : 'split';
  const sink = request.mode === 'postfix' ? process.stderr : process.stdout;
  const finished = await runPlan(plan.runs, {
    parallel,
    mode,
    onResultInOrder: (_index, r) => {
      sink.write(r.output);
      if (r.stderr) process.stderr.write(r.stderr);
    },
  });
  return finished.some((r) => r.exitCode !== 0) ? 1 : 0;
}
