/**
 * Boots, under a real systemd (helpers/booted.ts), of a fleet run by postfleet's units: every
 * enabled instance in a unit of its own, started all at once (in list order only when asked
 * for), a nameless instance under its escaped directory, a disabled one not started, broken
 * ones skipped while the others run, an instance whose queue is on a file system mounted
 * later waiting for it, and the primary's unit made whatever happens to the generator.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BootedHost, requireBoot } from './helpers/booted.js';
import { debInside, failedUnits, jobEvents, masters, reportFailure } from './helpers/booted-fleet.js';
import { buildDeb, type BuiltDeb } from './helpers/deb.js';

const FLEET = String.raw`
set -e
postfleet init >/dev/null
postfleet create postfix-a postfix-off >/dev/null
postfleet enable postfix-a >/dev/null
postmulti -e create config_directory=/etc/postfix-anon queue_directory=/var/spool/postfix-anon data_directory=/var/lib/postfix-anon
postmulti -i /etc/postfix-anon -e enable
# A queue on a file system of its own, mounted at boot from fstab (a bind mount stands in for a disk).
mkdir -p /var/lib/pfq /srv/q
echo '/var/lib/pfq /srv/q none bind 0 0' >> /etc/fstab
mount --bind /var/lib/pfq /srv/q
postfleet create postfix-m --queue-directory /srv/q/postfix-m >/dev/null
postfleet enable postfix-m >/dev/null
# Two broken instances in the list: a missing one and one with a bad multi_instance_enable.
mkdir -p /etc/postfix-maybe
cp /etc/postfix-off/main.cf /etc/postfix-off/master.cf /etc/postfix-maybe/
postconf -c /etc/postfix-maybe -e multi_instance_name=postfix-maybe multi_instance_enable=maybe queue_directory=/var/spool/postfix-maybe data_directory=/var/lib/postfix-maybe
postconf -e "multi_instance_directories = $(postconf -h multi_instance_directories) /etc/postfix-gone /etc/postfix-maybe"
touch -d '-1 minute' /etc/postfix*/main.cf
`;

const RUNNING = {
  '/etc/postfix': 'postfleet@-.service',
  '/etc/postfix-a': 'postfleet@postfix-a.service',
  '/etc/postfix-anon': 'postfleet@etc-postfix\\x2danon.service',
  '/etc/postfix-m': 'postfleet@postfix-m.service',
};

describe.runIf(requireBoot())('booting a fleet run by postfleet’s units (booted systemd)', () => {
  let host: BootedHost;
  let deb: BuiltDeb;

  beforeAll(async () => {
    deb = buildDeb();
    host = await BootedHost.create();
    await host.boot();
    await host.runOk(`dpkg -i ${debInside(host, deb)}`);
    await host.runOk(FLEET);
  });
  afterEach(async (ctx) => reportFailure(host, ctx.task.result?.state === 'fail'));
  afterAll(async () => {
    await host?.dispose();
    deb?.dispose();
  });

  it('after a reboot every enabled instance runs in its own unit, started all at once; the disabled and broken ones do not, and nothing failed', async () => {
    expect(await host.reboot()).toBe('running');
    const seen = await masters(host);
    expect(Object.fromEntries(Object.entries(seen).map(([d, m]) => [d, m.unit]))).toEqual(RUNNING);
    expect(await failedUnits(host)).toEqual([]);
    // The generator names the broken instances (in the kernel log where there is one: not in
    // a container, so here it is run by hand); the disabled one has no unit.
    const gen = await host.run('mkdir -p /run/g && /lib/systemd/system-generators/postfleet-generator /run/g /run/g /run/g');
    expect(gen.exitCode).toBe(0);
    expect(gen.stderr).toMatch(/^postfleet-generator: skipping instance \/etc\/postfix-gone: /m);
    expect(gen.stderr).toMatch(/^postfleet-generator: skipping instance \/etc\/postfix-maybe: /m);
    expect((await host.run('systemctl list-dependencies --plain --no-pager postfix.service')).stdout).not.toContain('postfix-off');
    // In parallel: systemd began every start before any had finished (no After= chain).
    const events = (await jobEvents(host)).filter((e) => e.unit.startsWith('postfleet@') && e.unit !== RUNNING['/etc/postfix-m']);
    const starting = events.filter((e) => e.what === 'Starting').map((e) => e.at);
    const started = events.filter((e) => e.what === 'Started').map((e) => e.at);
    expect(starting).toHaveLength(3);
    expect(Math.max(...starting)).toBeLessThan(Math.min(...started));
  });

  it('an instance whose queue is on a file system mounted later waits for that mount', async () => {
    const show = (await host.runOk("systemctl show -p RequiresMountsFor -p After -p Requires 'postfleet@postfix-m.service'")).stdout;
    expect(show).toMatch(/^RequiresMountsFor=.*\/srv\/q\/postfix-m/m);
    expect(show).toMatch(/^After=.*\bsrv-q\.mount\b/m);
    expect(show).toMatch(/^Requires=.*\bsrv-q\.mount\b/m);
    expect((await host.runOk('findmnt -n -o TARGET /srv/q')).stdout.trim()).toBe('/srv/q');
    const pidFile = (await host.runOk('cat /srv/q/postfix-m/pid/master.pid')).stdout.trim();
    expect(Number(pidFile)).toBe((await masters(host))['/etc/postfix-m']?.pid);
  });

  it('START_ORDER=list in /etc/default/postfleet starts them one after another, in list order', async () => {
    await host.runOk("echo 'START_ORDER=list' > /etc/default/postfleet && systemctl daemon-reload && systemctl stop postfix && systemctl start postfix");
    expect((await host.runOk("systemctl show -p After 'postfleet@postfix-a.service'")).stdout).toMatch(/\bpostfleet@-\.service\b/);
    await host.runOk('rm /etc/default/postfleet && systemctl daemon-reload');
    expect((await host.runOk("systemctl show -p After 'postfleet@postfix-a.service'")).stdout).not.toMatch(/\bpostfleet@-\.service\b/);
  });

  it('the generator fails open: broken, it still gives the primary instance its unit, which starts at boot', async () => {
    const bundle = '/usr/lib/postfleet/dist/bundle/systemd/generator.js';
    await host.runOk(`cp ${bundle} /root/generator.js.good && echo "throw new Error('a generator that crashes')" > ${bundle}`);
    expect(await host.reboot()).toBe('running');
    const wanted = (await host.runOk("systemctl list-dependencies --plain --no-pager postfix.service | grep -o 'postfleet@[^ ]*'")).stdout.trim().split('\n');
    expect(wanted).toEqual(['postfleet@-.service']);
    expect(Object.keys(await masters(host))).toEqual(['/etc/postfix']);
    const gen = await host.run('rm -rf /run/g && mkdir -p /run/g && /lib/systemd/system-generators/postfleet-generator /run/g /run/g /run/g');
    expect(gen.exitCode).not.toBe(0);
    expect(gen.stderr).toContain("postfleet-generator: failed (exit 1): only the primary instance's unit postfleet@-.service was made");
    await host.runOk(`cp /root/generator.js.good ${bundle}`);
    expect(await host.reboot()).toBe('running');
    expect(Object.fromEntries(Object.entries(await masters(host)).map(([d, m]) => [d, m.unit]))).toEqual(RUNNING);
  });
});
