/**
 * Instance selection, exactly as postmulti's match_instance_selection(),
 * and the modern commands' richer selection built on it: several -g/-i
 * (their union, in list order) narrowed by enabled state.
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
function brokenMatchesSelection(b: { configDirectory: string; primary: boolean }, selection: Selection): boolean {
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

// ---------------------------------------------------------------------------------------------
// The modern commands' selection
// ---------------------------------------------------------------------------------------------

export type StateFilter = 'enabled' | 'disabled';

/**
 * What a modern command selects: the union of its selectors (none: every
 * instance), then narrowed by multi_instance_enable as the fleet counts it
 * (the primary of a single-instance host counts as enabled, as postmulti
 * counts it). A broken entry, whose state is unknown, is never filtered
 * out: it stays selected so that it is reported.
 */
export interface FleetSelection {
  readonly selectors: readonly Selection[];
  readonly state?: StateFilter | undefined;
}

/** A single postmulti-style selection as a FleetSelection. */
export function fromSelection(selection: Selection): FleetSelection {
  return { selectors: selection.type === 'all' ? [] : [selection] };
}

function matchesSelectors(e: FleetEntry, selectors: readonly Selection[]): boolean {
  return selectors.length === 0 || selectors.some((s) => entryMatches(e, s));
}

function passesState(e: FleetEntry, state: StateFilter | undefined): boolean {
  if (state === undefined || e.kind === 'broken') return true;
  return e.instance.enabled === (state === 'enabled');
}

export function fleetEntryMatches(e: FleetEntry, selection: FleetSelection): boolean {
  return matchesSelectors(e, selection.selectors) && passesState(e, selection.state);
}

/** Selected entries, each once, in list order (or reversed), whatever the order of the selectors. */
export function selectFleet(entries: readonly FleetEntry[], selection: FleetSelection, reverse = false): FleetEntry[] {
  const ordered = reverse ? [...entries].reverse() : [...entries];
  return ordered.filter((e) => fleetEntryMatches(e, selection));
}

/** Only the instances that could be loaded, selected. */
export function selectInstances(entries: readonly FleetEntry[], selection: FleetSelection, reverse = false): Instance[] {
  return selectFleet(entries, selection, reverse).flatMap((e) => (e.kind === 'ok' ? [e.instance] : []));
}

function selectorPhrase(s: Selection): string {
  switch (s.type) {
    case 'all':
      return 'at all';
    case 'group':
      return `in group '${s.group}'`;
    case 'name':
      return `matching '${s.name}'`;
  }
}

function joinOr(parts: readonly string[]): string {
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} or ${parts.at(-1)}`;
}

/**
 * Why a selection chose nothing, naming what did it: the selectors when
 * they match nothing (the filter is then beside the point), else the filter
 * and how many instances it turned away.
 */
export function nothingSelectedMessage(entries: readonly FleetEntry[], selection: FleetSelection): string {
  const { selectors, state } = selection;
  const matched = entries.filter((e) => matchesSelectors(e, selectors));
  const real = selectors.filter((s) => s.type !== 'all');
  if (matched.length === 0 || state === undefined) {
    if (real.length === 0) return nothingMatchedMessage({ type: 'all' });
    if (real.length === 1) return nothingMatchedMessage(real[0]!);
    return `no instance ${joinOr(real.map(selectorPhrase))}`;
  }
  const other = state === 'enabled' ? 'disabled' : 'enabled';
  const where = real.length === 0 ? '' : ` ${joinOr(real.map(selectorPhrase))}`;
  const count = matched.length === 1 ? `the 1 selected is ${other}` : `all ${matched.length} selected are ${other}`;
  return `no ${state} instance${where} (--${state}: ${count})`;
}
