/**
 * The instance list in the primary main.cf: multi_instance_directories, and
 * alternate_config_directories kept consistent with it as postmulti-script's update_cfdirs
 * keeps it (an instance added to the list is dropped from the alternates; a deported one
 * is added to them). The one place that computes these edits. Pure.
 */
import { PostfleetError } from '../errors.js';
import { splitList, type FleetEntry } from '../instance.js';
import type { MainCfEdit } from '../maincf/edit.js';
import type { Fleet } from '../registry.js';
import { matchesSelection, type Selection } from '../selection.js';
import { entryDirectory } from './plan.js';

export interface ListChange {
  /** Added at `position` in the secondary list (undefined: at the end), in this order. */
  readonly add?: { readonly directories: readonly string[]; readonly position?: number | undefined };
  /** Taken off the list; `keepAsAlternate`: deport's way, the directory stays known to Postfix tools (added to the alternates in this order). */
  readonly remove?: ReadonlyArray<{ readonly directory: string; readonly keepAsAlternate: boolean }>;
}

export function listEdits(fleet: Fleet, change: ListChange): MainCfEdit[] {
  const list = fleet.entries.slice(1).map(entryDirectory);
  const alternates = splitList(fleet.primaryParameters.raw('alternate_config_directories') ?? '');
  let nextList = list;
  let nextAlternates = alternates;
  if (change.add) {
    const at = change.add.position ?? list.length;
    nextList = [...list.slice(0, at), ...change.add.directories, ...list.slice(at)];
    const added = new Set(change.add.directories);
    nextAlternates = nextAlternates.filter((d) => !added.has(d));
  }
  if (change.remove && change.remove.length > 0) {
    const removed = new Set(change.remove.map((r) => r.directory));
    const kept = change.remove.filter((r) => r.keepAsAlternate).map((r) => r.directory);
    nextList = nextList.filter((d) => !removed.has(d));
    nextAlternates = [...nextAlternates.filter((d) => !removed.has(d) || kept.includes(d)), ...kept.filter((d) => !nextAlternates.includes(d))];
  }
  const edits: MainCfEdit[] = [{ op: 'set', name: 'multi_instance_directories', value: nextList.join(' ') }];
  if (nextAlternates.join(' ') !== alternates.join(' ')) edits.push({ op: 'set', name: 'alternate_config_directories', value: nextAlternates.join(' ') });
  return edits;
}

/** Index in the secondary list before which a new instance goes (postmulti insert_instance()). */
export function insertPosition(fleet: Fleet, placement: Selection | undefined): number | undefined {
  if (placement === undefined) return undefined;
  const secondaries: readonly FleetEntry[] = fleet.entries.slice(1);
  const k = secondaries.findIndex((e) => e.kind === 'ok' && matchesSelection(e.instance, placement));
  if (k >= 0) return k;
  if (placement.type !== 'all') throw new PostfleetError('No matching secondary instances');
  return undefined;
}

/** What the report says of an instance's place in the list (the exact text is in the diff). */
export function listNote(fleet: Fleet, directory: string, change: 'add' | 'remove' | 'deport', before?: string): string {
  const where = `${fleet.primaryConfigDirectory}/main.cf`;
  const alternate = splitList(fleet.primaryParameters.raw('alternate_config_directories') ?? '').includes(directory);
  const also = change === 'deport' ? (alternate ? '' : '; added to alternate_config_directories') : alternate ? '; dropped from alternate_config_directories' : '';
  if (change !== 'add') return `unregister ${directory} from ${where} (multi_instance_directories${also})`;
  return `register ${directory} in ${where} (multi_instance_directories${before === undefined ? '' : `, before ${before}`}${also})`;
}
