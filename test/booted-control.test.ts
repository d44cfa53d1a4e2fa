/**
 * postfleet's commands under a booted systemd (helpers/booted.ts), with the package installed:
 *  - control that tells the truth: start, stop, reload and restart reach the state asked for
 *    wherever the master runs (its own unit, Debian's postfix@ unit, started by hand), say how,
 *    and fail when the state is not reached — the Ansible postfix module too;
 *  - life-cycle commands keep systemd current: create/enable, disable, destroy, assign,
 *    import, deport, apply and postmulti-style -e each reload the units once, so that
 *    `systemctl start|restart postfix` reflects them at once and never leaves a failed unit.
 */
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCollection, requireAnsible, type BuiltCollection } from './helpers/ansible.js';
import { BootedHost, IO_INSIDE, requireBoot } from './helpers/booted.js';
import { debInside, failedUnits, masters, reportFailure } from './helpers/booted-fleet.js';
import { buildDeb, type BuiltDeb } from './helpers/deb.js';
import { cpSync, writeFileSync } from 'node:fs';

const FLEET = String.raw`
set -e
postfleet init >/dev/null
postfleet create postfix-a postfix-b -G mta >/dev/null
postfleet enable -g mta >/dev/null
touch -d '-1 minute' /etc/postfix*/main.cf
systemctl start postfix
`;

const unitOf = async (host: BootedHost, dir: string): Promise<string | undefined> => (await masters(host))[dir]?.unit;

describe.runIf(requireBoot() && requireAnsible())('postfleet under a booted systemd: control and life-cycle', () => {
  let host: BootedHost;
  let deb: BuiltDeb;
  let collection: BuiltCollection;

  beforeAll(async () => {
    [deb, collection] = [buildDeb(), await buildCollection()];
    host = await BootedHost.create();
    await host.boot();
    cpSync(collection.collectionsPath, path.join(host.io, 'collections'), { recursive: true });
    await host.runOk(`dpkg -i ${debInside(host, deb)}`);
    await host.runOk(FLEET);
  });
  afterAll(async () => {
    await host?.dispose();
    deb?.dispose();
    collection?.dispose();
  });
  afterEach(async (ctx) => reportFailure(host, ctx.task.result?.state === 'fail'));

  it('stop of a master that runs under Debian’s unit stops that unit, and says so', async () => {
    // Conflicts=: Debian's unit takes the instance over from postfleet's.
    await host.runOk('systemctl start postfix@postfix-b.service');
    expect(await unitOf(host, '/etc/postfix-b')).toBe('postfix@postfix-b.service');
    const r = await host.run('postfleet postfix stop -i postfix-b');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('its master ran in postfix@postfix-b.service: stopped that unit');
    expect(await unitOf(host, '/etc/postfix-b')).toBeUndefined();
    expect((await host.run('systemctl is-active postfix@postfix-b.service')).stdout.trim()).toBe('inactive');
    await host.runOk('postfleet postfix start -i postfix-b');
    expect(await unitOf(host, '/etc/postfix-b')).toBe('postfleet@postfix-b.service');
  });

  it('a master started by hand is reloaded and stopped where it runs, and restart moves it into its unit', async () => {
    await host.runOk('postfleet postfix stop -i postfix-a && postfleet postfix start -i postfix-a --no-systemd');
    const byHand = (await masters(host))['/etc/postfix-a'];
    expect(byHand?.unit).toBe('');
    const reload = await host.runOk('postfleet postfix reload -i postfix-a');
    expect(reload.stdout).toContain(`its master runs outside any service unit (master pid ${byHand?.pid}): reloaded with postfix reload`);
    expect((await masters(host))['/etc/postfix-a']?.pid).toBe(byHand?.pid);
    const restart = await host.runOk('postfleet postfix restart -i postfix-a');
    expect(restart.stdout).toContain('stopped with postfix stop, started in postfleet@postfix-a.service');
    const moved = (await masters(host))['/etc/postfix-a'];
    expect(moved?.unit).toBe('postfleet@postfix-a.service');
    expect(moved?.pid).not.toBe(byHand?.pid);
    // In its unit, reload keeps the master and restart replaces it.
    await host.runOk('postfleet postfix reload -i postfix-a');
    expect((await masters(host))['/etc/postfix-a']?.pid).toBe(moved?.pid);
    expect(await failedUnits(host)).toEqual([]);
  });

  it('a start that does not bring the master up fails, with the unit’s reason; the Ansible postfix module fails too', async () => {
    await host.runOk('postfleet postfix stop -i postfix-b && mv /etc/postfix-b/master.cf /etc/postfix-b/master.cf.away');
    const r = await host.run('postfleet postfix start -i postfix-b');
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout).toMatch(/^postfix-b: systemctl start: failed/m);
    expect(r.stdout).toMatch(/master\.cf/);
    writeFileSync(path.join(host.io, 'start-b.yml'), '- hosts: all\n  gather_facts: false\n  tasks:\n    - postfleet.fleet.postfix: {name: postfix-b, state: started}\n');
    const play = await host.run(`ANSIBLE_COLLECTIONS_PATH=${IO_INSIDE}/collections ANSIBLE_NOCOLOR=1 LC_ALL=C.UTF-8 ansible-playbook -i localhost, -c local ${IO_INSIDE}/start-b.yml`);
    expect(play.exitCode).not.toBe(0);
    expect(play.stdout).toMatch(/failed=1/);
    expect(play.stdout).toContain('"msg": "postfix-b: postfix start failed (exit 1)');
    await host.runOk('mv /etc/postfix-b/master.cf.away /etc/postfix-b/master.cf && systemctl reset-failed && postfleet postfix start -i postfix-b');
  });

  it("postfix(1)'s own options are refused through the units, with one line", async () => {
    const r = await host.run('postfleet postfix reload -v');
    expect([r.exitCode, r.stderr]).toEqual([1, 'postfleet: -v: cannot be passed through systemctl to postfleet@.service units; add --no-systemd to run postfix(1) directly\n']);
  });

  it('create and enable: systemctl start postfix starts the new instance at once; disable: restart leaves no failed unit', async () => {
    await host.runOk('postfleet create postfix-d >/dev/null && postfleet enable postfix-d >/dev/null');
    expect((await host.runOk('systemctl list-dependencies --plain --no-pager postfix.service')).stdout).toContain('postfleet@postfix-d.service');
    await host.runOk('systemctl start postfix');
    expect(await unitOf(host, '/etc/postfix-d')).toBe('postfleet@postfix-d.service');
    await host.runOk('postfleet disable postfix-d >/dev/null && systemctl restart postfix');
    expect(await failedUnits(host)).toEqual([]);
    expect(await unitOf(host, '/etc/postfix-d')).toBeUndefined();
    expect((await host.runOk('systemctl list-dependencies --plain --no-pager postfix.service')).stdout).not.toContain('postfix-d');
  });

  it('destroy, then a restart: no failed unit, and the unit is gone', async () => {
    await host.runOk('postfleet destroy postfix-d >/dev/null 2>&1; systemctl restart postfix');
    expect(await failedUnits(host)).toEqual([]);
    expect((await host.run("systemctl list-units --all --plain --no-legend 'postfleet@postfix-d.service'")).stdout.trim()).toBe('');
  });

  it('assign of a running instance leaves it running, and controllable under its new unit name', async () => {
    const r = await host.runOk('postfleet assign postfix-a --name postfix-z --json');
    expect(JSON.parse(r.stdout).systemd).toEqual({ reloaded: true, moved: ['postfix-z: moved from postfleet@postfix-a.service into postfleet@postfix-z.service'], errors: [] });
    expect(await unitOf(host, '/etc/postfix-a')).toBe('postfleet@postfix-z.service');
    await host.runOk('systemctl stop postfleet@postfix-z.service');
    expect(await unitOf(host, '/etc/postfix-a')).toBeUndefined();
    await host.runOk('systemctl restart postfix');
    expect(await unitOf(host, '/etc/postfix-a')).toBe('postfleet@postfix-z.service');
    expect(await failedUnits(host)).toEqual([]);
  });

  it('deport and import, apply and postmulti-style -e reach systemd at once too', async () => {
    await host.runOk('postfleet postfix stop -i postfix-z && postfleet disable postfix-z >/dev/null && postfleet deport postfix-z >/dev/null');
    expect((await host.runOk('systemctl list-dependencies --plain --no-pager postfix.service')).stdout).not.toContain('postfix-z');
    await host.runOk('postfleet import /etc/postfix-a >/dev/null && postfleet -e enable -i postfix-z && systemctl start postfix');
    expect(await unitOf(host, '/etc/postfix-a')).toBe('postfleet@postfix-z.service');
    await host.runOk("printf '[postfix-e]\\nenabled = yes\\n' | postfleet apply - >/dev/null && systemctl start postfix");
    expect(await unitOf(host, '/etc/postfix-e')).toBe('postfleet@postfix-e.service');
    await host.runOk('systemctl restart postfix');
    expect(await failedUnits(host)).toEqual([]);
  });

  it('a rolling restart and a rolling config change go through the units, batch by batch, each probed', async () => {
    const before = await masters(host);
    const r = await host.run('postfleet postfix restart --rolling --batch 1 --json');
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { instances: Array<{ instance: string; outcome: string }> };
    expect(report.instances.map((i) => i.outcome).every((o) => o === 'done')).toBe(true);
    const after = await masters(host);
    for (const [dir, m] of Object.entries(before)) {
      expect(after[dir]?.pid).not.toBe(m.pid);
      expect(after[dir]?.unit).toMatch(/^postfleet@/);
    }
    const set = await host.run("postfleet config set -g mta 'smtpd_banner=$myhostname ESMTP rolled' --rolling --json");
    expect(set.exitCode, set.stderr).toBe(0);
    expect((await host.runOk('postconf -c /etc/postfix-b -h smtpd_banner')).stdout).toBe('$myhostname ESMTP rolled\n');
    expect((await masters(host))['/etc/postfix-b']?.pid).toBe(after['/etc/postfix-b']?.pid);
    expect(await failedUnits(host)).toEqual([]);
  });
});
