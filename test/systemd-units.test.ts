/**
 * systemd naming, the generator's plan and the systemctl decision, without systemd: the
 * escaping is checked against the real systemd-escape, the decision against directory trees
 * standing in for /.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FleetEntry, Instance } from '../src/instances/instance.js';
import { systemdEscape, systemdEscapePath } from '../src/systemd/escape.js';
import { cgroupIsPostfleetUnit, decideSystemctl, probeSystemd, systemctlRuns, type SystemdContext } from '../src/systemd/systemctl.js';
import { entryOfUnit, generatedFiles, planUnits, unitInstanceId } from '../src/systemd/units.js';
import { planUnitAction, resolveUnit } from '../src/systemd/unit.js';
import { planPostfixCommand } from '../src/instances/fanout/command-class.js';
import type { ControlVerb } from '../src/systemd/control.js';

function hasSystemdEscape(): boolean {
  try {
    execFileSync('systemd-escape', ['x'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.POSTFLEET_REQUIRE_INTEGRATION === '1') throw new Error('systemd-escape is required (POSTFLEET_REQUIRE_INTEGRATION=1) but cannot be run');
    console.warn('[postfleet] skipping the systemd-escape comparison: systemd-escape not found');
    return false;
  }
}

/** The real tool's answer, or undefined when it refuses. */
function realEscape(value: string, asPath: boolean): string | undefined {
  try {
    return execFileSync('systemd-escape', [...(asPath ? ['--path'] : []), '--', value], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).replace(/\n$/, '');
  } catch {
    return undefined;
  }
}

const SAMPLES = [
  'postfix-out', 'postfix-a+b', 'pfx', '.hidden', 'a.b', 'x:y_z', 'with space', 'back\\slash', 'per%cent', 'é-ü', '日本',
  '!@%-_=+:.', '-', '--', 'a-', '0', 'tab\there', 'UPPER-lower', 'x/.y',
];
const PATHS = [
  '/etc/postfix', '/etc/postfix-anon', '/srv/pf-x', '/', '//etc//postfix//', '/etc/./postfix', '/.dot/dir', '/a b/c-d', '/é/ü',
  '/srv/postfix-a+b', '/x/../y', '/x/..', 'etc/postfix', './etc/x', '.', '', '/a\\b', '/a:b_c.d',
];

describe.runIf(hasSystemdEscape())('escaping, against systemd-escape', () => {
  it.each(SAMPLES)('systemd-escape %j', (s) => {
    expect(systemdEscape(s)).toBe(realEscape(s, false));
  });
  it.each(PATHS)('systemd-escape --path %j', (p) => {
    expect(systemdEscapePath(p)).toBe(realEscape(p, true));
  });
});

const inst = (dir: string, name: string | undefined, enabled = true, primary = false): Instance => ({
  configDirectory: dir,
  queueDirectory: `/var/spool${dir}`,
  dataDirectory: `/var/lib${dir}`,
  name,
  group: undefined,
  enabled,
  primary,
});
const ok = (i: Instance): FleetEntry => ({ kind: 'ok', instance: i });
const broken = (dir: string, reason = 'main.cf: No such file or directory'): FleetEntry => ({
  kind: 'broken',
  broken: { configDirectory: dir, primary: false, reason },
});

describe('unit names', () => {
  it('primary, named, escaped names and nameless instances', () => {
    expect(unitInstanceId(inst('/etc/postfix', 'postfix-main', true, true))).toBe('-');
    expect(unitInstanceId(inst('/etc/postfix-out', 'postfix-out'))).toBe('postfix-out');
    expect(unitInstanceId(inst('/etc/postfix-x', 'postfix-a+b'))).toBe('postfix\\x2da\\x2bb');
    expect(unitInstanceId(inst('/etc/postfix-x', '.x'))).toBe('\\x2ex');
    expect(unitInstanceId(inst('/etc/postfix-anon', undefined))).toBe('etc-postfix\\x2danon');
    expect(unitInstanceId(inst('/srv/pf-x', undefined))).toBe('srv-pf\\x2dx');
  });
});

describe('the generator plan', () => {
  const fleet: FleetEntry[] = [
    ok(inst('/etc/postfix', undefined, true, true)),
    ok(inst('/etc/postfix-out', 'postfix-out')),
    ok(inst('/etc/postfix-off', 'postfix-off', false)),
    broken('/etc/postfix-gone'),
    ok(inst('/etc/postfix-anon', undefined)),
    ok(inst('/srv/anon2', undefined)),
    ok(inst('/etc/postfix-in', 'postfix-in')),
  ];

  it('links enabled instances, unordered by default; skips disabled and broken ones', () => {
    expect(planUnits(fleet).units.map((u) => [u.unit, u.after])).toEqual([
      ['postfleet@-.service', undefined],
      ['postfleet@postfix-out.service', undefined],
      ['postfleet@etc-postfix\\x2danon.service', undefined],
      ['postfleet@srv-anon2.service', undefined],
      ['postfleet@postfix-in.service', undefined],
    ]);
  });

  it('with START_ORDER=list, each unit after the previous one in list order; skips disabled and broken ones', () => {
    const plan = planUnits(fleet, 'list');
    expect(plan.units.map((u) => [u.unit, u.after])).toEqual([
      ['postfleet@-.service', undefined],
      ['postfleet@postfix-out.service', 'postfleet@-.service'],
      ['postfleet@etc-postfix\\x2danon.service', 'postfleet@postfix-out.service'],
      ['postfleet@srv-anon2.service', 'postfleet@etc-postfix\\x2danon.service'],
      ['postfleet@postfix-in.service', 'postfleet@srv-anon2.service'],
    ]);
    expect(plan.skipped).toEqual([
      { configDirectory: '/etc/postfix-gone', message: 'skipping instance /etc/postfix-gone: main.cf: No such file or directory' },
    ]);
  });

  it('a unit name already taken is skipped with a message naming both', () => {
    const plan = planUnits([ok(inst('/etc/postfix', undefined, true, true)), ok(inst('/etc/pfx', undefined)), ok(inst('/etc/x', 'etc-pfx'))]);
    expect(plan.units.map((u) => u.unit)).toEqual(['postfleet@-.service', 'postfleet@etc-pfx.service']);
    expect(plan.skipped).toEqual([
      { configDirectory: '/etc/x', message: 'skipping instance /etc/x: its unit name postfleet@etc-pfx.service is already that of /etc/pfx' },
    ]);
  });

  it('writes a wants link and a drop-in per unit', () => {
    const files = generatedFiles(planUnits(fleet.slice(0, 2), 'list'), '/lib/systemd/system/postfleet@.service', '/etc/postfix/main.cf');
    expect(files).toEqual([
      { path: 'postfix.service.wants/postfleet@-.service', symlinkTo: '/lib/systemd/system/postfleet@.service' },
      {
        path: 'postfleet@-.service.d/50-postfleet-generator.conf',
        content:
          '# Made by postfleet-generator from /etc/postfix/main.cf: enabled instance 1 of 2, started in list order.\n[Unit]\nDescription=Postfix primary instance /etc/postfix (postfleet)\nRequiresMountsFor=/etc/postfix /var/spool/etc/postfix /var/lib/etc/postfix\n',
      },
      { path: 'postfix.service.wants/postfleet@postfix-out.service', symlinkTo: '/lib/systemd/system/postfleet@.service' },
      {
        path: 'postfleet@postfix-out.service.d/50-postfleet-generator.conf',
        content:
          '# Made by postfleet-generator from /etc/postfix/main.cf: enabled instance 2 of 2, started in list order.\n[Unit]\nDescription=Postfix instance postfix-out /etc/postfix-out (postfleet)\nAfter=postfleet@-.service\nRequiresMountsFor=/etc/postfix-out /var/spool/etc/postfix-out /var/lib/etc/postfix-out\n',
      },
    ]);
  });

  it('a % in a name or directory is written %% (systemd specifiers)', () => {
    const files = generatedFiles(planUnits([ok(inst('/etc/p%d', 'a%b'))]), '/t', '/etc/postfix/main.cf');
    expect(files[1]?.content).toContain('Description=Postfix instance a%%b /etc/p%%d (postfleet)\n');
  });

  it('a unit finds its instance by the same names', () => {
    for (const e of fleet) {
      if (e.kind !== 'ok') continue;
      const id = unitInstanceId(e.instance)!;
      expect(entryOfUnit(fleet, id)).toBe(e);
      expect(resolveUnit(fleet, id)).toBe(e.instance);
    }
    expect(() => resolveUnit(fleet, 'etc-postfix\\x2dgone')).toThrow(
      'postfleet@etc-postfix\\x2dgone.service: instance /etc/postfix-gone: main.cf: No such file or directory',
    );
    expect(() => resolveUnit(fleet, 'postfix-nope')).toThrow(/^postfleet@postfix-nope\.service: no instance has this unit/);
  });
});

describe('unit actions', () => {
  const i = inst('/etc/postfix-out', 'postfix-out');
  it('start runs configure-instance.sh for the instance, then postfix start, with MAIL_CONFIG', () => {
    const runs = planUnitAction('start', i, '/usr/sbin', '/usr/lib/postfix/configure-instance.sh');
    expect(runs.map((r) => [r.file, r.args, r.env])).toEqual([
      ['/usr/lib/postfix/configure-instance.sh', ['-'], { MAIL_CONFIG: '/etc/postfix-out' }],
      ['/usr/sbin/postfix', ['--', 'start'], { MAIL_CONFIG: '/etc/postfix-out' }],
    ]);
    expect(planUnitAction('start', i, '/usr/sbin', undefined).map((r) => r.args)).toEqual([['--', 'start']]);
  });
  it('stop and reload act on a disabled instance; start refuses it', () => {
    const off = inst('/etc/postfix-off', 'postfix-off', false);
    expect(planUnitAction('stop', off, '/usr/sbin', undefined).map((r) => r.args)).toEqual([['--', 'stop']]);
    expect(planUnitAction('reload', off, '/usr/sbin', undefined).map((r) => r.args)).toEqual([['--', 'reload']]);
    expect(() => planUnitAction('start', off, '/usr/sbin', undefined)).toThrow(/^postfix-off is disabled \(multi_instance_enable = no\)/);
  });
});

describe('the systemctl decision', () => {
  const yes: SystemdContext = { booted: true, unitInstalled: true, disabledByEnvironment: false, insideUnit: false };
  it('only with systemd running, the unit installed, a systemctl verb and no bypass', () => {
    for (const verb of ['start', 'stop', 'reload', 'restart']) expect(decideSystemctl(verb, yes).use).toBe(true);
    for (const verb of ['status', 'check', 'flush', 'abort', undefined]) expect(decideSystemctl(verb, yes).use).toBe(false);
    expect(decideSystemctl('start', yes, true)).toEqual({ use: false, reason: '--no-systemd' });
    expect(decideSystemctl('start', { ...yes, disabledByEnvironment: true })).toEqual({ use: false, reason: 'POSTFLEET_NO_SYSTEMD is set' });
    expect(decideSystemctl('start', { ...yes, insideUnit: true }).use).toBe(false);
    expect(decideSystemctl('start', { ...yes, booted: false }).use).toBe(false);
    expect(decideSystemctl('start', { ...yes, unitInstalled: false }).use).toBe(false);
  });

  it('a cgroup inside a postfleet@ unit is recognised', () => {
    expect(cgroupIsPostfleetUnit('0::/system.slice/system-postfleet.slice/postfleet@postfix-a.service\n')).toBe(true);
    expect(cgroupIsPostfleetUnit('0::/system.slice/postfix.service\n1:name=systemd:/user.slice\n')).toBe(false);
    expect(cgroupIsPostfleetUnit('0::/\n')).toBe(false);
  });

  describe('probing a tree standing in for /', () => {
    const roots: string[] = [];
    afterAll(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));
    const tree = (files: Record<string, string | { link: string }>, dirs: readonly string[] = []): string => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'postfleet-systemd-probe-'));
      roots.push(root);
      for (const d of dirs) fs.mkdirSync(path.join(root, d), { recursive: true });
      for (const [p, c] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
        if (typeof c === 'string') fs.writeFileSync(path.join(root, p), c);
        else fs.symlinkSync(c.link, path.join(root, p));
      }
      return root;
    };
    const UNIT = '/lib/systemd/system/postfleet@.service';

    it('systemd running and the unit installed', () => {
      const ctx = probeSystemd({}, tree({ [UNIT]: '[Service]\n' }, ['run/systemd/system']));
      expect(ctx).toEqual({ booted: true, unitInstalled: true, disabledByEnvironment: false, insideUnit: false });
      expect(decideSystemctl('start', ctx).use).toBe(true);
    });
    it('no /run/systemd/system: not booted with systemd', () => {
      expect(probeSystemd({}, tree({ [UNIT]: '[Service]\n' })).booted).toBe(false);
    });
    it('the unit masked in /etc, or absent', () => {
      const masked = tree({ [UNIT]: '[Service]\n', '/etc/systemd/system/postfleet@.service': { link: '/dev/null' } }, ['run/systemd/system']);
      expect(probeSystemd({}, masked).unitInstalled).toBe(false);
      expect(probeSystemd({}, tree({}, ['run/systemd/system'])).unitInstalled).toBe(false);
    });
    it('POSTFLEET_NO_SYSTEMD', () => {
      const root = tree({ [UNIT]: '[Service]\n' }, ['run/systemd/system']);
      expect(probeSystemd({ POSTFLEET_NO_SYSTEMD: '1' }, root).disabledByEnvironment).toBe(true);
      expect(probeSystemd({ POSTFLEET_NO_SYSTEMD: '0' }, root).disabledByEnvironment).toBe(false);
    });
  });

  it('maps a plan to checked unit tasks in plan order; disabled instances keep their own run', () => {
    const entries = [ok(inst('/etc/postfix', undefined, true, true)), ok(inst('/etc/postfix-off', 'postfix-off', false)), ok(inst('/etc/postfix-anon', undefined))];
    const lists = { start: ['start'], stop: ['stop'], control: ['reload'] };
    const shared = { commandDirectory: '/usr/sbin', daemonDirectory: '/usr/lib/postfix/sbin', metaDirectory: '/etc/postfix', shlibDirectory: 'no' };
    const show = (verb: string): string[] =>
      systemctlRuns(planPostfixCommand(entries, shared, lists, { type: 'all' }, [verb]).runs, verb as ControlVerb, '/usr/sbin').map((r) => [r.task ? 'task:' : '', r.file, ...r.args].join(' ').trim());
    expect(show('start')).toEqual([
      'task: systemctl start postfleet@-.service',
      '/usr/sbin/postfix -- check',
      'task: systemctl start postfleet@etc-postfix\\x2danon.service',
    ]);
    expect(show('stop')).toEqual([
      'task: systemctl stop postfleet@etc-postfix\\x2danon.service',
      'task: systemctl stop postfleet@-.service',
    ]);
    expect(show('restart')).toEqual([
      'task: systemctl restart postfleet@-.service',
      '/usr/sbin/postfix -- check',
      'task: systemctl restart postfleet@etc-postfix\\x2danon.service',
    ]);
  });
});
