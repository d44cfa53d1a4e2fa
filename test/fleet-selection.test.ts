import { describe, expect, it } from 'vitest';
import { selectionFromFlags } from '../src/cli/flags.js';
import { planPostfixCommand, planUnixCommand } from '../src/instances/fanout/command-class.js';
import type { CommandLists, FleetEntry, Instance, SharedSettings } from '../src/instances/instance.js';
import { nothingSelectedMessage, selectFleet, selectInstances, type FleetSelection } from '../src/instances/selection.js';

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
const ok = (i: Instance): FleetEntry => ({ kind: 'ok', instance: i });
const primary = inst({ configDirectory: '/etc/postfix', primary: true });
const a = inst({ configDirectory: '/etc/postfix-a', name: 'postfix-a', group: 'mta' });
const b = inst({ configDirectory: '/etc/postfix-b', name: 'postfix-b', group: 'mta', enabled: false });
const r1 = inst({ configDirectory: '/etc/postfix-r1', name: 'postfix-r1', group: 'relay', enabled: false });
const r2 = inst({ configDirectory: '/etc/postfix-r2', name: 'postfix-r2', group: 'relay' });
const anon = inst({ configDirectory: '/srv/anon', enabled: false });
const broken: FleetEntry = { kind: 'broken', broken: { configDirectory: '/etc/postfix-bad', primary: false, reason: 'x' } };
const entries: FleetEntry[] = [primary, a, b, r1, r2, anon].map(ok);
const dirs = (es: readonly FleetEntry[]): string[] => es.map((e) => (e.kind === 'ok' ? e.instance.configDirectory : e.broken.configDirectory));
const sel = (flags: Parameters<typeof selectionFromFlags>[0]): FleetSelection => selectionFromFlags(flags);

describe('selectionFromFlags', () => {
  it('no flag (or -a) selects everything, unfiltered', () => {
    expect(sel({})).toEqual({ selectors: [], state: undefined });
    expect(sel({ all: true })).toEqual({ selectors: [], state: undefined });
  });
  it('keeps every -g and -i, and the filter', () => {
    expect(sel({ group: ['mta', 'relay'], instance: ['-'], enabled: true })).toEqual({
      selectors: [
        { type: 'group', group: 'mta' },
        { type: 'group', group: 'relay' },
        { type: 'name', name: '-' },
      ],
      state: 'enabled',
    });
    expect(sel({ disabled: true }).state).toBe('disabled');
  });
});

describe('selectFleet: union of the selectors, in list order', () => {
  it('repeated -g: both groups, in list order whatever the order given', () => {
    expect(dirs(selectFleet(entries, sel({ group: ['relay', 'mta'] })))).toEqual(['/etc/postfix-a', '/etc/postfix-b', '/etc/postfix-r1', '/etc/postfix-r2']);
  });
  it('repeated -i and -i with -g: each instance once', () => {
    expect(dirs(selectFleet(entries, sel({ instance: ['r2', '-', 'postfix-a'] })))).toEqual(['/etc/postfix', '/etc/postfix-a', '/etc/postfix-r2']);
    expect(dirs(selectFleet(entries, sel({ group: ['mta'], instance: ['a', '/srv/anon'] })))).toEqual(['/etc/postfix-a', '/etc/postfix-b', '/srv/anon']);
  });
  it('reverse order', () => {
    expect(dirs(selectFleet(entries, sel({ group: ['mta', 'relay'] }), true))).toEqual(['/etc/postfix-r2', '/etc/postfix-r1', '/etc/postfix-b', '/etc/postfix-a']);
  });
  it('a selector that matches nothing adds nothing to the others', () => {
    expect(dirs(selectFleet(entries, sel({ group: ['nope', 'mta'] })))).toEqual(['/etc/postfix-a', '/etc/postfix-b']);
  });
});

describe('selectFleet: --enabled / --disabled narrow the selection', () => {
  it('over everything', () => {
    expect(dirs(selectFleet(entries, sel({ enabled: true })))).toEqual(['/etc/postfix', '/etc/postfix-a', '/etc/postfix-r2']);
    expect(dirs(selectFleet(entries, sel({ disabled: true })))).toEqual(['/etc/postfix-b', '/etc/postfix-r1', '/srv/anon']);
  });
  it('over a union', () => {
    expect(dirs(selectFleet(entries, sel({ group: ['mta', 'relay'], enabled: true })))).toEqual(['/etc/postfix-a', '/etc/postfix-r2']);
    expect(dirs(selectFleet(entries, sel({ group: ['mta'], instance: ['-'], disabled: true })))).toEqual(['/etc/postfix-b']);
  });
  it('the primary of a single-instance host counts as enabled (as loaded by the registry)', () => {
    const single = [ok(inst({ configDirectory: '/etc/postfix', primary: true, enabled: true }))];
    expect(dirs(selectFleet(single, sel({ enabled: true })))).toEqual(['/etc/postfix']);
    expect(selectFleet(single, sel({ disabled: true }))).toEqual([]);
  });
  it('a broken entry (state unknown) stays selected by -a or its directory, so that it is reported', () => {
    const all = [...entries, broken];
    expect(selectFleet(all, sel({ disabled: true }))).toContain(broken);
    expect(selectFleet(all, sel({ enabled: true, instance: ['/etc/postfix-bad'] }))).toEqual([broken]);
    expect(selectFleet(all, sel({ enabled: true, group: ['mta'] }))).not.toContain(broken);
    expect(selectInstances(all, sel({ disabled: true })).map((i) => i.configDirectory)).toEqual(['/etc/postfix-b', '/etc/postfix-r1', '/srv/anon']);
  });
});

describe('nothingSelectedMessage', () => {
  it('single selectors keep their message', () => {
    expect(nothingSelectedMessage(entries, sel({ group: ['nope'] }))).toBe("no instance in group 'nope'");
    expect(nothingSelectedMessage(entries, sel({ instance: ['zz'] }))).toBe("no instance matches 'zz'");
    expect(nothingSelectedMessage([], sel({}))).toBe('no instances');
  });
  it('several selectors are all named', () => {
    expect(nothingSelectedMessage(entries, sel({ group: ['x', 'y'], instance: ['z'] }))).toBe("no instance in group 'x', in group 'y' or matching 'z'");
  });
  it('selectors that match nothing are named even with a filter: the filter is beside the point', () => {
    expect(nothingSelectedMessage(entries, sel({ group: ['nope'], enabled: true }))).toBe("no instance in group 'nope'");
  });
  it('a filter that left nothing is named, with what it turned away', () => {
    expect(nothingSelectedMessage(entries, sel({ instance: ['b'], enabled: true }))).toBe("no enabled instance matching 'b' (--enabled: the 1 selected is disabled)");
    expect(nothingSelectedMessage(entries, sel({ group: ['nope'], instance: ['a', '-'], disabled: true }))).toBe(
      "no disabled instance in group 'nope', matching 'a' or matching '-' (--disabled: all 2 selected are enabled)",
    );
    const allEnabled = [primary, a, r2].map(ok);
    expect(nothingSelectedMessage(allEnabled, sel({ disabled: true }))).toBe('no disabled instance (--disabled: all 3 selected are enabled)');
    expect(selectFleet(allEnabled, sel({ disabled: true }))).toEqual([]);
  });
});

describe('command plans: the filter narrows first, then the command class applies', () => {
  const lists: CommandLists = { start: ['start'], stop: ['stop'], control: ['reload'] };
  const shared: SharedSettings = { commandDirectory: '/usr/sbin', daemonDirectory: '/d', metaDirectory: '/etc/postfix', shlibDirectory: '/l' };
  const planned = (p: ReturnType<typeof planPostfixCommand>): string[] => p.runs.map((r) => `${r.instance.configDirectory} ${r.args[1]}`);
  it('start --disabled: the disabled ones, each running check', () => {
    expect(planned(planPostfixCommand(entries, shared, lists, sel({ disabled: true }), ['start']))).toEqual([
      '/etc/postfix-b check',
      '/etc/postfix-r1 check',
      '/srv/anon check',
    ]);
  });
  it('reload -g mta -g relay: the enabled members of both groups (control commands skip disabled ones)', () => {
    expect(planned(planPostfixCommand(entries, shared, lists, sel({ group: ['mta', 'relay'] }), ['reload']))).toEqual([
      '/etc/postfix-a reload',
      '/etc/postfix-r2 reload',
    ]);
  });
  it('stop --disabled matches nothing to run', () => {
    expect(planPostfixCommand(entries, shared, lists, sel({ disabled: true }), ['stop']).matched).toBe(false);
  });
  it('exec --enabled -g relay', () => {
    const p = planUnixCommand(entries, shared, sel({ enabled: true, group: ['relay'] }), ['postqueue', '-p']);
    expect(p.runs.map((r) => r.instance.configDirectory)).toEqual(['/etc/postfix-r2']);
  });
});
