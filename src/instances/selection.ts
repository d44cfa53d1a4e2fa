/**
 * Instance selection, exactly as postmulti's match_instance_selection().
 * Pure: no files, no processes.
 */
import type { FleetEntry, Instance } from './instance.js';

export type Selection =
  | { readonly type: 'all' }
  | { readonly type: 'group'; readonly group: string }
  | { readonly type: 'name'; readonly name: string };

export const NAME_PREFIX = 'postfix-';

export function matchesSelection(i: Instance, selection: Selection): boolean {
  switch (selection.type) {
    case 'all':
      return true;
    case 'group':
      return i.group !== undefined && i.group === selection.group;
    case 'name': {
      const wanted = selection.name;
      let candidate: string;
      if (wanted.startsWith('/') || i.name === undefined) candidate = i.configDirectory;
      else if (!wanted.startsWith(NAME_PREFIX) && i.name.startsWith(NAME_PREFIX)) candidate = i.name.slice(NAME_PREFIX.length);
      else candidate = i.name;
      return wanted === candidate || (i.primary && wanted === '-');
    }
  }
}

/**
 * A broken entry has no trustworthy name or group: it is selected by -a, or
 * by -i naming its directory (or `-` for a broken primary).
 */
export function brokenMatchesSelection(b: { configDirectory: string; primary: boolean }, selection: Selection): boolean {
  if (selection.type === 'all') return true;
  if (selection.type === 'name') return selection.name === b.configDirectory || (b.primary && selection.name === '-');
  return false;
}

export function entryMatches(e: FleetEntry, selection: Selection): boolean {
  return e.kind === 'ok' ? matchesSelection(e.instance, selection) : brokenMatchesSelection(e.broken, selection);
}

/** Selected entries in iteration order: list order, or reversed. */
export function selectEntries(entries: readonly FleetEntry[], selection: Selection, reverse = false): FleetEntry[] {
  const ordered = reverse ? [...entries].reverse() : [...entries];
  return ordered.filter((e) => entryMatches(e, selection));
}


/** The modern commands treat an empty selection as an error naming the selector. */
export function nothingMatchedMessage(selection: Selection): string {
  switch (selection.type) {
    case 'all':
      return 'no instances';
    case 'group':
      return `no instance in group '${selection.group}'`;
    case 'name':
      return `no instance matches '${selection.name}'`;
  }
}
