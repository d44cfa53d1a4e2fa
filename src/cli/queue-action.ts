/**
 * The queue actions (hold, release, delete, requeue, flush) share one flow: the filters
 * checked, the queues the action takes read, the plan made (pure), printed with --dry-run,
 * else run with the usual progress, and the outcome per instance: what was done, what had
 * left the queue, what the action does not apply to.
 */
import * as Flags from '@oclif/core/flags';
import { configDirFlag, defaultParallelism, parallelFlag, selectionFlags, selectionFromFlags, type SelectionFlagValues } from './flags.js';
import { dryRunFlag } from './lifecycle.js';
import { runWithProgress } from './progress.js';
import { filtersFromFlags, queueFilterFlags, reportScanTrouble, type QueueFilterFlagValues } from './queue.js';
import { escapeCell } from './table.js';
import { PostfleetError } from '../instances/errors.js';
import { reportBroken } from '../instances/instance.js';
import { ACTION_QUEUES, planQueueAction, queueActionOutcome, queueRuns, type Command, type InstanceOutcome, type InstancePlan, type QueueAction, type QueueRunResult } from '../instances/queue/actions.js';
import { runQueueRuns } from '../instances/queue/run-actions.js';
import { selectsMessages } from '../instances/queue/filters.js';
import { FleetQueueReader } from '../instances/queue/fleet-scan.js';
import { readFleetQueues } from '../instances/queue/read.js';
import type { ScanProblem } from '../instances/queue/scan.js';

export const queueActionFlags = { ...selectionFlags, ...configDirFlag, ...queueFilterFlags, ...dryRunFlag, ...parallelFlag };

/**
 * delete's --all confirms a delete that no message filter narrows (as postsuper -d ALL). It
 * takes the place of the selection's --all (select every instance), which is the default
 * anyway, so -g and -i combine with it.
 */
const { all: _selectAll, ...deleteSelection } = queueActionFlags;
export const deleteFlags = {
  ...deleteSelection,
  group: Flags.string({ char: 'g', description: selectionFlags.group.description, helpValue: 'GROUP', multiple: true, multipleNonGreedy: true }),
  instance: Flags.string({ char: 'i', description: selectionFlags.instance.description, helpValue: 'NAME', multiple: true, multipleNonGreedy: true }),
  all: Flags.boolean({ description: 'delete although no message filter narrows the selection: every message of the selected instances (and queues)' }),
};

export const siteFlag = {
  site: Flags.string({
    description: "flush this destination's mail with postqueue -s (Postfix's fast flush: only for fast_flush_domains)",
    helpValue: 'DOMAIN',
    exclusive: ['from', 'to', 'older', 'younger', 'reason', 'id'],
  }),
};

export interface QueueActionResult {
  readonly action: QueueAction;
  readonly dryRun: boolean;
  /** Whether any message was acted on (false with --dry-run). */
  readonly changed: boolean;
  readonly instances: readonly InstanceOutcome[];
  readonly problems: readonly ScanProblem[];
}

type ActionFlags = SelectionFlagValues &
  QueueFilterFlagValues & { 'config-dir'?: string | undefined; 'dry-run'?: boolean; parallel?: number | undefined; all?: boolean; site?: string | undefined };

const PAST: Record<QueueAction, string> = { hold: 'placed on hold', release: 'released from hold', delete: 'deleted', requeue: 'requeued', flush: 'flushed' };

const shown = (c: Command): string => [c.file, ...c.args].join(' ') + (c.input !== undefined ? ' (queue ids on standard input)' : '');
const count = (n: number): string => `${n} message${n === 1 ? '' : 's'}`;

export async function runQueueAction(command: { jsonEnabled(): boolean; log(line: string): void }, action: QueueAction, flags: ActionFlags): Promise<QueueActionResult> {
  const filter = filtersFromFlags(flags);
  if (action === 'delete' && !selectsMessages(filter) && !flags.all) {
    throw new PostfleetError('queue delete without a message filter (--from, --to, --older, --younger, --reason, --id) deletes every message of the selected instances: give --all to mean it');
  }
  const site = flags.site?.toLowerCase();
  if (site !== undefined && !/^(\[[^\]\s]+\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/.test(site)) throw new PostfleetError(`bad site '${flags.site}'`);
  const read = await readFleetQueues({
    configDirectory: flags['config-dir'],
    selection: selectionFromFlags(flags),
    // flush --site: the site's deferred mail is what Postfix will flush.
    filter: site === undefined ? filter : { ...filter, to: [`@${site}`] },
    reasons: false,
    queues: ACTION_QUEUES[action],
    reader: new FleetQueueReader(),
  });
  const broken = reportBroken(read.entries, (line) => process.stderr.write(`postfleet: ${line}\n`));
  const { instances, problems } = read.scan;
  reportScanTrouble(instances, problems);
  const plan = planQueueAction({
    action,
    // read.scan.instances are read.instances, in the same order.
    instances: read.instances.map((instance, k) => ({ instance, messages: instances[k]!.messages })),
    commandDirectory: read.commandDirectory,
    wholeQueue: !selectsMessages(filter),
    site,
  });
  const json = command.jsonEnabled();
  const log = (line: string): void => command.log(line);
  if (broken > 0) process.exitCode = 1;
  if (!json && plan.instances.every((p) => p.commands.length === 0 && p.skipped.length === 0)) log('no message selected');
  if (flags['dry-run']) {
    if (!json) for (const p of plan.instances) describePlan(action, p, log);
    const outcomes = plan.instances.map((p) => queueActionOutcome(action, p, undefined));
    return { action, dryRun: true, changed: false, instances: outcomes, problems };
  }
  const byDirectory = new Map(read.instances.map((i) => [i.configDirectory, i]));
  const runs = queueRuns(plan, byDirectory);
  const results = (await runWithProgress(runs, { parallel: flags.parallel ?? defaultParallelism(), mode: 'pipe', json, log, execute: runQueueRuns })) as QueueRunResult[];
  const byInstance = new Map(runs.map((r, k) => [r.label, results[k]]));
  const outcomes = plan.instances.map((p) => queueActionOutcome(action, p, byInstance.get(p.instance)));
  if (!json) for (const o of outcomes) describeOutcome(action, o, log);
  if (outcomes.some((o) => o.exitCode !== null && o.exitCode !== 0)) process.exitCode = 1;
  return { action, dryRun: false, changed: outcomes.some((o) => o.done.length > 0), instances: outcomes, problems };
}

function describeSkipped(p: InstancePlan, log: (line: string) => void): void {
  for (const s of p.skipped) log(`  ${s.queue_id} (${s.queue_name}): skipped, ${s.reason}`);
}

function describePlan(action: QueueAction, p: InstancePlan, log: (line: string) => void): void {
  const name = escapeCell(p.instance);
  if (p.commands.length === 0) {
    if (p.skipped.length > 0) log(`${name}: nothing to ${action}`);
  } else {
    log(`${name}: would ${action} ${count(p.ids.length)}: ${p.ids.join(' ')}`);
    for (const c of p.commands) log(`  ${shown(c)}`);
  }
  describeSkipped(p, log);
}

function describeOutcome(action: QueueAction, o: InstanceOutcome, log: (line: string) => void): void {
  const name = escapeCell(o.instance);
  if (o.exitCode === null) {
    if (o.skipped.length > 0) log(`${name}: nothing to ${action}`);
  } else {
    const gone = o.gone.length > 0 ? `; ${count(o.gone.length)} had left the queue: ${o.gone.join(' ')}` : '';
    log(`${name}: ${PAST[action]} ${o.done.length} of ${count(o.ids.length)}${gone}${o.exitCode !== 0 ? ` (exit ${o.exitCode})` : ''}`);
  }
  describeSkipped(o, log);
}
