/**
 * The checked control of systemd/control.ts and the hand-over of systemd/handover.ts, on a
 * stand-in system (no root, no systemd): what is done for each place a master can be, and
 * that nothing is reported done before the master is seen where it should be. The same code
 * under a booted systemd: booted-*.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Instance } from '../src/instances/instance.js';
import { controlInstance, planControl, type Completed, type ControlSystem, type ControlVerb, type Master } from '../src/systemd/control.js';
import { debianUnitOf, moveInstance, planHandover } from '../src/systemd/handover.js';
import { unitOfCgroup } from '../src/systemd/cgroup.js';

const U = 'postfleet@postfix-a.service';
const inst = (over: Partial<Instance> = {}): Instance => ({
  configDirectory: '/etc/postfix-a',
  queueDirectory: '/var/spool/postfix-a',
  dataDirectory: '/var/lib/postfix-a',
  name: 'postfix-a',
  group: undefined,
  enabled: true,
  primary: false,
  ...over,
});

const show = (verb: ControlVerb, m: Master | undefined): string[] => {
  const p = planControl(verb, U, m);
  return [...(p.refusal ? [`refused: ${p.refusal}`] : []), ...p.actions.map((a) => (a.kind === 'systemctl' ? `systemctl ${a.verb} ${a.unit}` : `postfix ${a.verb}`))];
};

describe('what each verb does, wherever the master runs', () => {
  const own: Master = { pid: 10, unit: U };
  const debian: Master = { pid: 11, unit: 'postfix@postfix-a.service' };
  const byHand: Master = { pid: 12, unit: 'session-3.scope' };
  const none: Master = { pid: 13, unit: undefined };
  it.each([
    ['start', undefined, [`systemctl start ${U}`]],
    ['start', own, [`systemctl start ${U}`]],
    ['start', debian, []],
    ['start', byHand, []],
    ['stop', undefined, [`systemctl stop ${U}`]],
    ['stop', own, [`systemctl stop ${U}`]],
    ['stop', debian, ['systemctl stop postfix@postfix-a.service', `systemctl stop ${U}`]],
    ['stop', byHand, ['postfix stop', `systemctl stop ${U}`]],
    ['stop', none, ['postfix stop', `systemctl stop ${U}`]],
    ['reload', undefined, ['refused: not running: nothing to reload']],
    ['reload', own, [`systemctl reload ${U}`]],
    ['reload', debian, ['systemctl reload postfix@postfix-a.service']],
    ['reload', byHand, ['postfix reload']],
    ['restart', undefined, [`systemctl restart ${U}`]],
    ['restart', own, [`systemctl restart ${U}`]],
    ['restart', debian, ['systemctl stop postfix@postfix-a.service', `systemctl start ${U}`]],
    ['restart', byHand, ['postfix stop', `systemctl start ${U}`]],
  ] as const)('%s with its master %o', (verb, master, expected) => {
    expect(show(verb, master)).toEqual(expected);
  });

  it('says how, in one line, when the master was not in its own unit', () => {
    expect(planControl('stop', U, debian).note).toBe('its master ran in postfix@postfix-a.service: stopped that unit');
    expect(planControl('restart', U, byHand).note).toBe(`its master ran in session-3.scope: stopped with postfix stop, started in ${U}`);
    expect(planControl('start', U, none).note).toBe(`already running outside any service unit (master pid 13), not in ${U}: left as it is ('postfleet postfix restart' moves it into ${U})`);
    expect(planControl('stop', U, own).note).toBeUndefined();
  });
});

/** A stand-in system: a master that systemctl calls move as a script says, a clock that jumps. */
function standIn(script: { master: Master | undefined; onCall?: (args: readonly string[]) => Master | undefined | 'same'; fail?: RegExp; appearAfterPolls?: number }): ControlSystem & { calls: string[] } {
  let master = script.master;
  let pending: Master | undefined | 'none';
  let polls = 0;
  let now = 0;
  const calls: string[] = [];
  const done = (exitCode: number, stderr = ''): Completed => ({ exitCode, stdout: '', stderr });
  const act = (line: string, args: readonly string[]): Completed => {
    calls.push(line);
    if (script.fail?.test(line)) return done(1, `${line}: failed`);
    const next = script.onCall?.(args);
    if (next === 'same') return done(0);
    if (script.appearAfterPolls !== undefined) pending = next ?? 'none';
    else master = next;
    return done(0);
  };
  return {
    calls,
    systemctl: async (args) => act(`systemctl ${args.filter((a) => !a.startsWith('--')).join(' ')}`, args),
    postfix: async (_i, args) => act(`postfix ${args.filter((a) => a !== '--').join(' ')}`, args),
    master: () => {
      if (pending !== undefined && ++polls > (script.appearAfterPolls ?? 0)) {
        master = pending === 'none' ? undefined : pending;
        pending = undefined;
      }
      return master;
    },
    journal: async (unit) => `${unit}: the journal's last word\n`,
    sleep: async (ms) => {
      now += ms;
    },
    now: () => now,
  };
}

describe('controlInstance: acts, then checks', () => {
  it('a start that brings the master up in its unit after a few polls succeeds quietly', async () => {
    const sys = standIn({ master: undefined, onCall: () => ({ pid: 20, unit: U }), appearAfterPolls: 3 });
    expect(await controlInstance('start', inst(), U, sys)).toEqual({ exitCode: 0, output: '' });
    expect(sys.calls).toEqual([`systemctl start ${U}`]);
  });

  it('a start whose unit succeeds but no master appears fails, with the reason and the journal', async () => {
    const sys = standIn({ master: undefined, onCall: () => undefined });
    const r = await controlInstance('start', inst(), U, sys, 1000);
    expect(r.exitCode).toBe(1);
    expect(r.output).toBe(`start did not take effect: no master runs\n  ${U}: the journal's last word\n`);
  });

  it('a failing systemctl fails the instance with its exit status, message and journal', async () => {
    const sys = standIn({ master: undefined, fail: /start/ });
    expect(await controlInstance('start', inst(), U, sys)).toEqual({
      exitCode: 1,
      output: `systemctl start ${U} failed (exit 1): systemctl start ${U}: failed\n  ${U}: the journal's last word\n`,
    });
  });

  it('a restart that leaves the same master is not a restart', async () => {
    const sys = standIn({ master: { pid: 30, unit: U }, onCall: () => 'same' });
    const r = await controlInstance('restart', inst(), U, sys, 500);
    expect(r).toEqual({ exitCode: 1, output: `restart did not take effect: its master was not restarted (pid 30 still runs)\n  ${U}: the journal's last word\n` });
  });

  it('a stop of a master run by Debian’s unit stops that unit and checks it is gone', async () => {
    const sys = standIn({ master: { pid: 40, unit: 'postfix@postfix-a.service' }, onCall: () => undefined });
    expect(await controlInstance('stop', inst(), U, sys)).toEqual({ exitCode: 0, output: 'its master ran in postfix@postfix-a.service: stopped that unit\n' });
    expect(sys.calls).toEqual(['systemctl stop postfix@postfix-a.service', `systemctl stop ${U}`]);
  });

  it('a reload of a stopped instance is refused, and nothing is run', async () => {
    const sys = standIn({ master: undefined });
    expect(await controlInstance('reload', inst(), U, sys)).toEqual({ exitCode: 1, output: 'not running: nothing to reload\n' });
    expect(sys.calls).toEqual([]);
  });
});

describe('the hand-over', () => {
  const a = inst();
  const anon = inst({ configDirectory: '/etc/postfix-anon', name: undefined });
  const off = inst({ configDirectory: '/etc/postfix-off', name: 'postfix-off', enabled: false });
  const primary = inst({ configDirectory: '/etc/postfix', name: undefined, primary: true });

  it("Debian's unit of an instance: postfix@- for the primary, postfix@NAME, none for a nameless secondary", () => {
    expect([primary, a, anon].map(debianUnitOf)).toEqual(['postfix@-.service', 'postfix@postfix-a.service', undefined]);
  });

  it('adopt moves every enabled running instance that is not in its own unit; release moves those in postfleet@ units back', () => {
    const where = new Map<string, Master | undefined>([
      [primary.configDirectory, { pid: 1, unit: 'postfix@-.service' }],
      [a.configDirectory, { pid: 2, unit: U }],
      [anon.configDirectory, { pid: 3, unit: 'session-1.scope' }],
      [off.configDirectory, { pid: 4, unit: 'postfix@postfix-off.service' }],
    ]);
    const adopt = planHandover('adopt', [primary, a, anon, off], (i) => where.get(i.configDirectory), true);
    expect(adopt.moves.map((m) => `${m.label}: ${m.from ?? 'none'} -> ${m.to ?? 'none'}`)).toEqual([
      '-: postfix@-.service -> postfleet@-.service',
      '/etc/postfix-anon: session-1.scope -> postfleet@etc-postfix\\x2danon.service',
    ]);
    expect(adopt.left).toEqual(["postfix-off: disabled, its master left in postfix@postfix-off.service (postfleet's units run enabled instances only)"]);
    where.set(anon.configDirectory, { pid: 3, unit: 'postfleet@etc-postfix\\x2danon.service' });
    const release = planHandover('release', [primary, a, anon, off], (i) => where.get(i.configDirectory), true);
    expect(release.moves.map((m) => `${m.label}: ${m.from ?? 'none'} -> ${m.to ?? 'none'}`)).toEqual([
      `postfix-a: ${U} -> postfix@postfix-a.service`,
      '/etc/postfix-anon: postfleet@etc-postfix\\x2danon.service -> none',
    ]);
    expect(release.left).toEqual(["/etc/postfix-anon: nameless: Debian's units cannot run it; started by postfix(1) in no unit"]);
  });

  it('a move whose new home fails starts the instance again where it ran', async () => {
    const sys = standIn({
      master: { pid: 5, unit: U },
      fail: /start postfix@/,
      onCall: (args) => (args.includes('stop') ? undefined : { pid: 6, unit: U }),
    });
    const r = await moveInstance({ instance: a, label: 'postfix-a', from: U, pid: 5, to: 'postfix@postfix-a.service' }, sys, 500);
    expect(r.exitCode).toBe(1);
    expect(sys.calls).toEqual([`systemctl stop ${U}`, 'systemctl start postfix@postfix-a.service', `systemctl start ${U}`]);
    expect(r.output).toBe(`${U} -> postfix@postfix-a.service\nstart in postfix@postfix-a.service failed (exit 1): systemctl start postfix@postfix-a.service: failed\nstarted again in ${U}\n`);
  });
});

describe("the unit of a process, from /proc/PID/cgroup", () => {
  it.each([
    ['cgroup v1 or hybrid: the name=systemd line', '12:memory:/system.slice\n1:name=systemd:/system.slice/system-postfleet.slice/postfleet@postfix-a.service\n0::/system.slice/x.service\n', 'postfleet@postfix-a.service'],
    ['cgroup v2 only', '0::/system.slice/system-postfix.slice/postfix@-.service\n', 'postfix@-.service'],
    ['a login session', '0::/user.slice/user-0.slice/session-3.scope\n', 'session-3.scope'],
    ['PID 1 of a container', '1:name=systemd:/init.scope\n0::/init.scope\n', undefined],
    ['outside this cgroup namespace', '1:name=systemd:/..\n0::/..\n', undefined],
    ['the root', '0::/\n', undefined],
  ])('%s', (_what, text, unit) => {
    expect(unitOfCgroup(text)).toBe(unit);
  });
});
