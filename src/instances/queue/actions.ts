/**
 * hold, release, delete, requeue and flush of the messages the filters selected, through
 * Postfix's own tools only: one postsuper per affected instance with the queue ids on its
 * standard input (`postsuper -c DIR -h -`), postqueue -f / -s SITE / -i ID for a flush.
 * postfleet never renames or removes a queue file itself.
 *
 * planQueueAction() is pure: what would run where, which selected messages the action does
 * not apply to (postsuper's own rules: hold takes incoming, active and deferred mail; release
 * takes held mail; …), and nothing else — what --dry-run prints. run-actions.ts runs the plan;
 * queueActionOutcome() reads postsuper's per-message lines (`postsuper: ID: placed on hold`)
 * to tell what was done from what had left the queue meanwhile.
 */
import type { PlannedRun } from '../fanout/command-class.js';
import type { RunResult } from '../fanout/runner.js';
import type { Instance } from '../instance.js';
import { instanceLabel } from '../instance.js';
import type { MessageQueue } from './layout.js';
import type { QueueMessage } from './scan.js';

export type QueueAction = 'hold' | 'release' | 'delete' | 'requeue' | 'flush';

/** The queues each action takes messages from. */
export const ACTION_QUEUES: Readonly<Record<QueueAction, readonly MessageQueue[]>> = {
  hold: ['incoming', 'active', 'deferred'],
  release: ['hold'],
  delete: ['maildrop', 'incoming', 'active', 'deferred', 'hold'],
  requeue: ['incoming', 'active', 'deferred', 'hold'],
  flush: ['deferred'],
};

const POSTSUPER_OPTION: Readonly<Record<Exclude<QueueAction, 'flush'>, string>> = { hold: '-h', release: '-H', delete: '-d', requeue: '-r' };

/** What postsuper says of each message it acted on (msg_info() to stderr). */
const DONE_LINE: Readonly<Record<Exclude<QueueAction, 'flush'>, string>> = { hold: 'placed on hold', release: 'released from hold', delete: 'removed', requeue: 'requeued' };

export interface Command {
  readonly file: string;
  readonly args: readonly string[];
  /** Standard input (the queue ids, one per line). */
  readonly input?: string;
}

interface Skipped {
  readonly queue_id: string;
  readonly queue_name: MessageQueue;
  readonly reason: string;
}

export interface InstancePlan {
  readonly instance: string;
  readonly configDirectory: string;
  /** The ids the commands act on. */
  readonly ids: readonly string[];
  /** Selected messages the action does not apply to. */
  readonly skipped: readonly Skipped[];
  readonly commands: readonly Command[];
}

export interface QueueActionPlan {
  readonly action: QueueAction;
  readonly instances: readonly InstancePlan[];
}

export interface PlanInput {
  readonly action: QueueAction;
  /** The selected instances that were read, each with its selected messages. */
  readonly instances: ReadonlyArray<{ readonly instance: Instance; readonly messages: readonly QueueMessage[] }>;
  readonly commandDirectory: string;
  /** flush: no filter selects particular messages: the whole queue (postqueue -f). */
  readonly wholeQueue?: boolean;
  /** flush: this site's mail (postqueue -s SITE). */
  readonly site?: string | undefined;
}

function skipReason(action: QueueAction, queue: MessageQueue): string {
  if (queue === 'corrupt') return 'in the corrupt queue: postsuper does not take it';
  if (action === 'hold' && queue === 'hold') return 'already on hold';
  if (action === 'release') return 'not on hold';
  if (queue === 'maildrop') return 'in maildrop, not yet picked up';
  if (action === 'flush') return queue === 'hold' ? 'on hold (release it first)' : `in ${queue}: already being delivered`;
  return `not in a queue that ${action} takes`;
}

export function planQueueAction(input: PlanInput): QueueActionPlan {
  const applies = new Set<string>(ACTION_QUEUES[input.action]);
  const instances = input.instances.map(({ instance, messages }): InstancePlan => {
    const ids: string[] = [];
    const skipped: Skipped[] = [];
    for (const m of messages) {
      if (applies.has(m.queue_name)) ids.push(m.queue_id);
      else skipped.push({ queue_id: m.queue_id, queue_name: m.queue_name, reason: skipReason(input.action, m.queue_name) });
    }
    const dir = instance.configDirectory;
    const commands: Command[] = [];
    if (input.action !== 'flush') {
      if (ids.length > 0) commands.push({ file: `${input.commandDirectory}/postsuper`, args: ['-c', dir, POSTSUPER_OPTION[input.action], '-'], input: ids.map((id) => `${id}\n`).join('') });
    } else if (input.site !== undefined) {
      if (ids.length > 0) commands.push({ file: `${input.commandDirectory}/postqueue`, args: ['-c', dir, '-s', input.site] });
    } else if (input.wholeQueue) {
      if (ids.length > 0) commands.push({ file: `${input.commandDirectory}/postqueue`, args: ['-c', dir, '-f'] });
    } else {
      for (const id of ids) commands.push({ file: `${input.commandDirectory}/postqueue`, args: ['-c', dir, '-i', id] });
    }
    return { instance: instanceLabel(instance), configDirectory: dir, ids, skipped, commands };
  });
  return { action: input.action, instances };
}

/** A plan's runs for the fan-out progress (cli/progress.ts), one per instance that has commands. */
export interface QueueRun extends PlannedRun {
  readonly commands: readonly Command[];
}

export function queueRuns(plan: QueueActionPlan, instances: ReadonlyMap<string, Instance>): QueueRun[] {
  return plan.instances
    .filter((p) => p.commands.length > 0)
    .map((p) => ({
      instance: instances.get(p.configDirectory)!,
      label: p.instance,
      verb: `${plan.action} ${p.ids.length} message${p.ids.length === 1 ? '' : 's'}`,
      file: p.commands[0]!.file,
      args: p.commands[0]!.args,
      env: {},
      commands: p.commands,
    }));
}

export interface QueueRunResult extends RunResult {
  /** How many of the instance's commands succeeded (they stop at the first that fails). */
  readonly succeeded: number;
}

export interface InstanceOutcome extends InstancePlan {
  /** The ids the action was carried out on. */
  readonly done: readonly string[];
  /** Ids that had left the queue (or the queues the action takes) by the time it ran. */
  readonly gone: readonly string[];
  /** null when nothing was run. */
  readonly exitCode: number | null;
  /** What the commands printed (stdout and stderr). */
  readonly output: string;
}

/**
 * What was done: for postsuper, the ids it names in its per-message lines; for a flush by
 * id, the ids whose postqueue -i succeeded; for postqueue -f / -s, every id when it
 * succeeded (Postfix says nothing per message there).
 */
export function queueActionOutcome(action: QueueAction, plan: InstancePlan, result: QueueRunResult | undefined): InstanceOutcome {
  if (result === undefined) return { ...plan, done: [], gone: [], exitCode: null, output: '' };
  let done: string[];
  if (action !== 'flush') {
    const said = new Set<string>();
    const suffix = `: ${DONE_LINE[action]}`;
    for (const line of (result.stderr ?? '').split('\n')) {
      const m = /^postsuper: ([A-Za-z0-9_]+)(: .*)$/.exec(line);
      if (m?.[2] === suffix) said.add(m[1]!);
    }
    done = plan.ids.filter((id) => said.has(id));
  } else if (plan.commands.length === plan.ids.length && plan.commands.every((c) => c.args.includes('-i'))) {
    done = plan.ids.slice(0, result.succeeded);
  } else {
    done = result.exitCode === 0 ? [...plan.ids] : [];
  }
  const doneSet = new Set(done);
  const gone = action === 'flush' ? [] : plan.ids.filter((id) => !doneSet.has(id));
  return { ...plan, done, gone, exitCode: result.exitCode, output: result.output };
}
