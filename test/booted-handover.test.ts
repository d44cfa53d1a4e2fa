/**
 * The package's whole life on a running host, under a booted systemd (helpers/booted.ts):
 * Postfix instances run the Debian way (postmulti, Debian's postfix@ units; postfix-a and
 * postfix-b enabled, postfix-c disabled), then postfleet is installed, used, upgraded and
 * removed. At every step the masters are where they should be, and `systemctl restart
 * postfix` leaves no failed unit.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BootedHost, requireBoot } from './helpers/booted.js';
import { DEBIAN_FLEET, debInside, failedUnits, jobEvents, journalCursor, masters, reportFailure } from './helpers/booted-fleet.js';
import { buildDeb, type BuiltDeb } from './helpers/deb.js';

const ENABLED = [
  { dir: '/etc/postfix', id: '-' },
  { dir: '/etc/postfix-a', id: 'postfix-a' },
  { dir: '/etc/postfix-b', id: 'postfix-b' },
] as const;

describe.runIf(requireBoot())('install, use, upgrade and remove postfleet on a host whose instances run under Debian’s units (booted systemd)', () => {
  let host: BootedHost;
  let deb: BuiltDeb;
  let pkg: string;

  const unitsOf = async (): Promise<Record<string, string>> => Object.fromEntries(Object.entries(await masters(host)).map(([d, m]) => [d, m.unit]));
  const pidsOf = async (): Promise<Record<string, number>> => Object.fromEntries(Object.entries(await masters(host)).map(([d, m]) => [d, m.pid]));
  const expectUnits = async (template: 'postfix' | 'postfleet'): Promise<void> => {
    expect(await unitsOf()).toEqual(Object.fromEntries(ENABLED.map((e) => [e.dir, `${template}@${e.id}.service`])));
  };

  beforeAll(async () => {
    deb = buildDeb();
    host = await BootedHost.create();
    await host.boot();
    pkg = debInside(host, deb);
    await host.runOk(DEBIAN_FLEET);
  });
  afterEach(async (ctx) => reportFailure(host, ctx.task.result?.state === 'fail'));
  afterAll(async () => {
    await host?.dispose();
    deb?.dispose();
  });

  it("starts as Debian runs it: each enabled instance in its postfix@ unit; the disabled one's unit fails on restart (Debian's own behaviour)", async () => {
    await expectUnits('postfix');
    await host.runOk('systemctl restart postfix');
    await expectUnits('postfix');
    // Not postfleet's doing: before postfleet, Debian's unit of a disabled instance fails.
    expect(await failedUnits(host)).toEqual(['postfix@postfix-c.service']);
    await host.runOk('systemctl reset-failed');
  });

  it('installing keeps every master running and moves each into its postfleet@ unit, one at a time', async () => {
    const before = await pidsOf();
    await journalCursor(host, '/run/install.cursor');
    const r = await host.runOk(`dpkg -i ${pkg}`);
    expect(r.stdout).toContain("masked Debian's postfix-instance-generator");
    for (const e of ENABLED) expect(r.stdout).toContain(`postfix@${e.id}.service -> postfleet@${e.id}.service`);
    await expectUnits('postfleet');
    const after = await pidsOf();
    for (const e of ENABLED) expect(after[e.dir]).not.toBe(before[e.dir]);
    // One at a time: each Debian unit is stopped only after the previous instance runs again.
    const events = await jobEvents(host, '/run/install.cursor');
    const at = (what: string, unit: string): number => events.find((ev) => ev.what === what && ev.unit === unit)?.at ?? Number.NaN;
    for (let k = 1; k < ENABLED.length; k++) {
      expect(at('Stopping', `postfix@${ENABLED[k]!.id}.service`)).toBeGreaterThan(at('Started', `postfleet@${ENABLED[k - 1]!.id}.service`));
    }
    expect(await failedUnits(host)).toEqual([]);
    expect((await host.runOk('postfleet systemd status --json')).stdout).toContain('"runsIn": "postfleet@postfix-a.service"');
  });

  it('the first stop stops the master and says so; start brings it back in its unit', async () => {
    const stop = await host.run('postfleet postfix stop -i postfix-a');
    expect(stop.exitCode).toBe(0);
    expect(stop.stdout).toMatch(/^postfix-a: systemctl stop: ok/m);
    expect((await masters(host))['/etc/postfix-a']).toBeUndefined();
    expect((await host.run('systemctl is-active postfleet@postfix-a.service')).stdout.trim()).toBe('inactive');
    await host.runOk('postfleet postfix start -i postfix-a');
    await expectUnits('postfleet');
  });

  it('after a daemon-reload, systemctl restart postfix restarts every enabled instance in its unit and fails none', async () => {
    const before = await pidsOf();
    await host.runOk('systemctl daemon-reload && systemctl restart postfix');
    await expectUnits('postfleet');
    const after = await pidsOf();
    for (const e of ENABLED) expect(after[e.dir]).not.toBe(before[e.dir]);
    expect(await failedUnits(host)).toEqual([]);
  });

  it('upgrading over itself keeps every master running, untouched', async () => {
    const before = await pidsOf();
    await host.runOk(`dpkg -i ${pkg}`);
    expect(await pidsOf()).toEqual(before);
    await expectUnits('postfleet');
    await host.runOk('systemctl restart postfix');
    expect(await failedUnits(host)).toEqual([]);
  });

  it('postfleet init writes the packaged command into the wrapper line; plain postfix stop and start go through the units', async () => {
    await host.runOk('postfleet init');
    expect((await host.runOk('postconf -h multi_instance_wrapper')).stdout).toBe('/usr/sbin/postfleet -p --\n');
    await host.runOk('postfix stop');
    expect(await masters(host)).toEqual({});
    await host.runOk('postfix start');
    await expectUnits('postfleet');
    expect(await failedUnits(host)).toEqual([]);
  });

  it("removing the package hands the host back: postmulti's wrapper line, Debian's units, plain postfix stop and start", async () => {
    const r = await host.runOk('dpkg -r postfleet');
    expect(r.stdout).toContain("multi_instance_wrapper is postmulti's again");
    expect((await host.runOk('postconf -h multi_instance_wrapper')).stdout).toBe('${command_directory}/postmulti -p --\n');
    await expectUnits('postfix');
    expect(await host.exists('/etc/systemd/system-generators/postfix-instance-generator')).toBe(false);
    expect(await failedUnits(host)).toEqual([]);
    // Through postmulti again: a wrapper naming the removed program would die here.
    const stop = await host.run('postfix stop');
    expect(stop.exitCode).toBe(0);
    expect(stop.stderr).not.toContain('Cannot find module');
    expect(await masters(host)).toEqual({});
    await host.runOk('postfix start');
    expect(Object.keys(await masters(host)).sort()).toEqual(ENABLED.map((e) => e.dir).sort());
    await host.runOk('postfix stop; systemctl restart postfix');
    await expectUnits('postfix');
    // Only Debian's own failure of the disabled instance's unit, as before postfleet came.
    expect(await failedUnits(host)).toEqual(['postfix@postfix-c.service']);
  });

  it('installed with POSTFLEET_ADOPT=no, the masters stay in Debian’s units and everything works until postfleet systemd adopt moves them', async () => {
    await host.runOk('systemctl reset-failed'); // Debian's postfix@postfix-c, above
    const before = await pidsOf();
    const r = await host.runOk(`POSTFLEET_ADOPT=no dpkg -i ${pkg}`);
    expect(r.stdout).toContain("POSTFLEET_ADOPT=no: running instances left where they run; 'postfleet systemd adopt' moves them into postfleet@ units.");
    expect(await pidsOf()).toEqual(before);
    await expectUnits('postfix');
    // Conflicts=: a restart keeps Debian's running units and fails nothing.
    await host.runOk('systemctl restart postfix');
    await expectUnits('postfix');
    expect(await failedUnits(host)).toEqual([]);
    const stop = await host.runOk('postfleet postfix stop -i postfix-a');
    expect(stop.stdout).toContain('its master ran in postfix@postfix-a.service: stopped that unit');
    await host.runOk('postfleet postfix start -i postfix-a');
    expect((await masters(host))['/etc/postfix-a']?.unit).toBe('postfleet@postfix-a.service');
    const dry = await host.runOk('postfleet systemd adopt --dry-run');
    expect(dry.stdout.split('\n').filter(Boolean)).toEqual(['-: would move postfix@-.service -> postfleet@-.service', 'postfix-b: would move postfix@postfix-b.service -> postfleet@postfix-b.service']);
    await host.runOk('postfleet systemd adopt');
    await expectUnits('postfleet');
    await host.runOk('systemctl restart postfix');
    expect(await failedUnits(host)).toEqual([]);
  });
});
