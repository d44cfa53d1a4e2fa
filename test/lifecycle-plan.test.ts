/**
 * The pure planners, on hand-made snapshots: every action and apply planned without root,
 * without Postfix and without touching a file.
 */
import { describe, expect, it } from 'vitest';
import { manifestDirectories, planApply, type DesiredInstance } from '../src/instances/lifecycle/apply.js';
import { planAdd } from '../src/instances/lifecycle/build.js';
import { changesAnything } from '../src/instances/lifecycle/plan.js';
import { planRemove } from '../src/instances/lifecycle/removal.js';
import { changeAnswer, reportOf } from '../src/instances/lifecycle/report.js';
import { planAssign, planEnable, planInit } from '../src/instances/lifecycle/settings.js';
import type { Template } from '../src/instances/templates/render.js';
import { afterPlan, INITIALISED, primaryAfter, secondary, snapshotOf, type FleetSpec } from './helpers/snapshot.js';

const fleet = (extra: Record<string, string> = {}, list = Object.keys(extra)): FleetSpec => ({
  mainCf: { '/etc/postfix': `${INITIALISED}multi_instance_directories = ${list.join(' ')}\n`, ...extra },
});

const two = fleet({ '/etc/postfix-a': secondary('postfix-a', { group: 'mta' }), '/etc/postfix-b': secondary('postfix-b', { group: 'mta', enabled: true }) });

const report = (spec: FleetSpec, plan: Parameters<typeof reportOf>[0]) => reportOf(plan, { configDirectory: '/etc/postfix', mainCf: snapshotOf(spec).primaryMainCf }, true, []);

describe('planning create', () => {
  it('makes the directories, main.cf and master.cf, sets permissions, and appends the instance to the list', () => {
    const snap = snapshotOf(two);
    const plan = planAdd(snap, 'create', [{ name: 'postfix-c', group: 'out', paths: {} }]);
    const [c] = plan.instances;
    expect(c).toMatchObject({ action: 'create', name: 'postfix-c', configDirectory: '/etc/postfix-c', primary: false });
    expect(c!.steps.map((s) => `${s.kind} ${'path' in s ? s.path : ''}`)).toEqual([
      'mkdir /etc/postfix-c',
      'mkdir /var/spool/postfix-c',
      'mkdir /var/lib/postfix-c',
      'write /etc/postfix-c/main.cf',
      'write /etc/postfix-c/master.cf',
      'own /var/spool/postfix-c',
      'own /var/spool/postfix-c/active',
      'own /var/spool/postfix-c/maildrop',
      'own /var/spool/postfix-c/pid',
      'own /var/lib/postfix-c',
    ]);
    expect(c!.steps.find((s) => s.kind === 'own' && s.path.endsWith('/maildrop'))).toMatchObject({ uid: 100, gid: 101, mode: 0o730, recursive: false });
    const mainCf = c!.mainCf!.after;
    expect(mainCf).toContain('#command_directory = /usr/sbin\n');
    expect(mainCf).toMatch(/queue_directory = \/var\/spool\/postfix-c\ndata_directory = \/var\/lib\/postfix-c\nauthorized_submit_users = \nmaster_service_disable = inet\nmulti_instance_group = out\nmulti_instance_name = postfix-c\n$/);
    expect(primaryAfter(snap, plan)).toContain('multi_instance_directories = /etc/postfix-a /etc/postfix-b /etc/postfix-c\n');
    expect(report(two, plan).instances[0]!.changes.at(-1)).toBe('register /etc/postfix-c in /etc/postfix/main.cf (multi_instance_directories)');
  });

  it('places one instance before another, or first', () => {
    const snap = snapshotOf(two);
    expect(primaryAfter(snap, planAdd(snap, 'create', [{ name: 'postfix-c', group: undefined, paths: {}, placement: { type: 'name', name: 'b' } }]))).toContain(
      'multi_instance_directories = /etc/postfix-a /etc/postfix-c /etc/postfix-b\n',
    );
    expect(primaryAfter(snap, planAdd(snap, 'create', [{ name: 'postfix-c', group: undefined, paths: {}, placement: { type: 'all' } }]))).toContain(
      'multi_instance_directories = /etc/postfix-c /etc/postfix-a /etc/postfix-b\n',
    );
    expect(() => planAdd(snap, 'create', [{ name: 'postfix-c', group: undefined, paths: {}, placement: { type: 'group', group: 'none' } }])).toThrow('No matching secondary instances');
  });

  it('several at once: appended in order, and no two may clash', () => {
    const snap = snapshotOf(two);
    const plan = planAdd(snap, 'create', ['postfix-x', 'postfix-y', 'postfix-z'].map((name) => ({ name, group: 'g', paths: {} })));
    expect(primaryAfter(snap, plan)).toContain('multi_instance_directories = /etc/postfix-a /etc/postfix-b /etc/postfix-x /etc/postfix-y /etc/postfix-z\n');
    expect(plan.instances.map((i) => i.configDirectory)).toEqual(['/etc/postfix-x', '/etc/postfix-y', '/etc/postfix-z']);
    expect(() =>
      planAdd(snap, 'create', [
        { name: 'postfix-x', group: undefined, paths: {} },
        { name: 'postfix-y', group: undefined, paths: { queue_directory: '/var/spool/postfix-x' } },
      ]),
    ).toThrow('instance /etc/postfix-y, queue_directory=/var/spool/postfix-x conflicts with instance /etc/postfix-x, queue_directory=/var/spool/postfix-x');
  });

  it('refuses bad input with postmulti’s words, before anything', () => {
    const snap = snapshotOf(two);
    const create = (name: string, paths = {}) => () => planAdd(snap, 'create', [{ name, group: undefined, paths }]);
    expect(create('mail-x')).toThrow("New instance name must start with 'postfix-': 'mail-x'");
    expect(create('postfix-a')).toThrow('new config_directory=/etc/postfix-a is already in use by instance /etc/postfix-a, config_directory=/etc/postfix-a');
    expect(create('postfix-c', { queue_directory: '/var/spool/postfix' })).toThrow(/queue_directory=\/var\/spool\/postfix conflicts with instance \/etc\/postfix, queue_directory/);
    const bare = snapshotOf({ mainCf: { '/etc/postfix': '' } });
    expect(() => planAdd(bare, 'create', [{ name: 'postfix-c', group: undefined, paths: {} }])).toThrow("multi_instance_wrapper is empty, run 'postfleet init' first.");
  });

  it('a template’s or --set’s settings land in main.cf; identity parameters are refused', () => {
    const snap = snapshotOf(two);
    const template: Template = { name: 't', directory: '/t', description: '', variables: new Map([['relay', 'the relay']]), mainCf: 'relayhost = {{relay}}\n', masterCf: undefined };
    const plan = planAdd(snap, 'create', [{ name: 'postfix-c', group: undefined, paths: {}, template, settings: [['relay', '[r]:587'], ['smtp_tls_security_level', 'encrypt']] }]);
    expect(plan.instances[0]!.mainCf!.after).toMatch(/relayhost = \[r\]:587\nsmtp_tls_security_level = encrypt\nmulti_instance_name = postfix-c\n$/);
    expect(() => planAdd(snap, 'create', [{ name: 'postfix-c', group: undefined, paths: {}, settings: [['queue_directory', '/x']] }])).toThrow(
      'queue_directory = /x: not settable by a template or --set; use --queue-directory',
    );
  });

  it('over a complete instance: imported, only name and group edited; debris of a killed create removed', () => {
    const spec: FleetSpec = { ...two, mainCf: { ...two.mainCf, '/etc/postfix-c': secondary(undefined, { queue: '/var/spool/postfix-c', data: '/var/lib/postfix-c' }) } };
    const plan = planAdd(snapshotOf(spec), 'create', [{ name: 'postfix-c', group: undefined, paths: {} }]);
    expect(plan.instances[0]!.steps[0]).toEqual({ kind: 'edit', configDirectory: '/etc/postfix-c', edits: [{ op: 'set', name: 'multi_instance_name', value: 'postfix-c' }] });
    const debris = { ...two, temporaries: { '/etc/postfix-c': ['/etc/postfix-c/.postfleet-1-2.tmp'] } };
    expect(planAdd(snapshotOf(debris), 'create', [{ name: 'postfix-c', group: undefined, paths: {} }]).instances[0]!.steps[0]).toEqual({ kind: 'unlink', path: '/etc/postfix-c/.postfleet-1-2.tmp' });
  });
});

describe('planning import, deport, destroy', () => {
  const withC = (c: string | undefined, masterCf = true): FleetSpec => ({
    mainCf: { ...two.mainCf, ...(c === undefined ? {} : { '/etc/postfix-c': c }) },
    masterCf: ['/etc/postfix', '/etc/postfix-a', '/etc/postfix-b', ...(masterCf ? ['/etc/postfix-c'] : [])],
  });

  it('import needs main.cf and master.cf, and drops the directory from the alternates', () => {
    expect(() => planAdd(snapshotOf(withC(undefined)), 'import', [{ name: 'postfix-c', group: undefined, paths: {} }])).toThrow("'/etc/postfix-c' lacks a main.cf file");
    expect(() => planAdd(snapshotOf(withC(secondary('postfix-c'), false)), 'import', [{ name: 'postfix-c', group: undefined, paths: {} }])).toThrow("'/etc/postfix-c' lacks a master.cf file");
    const spec = withC(secondary('postfix-c'));
    spec.mainCf['/etc/postfix'] += 'alternate_config_directories = /etc/postfix-c /srv/x\n';
    const snap = snapshotOf(spec);
    const plan = planAdd(snap, 'import', [{ name: undefined, group: 'in', paths: { config_directory: '/etc/postfix-c' } }]);
    expect(primaryAfter(snap, plan)).toMatch(/multi_instance_directories = \/etc\/postfix-a \/etc\/postfix-b \/etc\/postfix-c\nalternate_config_directories = \/srv\/x\n$/);
    expect(plan.instances[0]!.steps[0]).toMatchObject({ kind: 'edit', edits: [{ name: 'multi_instance_group', value: 'in' }] });
  });

  it('deport: refused while running; keeps the directory as an alternate; a vanished instance is just dropped', () => {
    const running = { ...two, status: { '/etc/postfix-a': { pid: 4242, queued: 0 } } };
    expect(() => planRemove(snapshotOf(running), 'deport', { names: ['a'] })).toThrow("Instance '/etc/postfix-a' is not stopped (master pid 4242)");
    expect(() => planRemove(snapshotOf(two), 'deport', { names: ['b'] })).toThrow('Cannot remove enabled instances: postfix-b is enabled');
    expect(() => planRemove(snapshotOf(two), 'deport', { names: ['-'] })).toThrow('Cannot remove the primary instance: /etc/postfix');
    const snap = snapshotOf(two);
    expect(primaryAfter(snap, planRemove(snap, 'deport', { names: ['a'] }))).toMatch(/multi_instance_directories = \/etc\/postfix-b\nalternate_config_directories = \/etc\/postfix-a\n$/);
    const gone = fleet({ '/etc/postfix-b': secondary('postfix-b') }, ['/etc/postfix-gone', '/etc/postfix-b']);
    const s2 = snapshotOf(gone);
    const p2 = planRemove(s2, 'deport', { names: ['/etc/postfix-gone'] });
    expect(primaryAfter(s2, p2)).toMatch(/multi_instance_directories = \/etc\/postfix-b\n$/);
  });

  it('destroy: only a disabled, stopped, empty instance; unregistered first, its files released afterwards', () => {
    const queued = { ...two, status: { '/etc/postfix-a': { pid: null, queued: 3 } } };
    expect(() => planRemove(snapshotOf(queued), 'destroy', { names: ['a'] })).toThrow("Instance '/etc/postfix-a' has 3 message(s) in its queue /var/spool/postfix-a");
    const snap = snapshotOf(two);
    const plan = planRemove(snap, 'destroy', { names: ['a'] });
    const [a] = plan.instances;
    expect(a!.steps).toEqual([]);
    expect(a!.release!.directories).toEqual(['/etc/postfix-a', '/var/spool/postfix-a', '/var/lib/postfix-a']);
    expect(a!.release!.steps.slice(-3)).toEqual([
      { kind: 'unlink', path: '/etc/postfix-a/master.cf' },
      { kind: 'unlink', path: '/etc/postfix-a/main.cf' },
      { kind: 'rmdir', path: '/etc/postfix-a' },
    ]);
    expect(a!.release!.steps.every((s) => s.kind !== 'rmdir' || /^\/(etc|var\/spool|var\/lib)\/postfix-a(\/[a-z]+)?$/.test(s.path))).toBe(true);
    const r = report(two, plan);
    expect(r.instances[0]!.changes[0]).toBe('unregister /etc/postfix-a from /etc/postfix/main.cf (multi_instance_directories)');
    expect(r.files.map((d) => [d.path, d.after === ''])).toEqual([
      ['/etc/postfix-a/main.cf', true],
      ['/etc/postfix/main.cf', false],
    ]);
    // --json: each file as diff -u prints it; the removed main.cf against /dev/null
    const { diff } = changeAnswer(r);
    expect(diff.map((d) => d.unified.split('\n').slice(0, 2))).toEqual([
      ['--- /etc/postfix-a/main.cf', '+++ /dev/null'],
      ['--- /etc/postfix/main.cf', '+++ /etc/postfix/main.cf'],
    ]);
    expect(diff[0]!.unified).toMatch(/^@@ -1,\d+ \+0,0 @@$/m);
    expect(diff[1]!.unified).toMatch(/^-multi_instance_directories = \/etc\/postfix-a \/etc\/postfix-b$/m);
  });
});

describe('planning deport and destroy of several instances', () => {
  // a, b (mta, b enabled), c, d (web), e (no group), and a broken x
  const five = fleet({
    '/etc/postfix-a': secondary('postfix-a', { group: 'mta' }),
    '/etc/postfix-b': secondary('postfix-b', { group: 'mta', enabled: true }),
    '/etc/postfix-c': secondary('postfix-c', { group: 'web' }),
    '/etc/postfix-d': secondary('postfix-d', { group: 'web' }),
    '/etc/postfix-e': secondary('postfix-e'),
  });
  const dirs = (plan: ReturnType<typeof planRemove>): string[] => plan.instances.map((i) => i.configDirectory);

  it('names, groups and all: their union, each once, in list order; the state filter narrows', () => {
    const snap = snapshotOf(five);
    expect(dirs(planRemove(snap, 'destroy', { names: ['e', 'postfix-c', '/etc/postfix-c'] }))).toEqual(['/etc/postfix-c', '/etc/postfix-e']);
    expect(dirs(planRemove(snap, 'destroy', { groups: ['web'], names: ['e'] }))).toEqual(['/etc/postfix-c', '/etc/postfix-d', '/etc/postfix-e']);
    expect(dirs(planRemove(snap, 'deport', { groups: ['mta', 'web'], state: 'disabled' }))).toEqual(['/etc/postfix-a', '/etc/postfix-c', '/etc/postfix-d']);
    expect(dirs(planRemove(snap, 'destroy', { all: true, state: 'disabled' }))).toEqual(['/etc/postfix-a', '/etc/postfix-c', '/etc/postfix-d', '/etc/postfix-e']);
    expect(() => planRemove(snap, 'destroy', { groups: ['none'] })).toThrow("no instance in group 'none'");
    expect(() => planRemove(snap, 'destroy', { names: ['a', 'nosuch'] })).toThrow('No instance named nosuch');
    expect(() => planRemove(snap, 'destroy', {})).toThrow('name an instance, or select instances with --group or --all');
    expect(() => planRemove(snap, 'destroy', { names: ['b'], state: 'disabled' })).toThrow('no disabled instance among those selected (--disabled: the 1 selected is enabled)');
  });

  it('one plan: the list edited once, every instance released after it, in list order', () => {
    const spec = { ...five, mainCf: { ...five.mainCf, '/etc/postfix': five.mainCf['/etc/postfix'] + 'alternate_config_directories = /etc/postfix-old\n' } };
    const snap = snapshotOf(spec);
    const destroy = planRemove(snap, 'destroy', { groups: ['web'], names: ['a'] });
    expect(destroy.primaryEdits).toEqual([{ op: 'set', name: 'multi_instance_directories', value: '/etc/postfix-b /etc/postfix-e' }]);
    expect(destroy.instances.map((i) => [i.action, i.release?.directories[0], i.steps.length])).toEqual([
      ['destroy', '/etc/postfix-a', 0],
      ['destroy', '/etc/postfix-c', 0],
      ['destroy', '/etc/postfix-d', 0],
    ]);
    const deport = planRemove(snap, 'deport', { names: ['d', 'c'] });
    expect(primaryAfter(snap, deport)).toMatch(/multi_instance_directories = \/etc\/postfix-a \/etc\/postfix-b \/etc\/postfix-e\nalternate_config_directories = \/etc\/postfix-old \/etc\/postfix-c \/etc\/postfix-d\n$/);
    expect(report(spec, deport).instances.map((r) => r.changes)).toEqual([
      ['unregister /etc/postfix-c from /etc/postfix/main.cf (multi_instance_directories; added to alternate_config_directories)'],
      ['unregister /etc/postfix-d from /etc/postfix/main.cf (multi_instance_directories; added to alternate_config_directories)'],
    ]);
    // Planned on what the plan leaves, the same removal selects nothing by name any more.
    const after = snapshotOf(afterPlan(spec, destroy, snap));
    expect(() => planRemove(after, 'destroy', { names: ['a'] })).toThrow('No instance named a');
    expect(dirs(planRemove(after, 'destroy', { all: true, state: 'disabled' }))).toEqual(['/etc/postfix-e']);
  });

  it('refused whole when one cannot go: each blocking instance named with its reason', () => {
    const spec: FleetSpec = {
      ...five,
      mainCf: { ...five.mainCf, '/etc/postfix': `${INITIALISED}multi_instance_group = web\nmulti_instance_directories = /etc/postfix-a /etc/postfix-b /etc/postfix-c /etc/postfix-d /etc/postfix-e\n` },
      status: { '/etc/postfix-c': { pid: 77, queued: 0 }, '/etc/postfix-d': { pid: null, queued: 2 } },
    };
    const snap = snapshotOf(spec);
    expect(() => planRemove(snap, 'destroy', { groups: ['web', 'mta'] })).toThrow(
      'cannot destroy 4 of the 5 selected instances, nothing was changed: /etc/postfix: the primary instance; postfix-b: enabled; postfix-c: running (master pid 77); postfix-d: 2 message(s) in its queue /var/spool/postfix-d',
    );
    // deport does not mind a queue
    expect(() => planRemove(snap, 'deport', { names: ['a', 'c', 'd'] })).toThrow('cannot deport 1 of the 3 selected instances, nothing was changed: postfix-c: running (master pid 77)');
    // One instance alone: postmulti's words
    expect(() => planRemove(snap, 'destroy', { names: ['d'] })).toThrow("Instance '/etc/postfix-d' has 2 message(s) in its queue /var/spool/postfix-d");
    expect(() => planRemove(snap, 'destroy', { names: ['b'] })).toThrow('Cannot remove enabled instances: postfix-b is enabled');
  });

  it('a broken instance named by its directory blocks; deport drops one whose files are gone', () => {
    const spec = fleet({ '/etc/postfix-a': secondary('postfix-a'), '/etc/postfix-x': 'multi_instance_enable = maybe\n' }, ['/etc/postfix-a', '/etc/postfix-x', '/etc/postfix-gone']);
    const snap = snapshotOf(spec);
    expect(() => planRemove(snap, 'destroy', { names: ['a', '/etc/postfix-x'] })).toThrow(
      'cannot destroy 1 of the 2 selected instances, nothing was changed: /etc/postfix-x: broken: Unexpected /etc/postfix-x/main.cf entry: multi_instance_enable = maybe',
    );
    expect(() => planRemove(snap, 'destroy', { all: true })).toThrow(/cannot destroy 2 of the 3 selected instances, nothing was changed: \/etc\/postfix-x: broken: [^;]*; \/etc\/postfix-gone: \/etc\/postfix-gone\/main.cf not found$/);
    const deport = planRemove(snap, 'deport', { names: ['a', '/etc/postfix-gone'] });
    expect(primaryAfter(snap, deport)).toMatch(/multi_instance_directories = \/etc\/postfix-x\nalternate_config_directories = \/etc\/postfix-a\n$/);
  });
});

describe('planning enable, disable, assign, init', () => {
  it('names, a group or every secondary; a broken one is skipped; an unchanged one is no change', () => {
    const spec = fleet({ '/etc/postfix-a': secondary('postfix-a', { group: 'mta' }), '/etc/postfix-b': secondary('postfix-b', { group: 'mta', enabled: true }), '/etc/postfix-x': 'multi_instance_enable = maybe\n' });
    const snap = snapshotOf(spec);
    const all = planEnable(snap, { secondaries: true }, true);
    expect(all.instances.map((i) => [i.configDirectory, i.steps.length])).toEqual([
      ['/etc/postfix-a', 1],
      ['/etc/postfix-b', 0],
    ]);
    expect(all.skipped).toEqual([{ configDirectory: '/etc/postfix-x', error: 'skipping instance /etc/postfix-x: Unexpected /etc/postfix-x/main.cf entry: multi_instance_enable = maybe' }]);
    expect(all.primaryEdits).toEqual([]);
    expect(() => planEnable(snap, { names: ['a', '/etc/postfix-x'] }, true)).toThrow('instance /etc/postfix-x is broken');
    expect(() => planEnable(snap, { group: 'none' }, true)).toThrow("no instance in group 'none'");
    const off = planEnable(snap, { names: ['b'] }, false);
    expect(off.instances[0]!.mainCf!.after).toMatch(/multi_instance_enable = no\n$/);
    expect(changesAnything(planEnable(snap, { names: ['a'] }, false), snap.primaryMainCf)).toBe(false);
  });

  it('the primary is edited in the one primary write', () => {
    const snap = snapshotOf(two);
    const plan = planEnable(snap, { names: ['-'] }, false);
    expect(plan.instances[0]!.steps).toEqual([]);
    expect(plan.primaryEdits).toEqual([{ op: 'set', name: 'multi_instance_enable', value: 'no' }]);
    expect(report(two, plan).instances[0]).toMatchObject({ instance: '-', changes: ['edit /etc/postfix/main.cf: multi_instance_enable = no'] });
  });

  it('assign renames and regroups; a taken name is refused; no change is no change', () => {
    const snap = snapshotOf(two);
    expect(() => planAssign(snap, { type: 'name', name: 'a' }, 'postfix-b', undefined)).toThrow(/multi_instance_name=postfix-b conflicts with instance \/etc\/postfix-b/);
    const plan = planAssign(snap, { type: 'name', name: 'a' }, 'postfix-z', '');
    expect(plan.instances[0]).toMatchObject({ name: 'postfix-z', steps: [{ kind: 'edit', edits: [{ name: 'multi_instance_group', value: '' }, { name: 'multi_instance_name', value: 'postfix-z' }] }] });
    expect(changesAnything(planAssign(snap, { type: 'name', name: 'a' }, 'postfix-a', 'mta'), snap.primaryMainCf)).toBe(false);
  });

  it('init sets the wrapper and enables the primary, once', () => {
    const bare = snapshotOf({ mainCf: { '/etc/postfix': 'myhostname = x\n' } });
    const plan = planInit(bare, '/usr/sbin/postfleet -p --');
    expect(primaryAfter(bare, plan)).toBe('myhostname = x\nmulti_instance_wrapper = /usr/sbin/postfleet -p --\nmulti_instance_enable = yes\n');
    const done = snapshotOf({ mainCf: { '/etc/postfix': primaryAfter(bare, plan) } });
    expect(changesAnything(planInit(done, '/usr/sbin/postfleet -p --'), done.primaryMainCf)).toBe(false);
  });
});

describe('planning apply', () => {
  const desired = (name: string, rest: Partial<DesiredInstance> = {}): DesiredInstance => ({
    name,
    state: 'present',
    group: undefined,
    enabled: undefined,
    template: undefined,
    settings: [],
    paths: {},
    loadedTemplate: undefined,
    ...rest,
  });

  it('creates the missing (enabled in the same main.cf write), updates the existing in one edit each, and then plans nothing', () => {
    const manifest = [
      desired('postfix-a', { group: 'relay', enabled: true, settings: [['relayhost', '[r]']] }),
      desired('postfix-n', { group: 'new', enabled: true, settings: [['myhostname', 'n.example']] }),
      desired('postfix-b', { enabled: true }),
    ];
    const snap = snapshotOf(two);
    const plan = planApply(snap, manifest);
    expect(plan.instances.map((i) => [i.name, i.action, i.steps.map((s) => s.kind).join(',')])).toEqual([
      ['postfix-a', 'update', 'edit'],
      ['postfix-n', 'create', 'mkdir,mkdir,mkdir,write,write,own,own,own,own,own'],
      ['postfix-b', 'update', ''],
    ]);
    expect(plan.instances[0]!.steps[0]).toMatchObject({ edits: [{ name: 'multi_instance_group', value: 'relay' }, { name: 'relayhost', value: '[r]' }, { name: 'multi_instance_enable', value: 'yes' }] });
    expect(plan.instances[1]!.mainCf!.after).toMatch(/myhostname = n\.example\nmulti_instance_group = new\nmulti_instance_name = postfix-n\nmulti_instance_enable = yes\n$/);
    expect(primaryAfter(snap, plan)).toContain('multi_instance_directories = /etc/postfix-a /etc/postfix-b /etc/postfix-n\n');

    const after = afterPlan(two, plan, snap);
    const again = snapshotOf(after);
    expect(changesAnything(planApply(again, manifest), again.primaryMainCf)).toBe(false);
  });

  it('reads the main.cf text only of the instances it creates or changes', () => {
    const snap = snapshotOf(two);
    const manifest = [desired('postfix-a', { group: 'relay' }), desired('postfix-b', { group: 'mta', enabled: true }), desired('postfix-n')];
    expect(manifestDirectories(snap.fleet, snap.settings, manifest)).toEqual(['/etc/postfix-a', '/etc/postfix-n']);
    // Planned without postfix-b's text, the plan is the same.
    const without = { ...snap, directories: new Map([...snap.directories].filter(([d]) => d !== '/etc/postfix-b')) };
    expect(planApply(without, manifest)).toEqual(planApply(snap, manifest));
  });

  it('refuses to move an existing instance, naming the setting', () => {
    expect(() => planApply(snapshotOf(two), [desired('postfix-a', { paths: { config_directory: '/srv/postfix-a' } })])).toThrow(
      '[postfix-a] config_directory = /srv/postfix-a, but the instance has /etc/postfix-a',
    );
    expect(() => planApply(snapshotOf(two), [desired('postfix-a', { paths: { queue_directory: '/var/spool/postfix-a' } })])).not.toThrow();
  });

  it('state = absent / deported: removed in the same plan as the rest, then nothing to plan', () => {
    const three = fleet({ '/etc/postfix-a': secondary('postfix-a', { group: 'mta' }), '/etc/postfix-b': secondary('postfix-b', { group: 'mta' }), '/etc/postfix-c': secondary('postfix-c') });
    const manifest = [desired('postfix-a', { state: 'absent' }), desired('postfix-n', { group: 'new' }), desired('postfix-b', { state: 'deported' }), desired('postfix-gone', { state: 'absent' })];
    const snap = snapshotOf(three);
    const plan = planApply(snap, manifest);
    expect(plan.instances.map((i) => [i.name, i.action, i.configDirectory, Boolean(i.release)])).toEqual([
      ['postfix-a', 'destroy', '/etc/postfix-a', true],
      ['postfix-n', 'create', '/etc/postfix-n', false],
      ['postfix-b', 'deport', '/etc/postfix-b', false],
      ['postfix-gone', 'destroy', '/etc/postfix-gone', false],
    ]);
    // one edit of the list: additions and removals together
    expect(plan.primaryEdits).toEqual([
      { op: 'set', name: 'multi_instance_directories', value: '/etc/postfix-c /etc/postfix-n' },
      { op: 'set', name: 'alternate_config_directories', value: '/etc/postfix-b' },
    ]);
    expect(report(three, plan).instances.map((r) => r.changed)).toEqual([true, true, true, false]);
    const after = afterPlan(three, plan, snap);
    expect(Object.keys(after.mainCf)).not.toContain('/etc/postfix-a');
    const again = snapshotOf(after);
    expect(changesAnything(planApply(again, manifest), again.primaryMainCf)).toBe(false);
    expect(manifestDirectories(snap.fleet, snap.settings, manifest)).toEqual(['/etc/postfix-a', '/etc/postfix-n', '/etc/postfix-b']);
  });

  it('an instance that cannot go refuses the whole manifest', () => {
    const running = { ...two, status: { '/etc/postfix-a': { pid: 9, queued: 0 } } };
    expect(() => planApply(snapshotOf(running), [desired('postfix-n'), desired('postfix-a', { state: 'deported' })])).toThrow("Instance '/etc/postfix-a' is not stopped (master pid 9)");
    expect(() => planApply(snapshotOf(running), [desired('postfix-a', { state: 'absent' }), desired('postfix-b', { state: 'absent' })])).toThrow(
      'cannot remove 2 of the 2 instances the manifest removes, nothing was changed: postfix-a: running (master pid 9); postfix-b: enabled',
    );
  });

  it('two new instances that clash are refused together', () => {
    expect(() => planApply(snapshotOf(two), [desired('postfix-x'), desired('postfix-y', { paths: { config_directory: '/etc/postfix-x' } })])).toThrow(
      'new config_directory=/etc/postfix-x is already in use by instance /etc/postfix-x, config_directory=/etc/postfix-x',
    );
  });
});
