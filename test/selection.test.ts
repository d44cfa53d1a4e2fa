import { describe, expect, it } from 'vitest';
import type { FleetEntry, Instance } from '../src/instances/instance.js';
import { selectExisting } from '../src/instances/lifecycle/plan.js';
import type { Fleet } from '../src/instances/registry.js';
import { matchesSelection, nothingMatchedMessage, selectEntries } from '../src/instances/selection.js';

const inst = (over: Partial<Instance>): Instance => ({
  configDirectory: '/etc/postfix-x',
  queueDirectory: '/var/spool/postfix-x',
  dataDirectory: '/var/lib/postfix-x',
  name: undefined,
  group: undefined,
  enabled: true,
  primary: false,
  ...over,
});

const primary = inst({ configDirectory: '/etc/postfix', primary: true });
const out = inst({ configDirectory: '/etc/postfix-out', name: 'postfix-out', group: 'mta' });
const inb = inst({ configDirectory: '/etc/postfix-in', name: 'postfix-in', group: 'mta' });
const odd = inst({ configDirectory: '/srv/odd', name: 'oddname' });
const nameless = inst({ configDirectory: '/srv/nameless' });
const ok = (i: Instance): FleetEntry => ({ kind: 'ok', instance: i });

describe('matchesSelection (postmulti match_instance_selection)', () => {
  it('-a selects everything', () => {
    for (const i of [primary, out, odd, nameless]) expect(matchesSelection(i, { type: 'all' })).toBe(true);
  });
  it('-g matches the group exactly', () => {
    expect(matchesSelection(out, { type: 'group', group: 'mta' })).toBe(true);
    expect(matchesSelection(out, { type: 'group', group: 'mt' })).toBe(false);
    expect(matchesSelection(out, { type: 'group', group: 'MTA' })).toBe(false);
    expect(matchesSelection(primary, { type: 'group', group: '' })).toBe(false);
  });
  it('-i matches the full name or the name without postfix-', () => {
    expect(matchesSelection(out, { type: 'name', name: 'postfix-out' })).toBe(true);
    expect(matchesSelection(out, { type: 'name', name: 'out' })).toBe(true);
    expect(matchesSelection(out, { type: 'name', name: 'postfix-in' })).toBe(false);
  });
  it('-i without prefix on a name without prefix compares whole names', () => {
    expect(matchesSelection(odd, { type: 'name', name: 'oddname' })).toBe(true);
    expect(matchesSelection(odd, { type: 'name', name: 'postfix-oddname' })).toBe(false);
  });
  it('-i /path matches the config directory, also of a named instance', () => {
    expect(matchesSelection(out, { type: 'name', name: '/etc/postfix-out' })).toBe(true);
    expect(matchesSelection(nameless, { type: 'name', name: '/srv/nameless' })).toBe(true);
  });
  it('a nameless instance is matched by its directory only', () => {
    expect(matchesSelection(nameless, { type: 'name', name: 'nameless' })).toBe(false);
    expect(matchesSelection(nameless, { type: 'name', name: '/srv/nameless' })).toBe(true);
  });
  it('- selects the primary only', () => {
    expect(matchesSelection(primary, { type: 'name', name: '-' })).toBe(true);
    expect(matchesSelection(out, { type: 'name', name: '-' })).toBe(false);
  });
});

describe('selectEntries', () => {
  const entries = [primary, out, inb, odd].map(ok);
  it('keeps list order, or reverses it', () => {
    expect(selectEntries(entries, { type: 'group', group: 'mta' }).map((e) => e.kind === 'ok' && e.instance.name)).toEqual(['postfix-out', 'postfix-in']);
    expect(selectEntries(entries, { type: 'all' }, true).map((e) => e.kind === 'ok' && e.instance.configDirectory)).toEqual([
      '/srv/odd',
      '/etc/postfix-in',
      '/etc/postfix-out',
      '/etc/postfix',
    ]);
  });
  it('selects a broken entry with -a or by its directory, never by group', () => {
    const broken: FleetEntry = { kind: 'broken', broken: { configDirectory: '/etc/postfix-bad', primary: false, reason: 'x' } };
    const all = [...entries, broken];
    expect(selectEntries(all, { type: 'all' })).toContain(broken);
    expect(selectEntries(all, { type: 'name', name: '/etc/postfix-bad' })).toEqual([broken]);
    expect(selectEntries(all, { type: 'group', group: 'mta' })).not.toContain(broken);
  });
  it("the life-cycle actions' -i (selectExisting) matches as selectEntries does: a broken primary by '-'", () => {
    const brokenPrimary: FleetEntry = { kind: 'broken', broken: { configDirectory: '/etc/postfix', primary: true, reason: 'x' } };
    const broken: FleetEntry = { kind: 'broken', broken: { configDirectory: '/etc/postfix-bad', primary: false, reason: 'x' } };
    const fleet = { entries: [brokenPrimary, ok(out), broken] } as unknown as Fleet;
    for (const name of ['-', '/etc/postfix', 'out', '/etc/postfix-bad']) {
      const selection = { type: 'name', name } as const;
      expect(selectExisting(fleet, selection)).toBe(selectEntries(fleet.entries, selection)[0]);
    }
    expect(selectExisting(fleet, { type: 'name', name: '-' })).toBe(brokenPrimary);
    expect(() => selectExisting(fleet, { type: 'name', name: 'postfix-bad' })).toThrow('No instance named postfix-bad');
  });
  it('names the selector that matched nothing', () => {
    expect(nothingMatchedMessage({ type: 'group', group: 'nope' })).toBe("no instance in group 'nope'");
    expect(nothingMatchedMessage({ type: 'name', name: 'postfix-z' })).toBe("no instance matches 'postfix-z'");
  });
});
