/**
 * postfix(1) command classes and the iteration plan they imply, as postmulti's
 * iterate_postfix_command(): start-like commands run `check` on disabled
 * instances; stop-like ones go in reverse order and skip disabled instances;
 * control commands skip disabled instances; anything else runs everywhere.
 * Pure: the plan is data, the runner executes it.
 */
import type { CommandLists, FleetEntry, Instance, SharedSettings } from '../instance.js';
import type { FastStart } from '../start/fast-start.js';
import { instanceLabel } from '../instance.js';
import { fleetEntryMatches, fromSelection, type FleetSelection, type Selection } from '../selection.js';

/** postmulti's single selection (compat mode) or the modern commands' one. */
export type AnySelection = Selection | FleetSelection;

const asFleetSelection = (s: AnySelection): FleetSelection => ('selectors' in s ? s : fromSelection(s));

export type CommandClass = 'start' | 'stop' | 'control' | 'other';

export function classifyCommand(command: string, lists: CommandLists): CommandClass {
  if (lists.start.includes(command)) return 'start';
  if (lists.stop.includes(command)) return 'stop';
  if (lists.control.includes(command)) return 'control';
  return 'other';
}

export interface PlannedRun {
  readonly instance: Instance;
  /** The instance as postmulti names it in messages. */
  readonly label: string;
  /** What is actually run, for progress lines: `check` where `start` was asked for a disabled instance. */
  readonly verb: string;
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Start this one fast (native pre-start checks, then Postfix's quick-start); see start/fast-start.ts. */
  readonly fastStart?: FastStart | undefined;
  /**
   * Done in this process instead of running `file` (systemd/control.ts: systemctl and its
   * checks); `file` and `args` then only name it in progress lines and --json.
   */
  readonly task?: (() => Promise<{ exitCode: number; output: string }>) | undefined;
}

export interface Plan {
  readonly runs: readonly PlannedRun[];
  /** Whether anything at all was selected (runs, or broken ones: reported, never run). */
  readonly matched: boolean;
}

export interface PlanOptions {
  readonly reverse?: boolean;
  readonly verbose?: boolean;
  /** postfix(1)'s own options (-D, -v …), before the command. */
  readonly postfixOptions?: readonly string[];
  /** Given: `start` of an enabled instance is a fast start with these facts. */
  readonly fastStart?: ((i: Instance) => FastStart) | undefined;
}

/** `postfix -- CMD ARGS` once per selected instance, per the command's class. */
export function planPostfixCommand(
  entries: readonly FleetEntry[],
  shared: SharedSettings,
  lists: CommandLists,
  selection: AnySelection,
  command: readonly string[],
  options: PlanOptions = {},
): Plan {
  // The state filter narrows the selection first; the command class then applies as usual.
  const selected = asFleetSelection(selection);
  const [verb = '', ...rest] = command;
  const cls = classifyCommand(verb, lists);
  const reverse = cls === 'stop' ? !options.reverse : Boolean(options.reverse);
  const skipDisabled = cls === 'stop' || cls === 'control';
  const ordered = reverse ? [...entries].reverse() : [...entries];
  const runs: PlannedRun[] = [];
  let broken = 0;
  for (const e of ordered) {
    if (e.kind === 'broken') {
      if (fleetEntryMatches(e, selected)) broken++;
      continue;
    }
    const i = e.instance;
    if (skipDisabled && !i.enabled) continue;
    if (!fleetEntryMatches(e, selected)) continue;
    const actual = cls === 'start' && !i.enabled ? 'check' : verb;
    const fast = actual === 'start' && rest.length === 0 ? options.fastStart?.(i) : undefined;
    runs.push({
      instance: i,
      label: instanceLabel(i),
      verb: [actual, ...rest].join(' '),
      file: `${shared.commandDirectory}/postfix`,
      args: [...(options.postfixOptions ?? []), '--', actual, ...rest],
      env: postfixEnvironment(i, options.verbose),
      ...(fast !== undefined ? { fastStart: fast } : {}),
    });
  }
  return { runs, matched: runs.length + broken > 0 };
}

/** An arbitrary command once per selected instance (postmulti -x). */
export function planUnixCommand(
  entries: readonly FleetEntry[],
  shared: SharedSettings,
  selection: AnySelection,
  command: readonly string[],
  options: PlanOptions & { path?: string | undefined } = {},
): Plan {
  const selected = asFleetSelection(selection);
  const [file = '', ...args] = command;
  const ordered = options.reverse ? [...entries].reverse() : [...entries];
  const runs: PlannedRun[] = [];
  let broken = 0;
  for (const e of ordered) {
    if (!fleetEntryMatches(e, selected)) continue;
    if (e.kind === 'broken') {
      broken++;
      continue;
    }
    const i = e.instance;
    runs.push({
      instance: i,
      label: instanceLabel(i),
      verb: command.join(' '),
      file,
      args,
      env: unixEnvironment(i, shared, options.path, options.verbose),
    });
  }
  return { runs, matched: runs.length + broken > 0 };
}

/** Postfix's ROOT_PATH, used when PATH is unset or empty. */
const ROOT_PATH = '/bin:/usr/bin:/sbin:/usr/sbin';

export function postfixEnvironment(i: Instance, verbose?: boolean): Record<string, string> {
  const env: Record<string, string> = { MAIL_CONFIG: i.configDirectory };
  if (verbose) env['MAIL_VERBOSE'] = '';
  return env;
}

function unixEnvironment(
  i: Instance,
  shared: SharedSettings,
  path: string | undefined,
  verbose?: boolean,
): Record<string, string> {
  return {
    ...postfixEnvironment(i, verbose),
    daemon_directory: shared.daemonDirectory,
    command_directory: shared.commandDirectory,
    config_directory: i.configDirectory,
    queue_directory: i.queueDirectory,
    data_directory: i.dataDirectory,
    multi_instance_name: i.name ?? '',
    multi_instance_group: i.group ?? '',
    multi_instance_enable: i.enabled ? 'yes' : 'no',
    PATH: `${shared.commandDirectory}:${path ? path : ROOT_PATH}`,
  };
}
