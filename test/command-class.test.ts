import { describe, expect, it } from 'vitest';
import { classifyCommand, planPostfixCommand, planUnixCommand } from '../src/instances/fanout/command-class.js';
import { instanceLabel, type CommandLists, type FleetEntry, type Instance, type SharedSettings } from '../src/instances/instance.js';

const lists: CommandLists = { start: ['start'], stop: ['stop', 'abort', 'drain', 'quick-stop'], control: ['reload', 'flush'] };
const shared: SharedSettings = { commandDirectory: '/usr/sbin', daemonDirectory: '/usr/lib/postfix/sbin', metaDirectory: '/etc/postfix', shlibDirectory: '/usr/lib/postfix' };
const inst = (dir: string, over: Partial<Instance> = {}): FleetEntry => ({
  kind: 'ok',
  instance: { configDirectory: dir, queueDirectory: `/q${dir}`, dataDirectory: `/d${dir}`, name: undefined, group: undefined, enabled: true, primary: false, ...over },
});
const entries: FleetEntry[] = [
  inst('/etc/postfix', { primary: true }),
  inst('/etc/postfix-a', { name: 'postfix-a', group: 'mta' }),
  inst('/etc/postfix-b', { name: 'postfix-b', group: 'mta', enabled: false }),
  inst('/etc/postfix-c', { name: 'postfix-c' }),
];
const dirs = (p: ReturnType<typeof planPostfixCommand>) => p.runs.map((r) => r.instance.configDirectory);

describe('classifyCommand', () => {
  it('uses the primary lists', () => {
    expect(classifyCommand('start', lists)).toBe('start');
    expect(classifyCommand('quick-stop', lists)).toBe('stop');
    expect(classifyCommand('flush', lists)).toBe('control');
    expect(classifyCommand('status', lists)).toBe('other');
    expect(classifyCommand('reload', { ...lists, control: ['flush'], start: ['start', 'reload'] })).toBe('start');
  });
});

describe('planPostfixCommand', () => {
  it('start: list order, disabled instances run check', () => {
    const p = planPostfixCommand(entries, shared, lists, { type: 'all' }, ['start']);
    expect(dirs(p)).toEqual(['/etc/postfix', '/etc/postfix-a', '/etc/postfix-b', '/etc/postfix-c']);
    expect(p.runs.map((r) => r.args[1])).toEqual(['start', 'start', 'check', 'start']);
    // Progress lines say what was run: check, not start, on the disabled one.
    expect(p.runs.map((r) => r.verb)).toEqual(['start', 'start', 'check', 'start']);
    expect(p.runs[0]!.file).toBe('/usr/sbin/postfix');
    expect(p.runs[0]!.args[0]).toBe('--');
    expect(p.runs[1]!.env).toEqual({ MAIL_CONFIG: '/etc/postfix-a' });
  });
  it('stop: reverse order, disabled skipped', () => {
    const p = planPostfixCommand(entries, shared, lists, { type: 'all' }, ['stop']);
    expect(dirs(p)).toEqual(['/etc/postfix-c', '/etc/postfix-a', '/etc/postfix']);
  });
  it('control: list order, disabled skipped; arguments passed on', () => {
    const p = planPostfixCommand(entries, shared, lists, { type: 'group', group: 'mta' }, ['flush', 'x']);
    expect(dirs(p)).toEqual(['/etc/postfix-a']);
    expect(p.runs[0]!.args).toEqual(['--', 'flush', 'x']);
  });
  it('other commands run on every selected instance', () => {
    const p = planPostfixCommand(entries, shared, lists, { type: 'group', group: 'mta' }, ['status']);
    expect(dirs(p)).toEqual(['/etc/postfix-a', '/etc/postfix-b']);
  });
  it('a disabled-only selection of a stop command matches nothing (postmulti: No matching instances)', () => {
    const p = planPostfixCommand(entries, shared, lists, { type: 'name', name: 'b' }, ['stop']);
    expect(p.matched).toBe(false);
  });
  it("postfix(1)'s own options go before the command; only start of an enabled instance starts fast", () => {
    const facts = (i: Instance) => ({ facts: { configDirectory: i.configDirectory, defaultConfigDirectory: '/etc/postfix', shared: i.primary, param: () => '' }, postfixFiles: '', ids: { users: new Map(), groups: new Map() }, postfixOptions: ['-D', '-v'] });
    const p = planPostfixCommand(entries, shared, lists, { type: 'all' }, ['start'], { postfixOptions: ['-D', '-v', '-v'], fastStart: facts });
    expect(p.runs.map((r) => r.args)).toEqual([
      ['-D', '-v', '-v', '--', 'start'],
      ['-D', '-v', '-v', '--', 'start'],
      ['-D', '-v', '-v', '--', 'check'],
      ['-D', '-v', '-v', '--', 'start'],
    ]);
    expect(p.runs.map((r) => r.fastStart?.facts.configDirectory)).toEqual(['/etc/postfix', '/etc/postfix-a', undefined, '/etc/postfix-c']);
    // Not for another command, nor for start with arguments of its own.
    expect(planPostfixCommand(entries, shared, lists, { type: 'all' }, ['reload'], { fastStart: facts }).runs.some((r) => r.fastStart)).toBe(false);
    expect(planPostfixCommand(entries, shared, lists, { type: 'all' }, ['start', 'x'], { fastStart: facts }).runs.some((r) => r.fastStart)).toBe(false);
  });
  it('-v exports MAIL_VERBOSE', () => {
    const p = planPostfixCommand(entries, shared, lists, { type: 'name', name: '-' }, ['status'], { verbose: true });
    expect(p.runs[0]!.env).toEqual({ MAIL_CONFIG: '/etc/postfix', MAIL_VERBOSE: '' });
  });
});

describe('planUnixCommand', () => {
  it('exports the instance settings and prepends command_directory to PATH', () => {
    const p = planUnixCommand(entries, shared, { type: 'name', name: 'b' }, ['postqueue', '-p'], { path: '/usr/bin:/bin' });
    expect(p.runs).toHaveLength(1);
    expect(p.runs[0]!.file).toBe('postqueue');
    expect(p.runs[0]!.args).toEqual(['-p']);
    expect(p.runs[0]!.env).toEqual({
      MAIL_CONFIG: '/etc/postfix-b',
      daemon_directory: '/usr/lib/postfix/sbin',
      command_directory: '/usr/sbin',
      config_directory: '/etc/postfix-b',
      queue_directory: '/q/etc/postfix-b',
      data_directory: '/d/etc/postfix-b',
      multi_instance_name: 'postfix-b',
      multi_instance_group: 'mta',
      multi_instance_enable: 'no',
      PATH: '/usr/sbin:/usr/bin:/bin',
    });
  });
  it('falls back to the root path when PATH is empty; -R reverses', () => {
    const p = planUnixCommand(entries, shared, { type: 'all' }, ['true'], { path: '', reverse: true });
    expect(p.runs[0]!.env['PATH']).toBe('/usr/sbin:/bin:/usr/bin:/sbin:/usr/sbin');
    expect(p.runs.map((r) => r.instance.configDirectory)).toEqual(['/etc/postfix-c', '/etc/postfix-b', '/etc/postfix-a', '/etc/postfix']);
  });
});

describe('labels: one for each instance, in every output', () => {
  it('the name; a nameless primary is -, a nameless secondary its config directory', () => {
    const fleet = [...entries, inst('/etc/postfix-anon')];
    const labels = (p: ReturnType<typeof planPostfixCommand>) => p.runs.map((r) => r.label);
    const expected = ['-', 'postfix-a', 'postfix-b', 'postfix-c', '/etc/postfix-anon'];
    expect(labels(planUnixCommand(fleet, shared, { type: 'all' }, ['true']))).toEqual(expected);
    expect(labels(planPostfixCommand(fleet, shared, lists, { type: 'all' }, ['status']))).toEqual(expected);
    expect(instanceLabel({ name: 'postfix-x', configDirectory: '/etc/postfix', primary: true })).toBe('postfix-x');
    expect(instanceLabel({ name: undefined, configDirectory: '/etc/postfix', primary: true })).toBe('-');
    expect(instanceLabel({ name: undefined, configDirectory: '/srv/x', primary: false })).toBe('/srv/x');
  });
});
