/**
 * The queues of the selected instances, read: the fleet loaded with its parameters, the
 * readers fed with each selected instance's queue directory and showq settings, the
 * messages the filters select returned in fleet order (or tallied for a summary).
 */
import { PostfleetError } from '../errors.js';
import type { FleetEntry, Instance } from '../instance.js';
import { instanceLabel } from '../instance.js';
import { cacheDirectoryFromEnvironment } from '../maincf/settings-cache.js';
import { loadFleetParameters } from '../parameters.js';
import { nothingSelectedMessage, selectFleet, type FleetSelection } from '../selection.js';
import { FleetQueueReader, type FleetScan } from './fleet-scan.js';
import { SerializedList } from './serialized.js';
import type { FilterSpec } from './filters.js';
import { MESSAGE_QUEUES, type MessageQueue } from './layout.js';
import type { QueueSource } from './scan.js';
import { queueSource } from './sources.js';
import type { SummaryOptions } from './summary.js';

export interface QueueReadOptions {
  readonly configDirectory?: string | undefined;
  readonly selection: FleetSelection;
  readonly filter: FilterSpec;
  /** Read the defer logs: the delay reasons (list, --reason). */
  readonly reasons: boolean;
  /** Tally a summary instead of returning the messages. */
  readonly summary?: Omit<SummaryOptions, 'now'> | undefined;
  /** Seconds since the epoch (default: now). */
  readonly now?: number | undefined;
  /** The reader, if the caller started it earlier (its threads start up while the fleet loads). */
  readonly reader?: FleetQueueReader | undefined;
  /** The messages as JSON text (InstanceQueues.json) rather than objects. */
  readonly json?: boolean | undefined;
  /** The queues to read when the filters name none (default: all). */
  readonly queues?: readonly MessageQueue[] | undefined;
}

export interface QueueRead {
  /** The whole fleet (broken entries are reported from it). */
  readonly entries: readonly FleetEntry[];
  /** The selected instances that were read, in fleet order, matching scan.instances. */
  readonly instances: readonly Instance[];
  readonly scan: FleetScan;
  readonly now: number;
  /** command_directory (postsuper, postqueue). */
  readonly commandDirectory: string;
}

export async function readFleetQueues(options: QueueReadOptions): Promise<QueueRead> {
  const reader = options.reader ?? new FleetQueueReader();
  try {
    const now = options.now ?? Math.floor(Date.now() / 1000);
    const { fleet, parametersOf } = await loadFleetParameters({ configDirectory: options.configDirectory });
    const selected = selectFleet(fleet.entries, options.selection);
    if (selected.length === 0) throw new PostfleetError(nothingSelectedMessage(fleet.entries, options.selection));
    const instances: Instance[] = [];
    const sources: QueueSource[] = [];
    const unreadable: Array<{ at: number; instance: string; error: string }> = [];
    for (const e of selected) {
      if (e.kind !== 'ok') continue;
      const source = queueSource(e.instance, parametersOf(e.instance));
      if ('error' in source) unreadable.push({ at: instances.length, instance: instanceLabel(e.instance), error: source.error });
      else sources.push(source);
      instances.push(e.instance);
    }
    const wanted: readonly string[] = options.filter.queues.length > 0 ? options.filter.queues : (options.queues ?? MESSAGE_QUEUES);
    const queues = MESSAGE_QUEUES.filter((q) => wanted.includes(q));
    const scan = await reader.read({
      sources,
      queues,
      reasons: options.reasons || options.filter.reason !== undefined,
      filter: options.filter,
      now,
      summary: options.summary === undefined ? undefined : { ...options.summary, now },
      json: options.json,
      cacheDirectory: cacheDirectoryFromEnvironment(),
    });
    // Instances whose parameters could not be expanded take their place in the order, with the error.
    for (const u of unreadable) scan.instances.splice(u.at, 0, { instance: u.instance, messages: [], json: new SerializedList([]), selected: 0, error: u.error });
    return { entries: fleet.entries, instances, scan, now, commandDirectory: fleet.shared.commandDirectory };
  } finally {
    reader.close();
  }
}
