/**
 * Many hosts: one inventory of several hosts, one play that provisions all of them with
 * forks > 1, and a second run that changes nothing on any. In the sandbox each "host" is a
 * primary Postfix instance of its own (host variable primary_config_dir, e.g.
 * /etc/h1/postfix, with its own main.cf, queue and data directories, prepared with
 * `postfleet init -c DIR`; the last host has no such variable and gets the default primary,
 * /etc/postfix), reached with connection: local; the same playbook gives every host its own
 * instances in its own directories, started by the postfix module.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnsibleInSandbox, buildCollection, requireAnsible, type BuiltCollection, type PlaybookResult } from './helpers/ansible.js';
import { PRISTINE_MAIN_CF, requireIntegration, Sandbox } from './helpers/sandbox.js';

const RUN = requireIntegration() && requireAnsible();
const HOSTS = ['h1', 'h2', 'h3'] as const;
/** Each host's primary config directory; h3 has none in the inventory (postfleet's default). */
const PRIMARY: Record<(typeof HOSTS)[number], string> = { h1: '/etc/h1/postfix', h2: '/etc/h2/postfix', h3: '/etc/postfix' };
/** Where each host's instances go: next to its primary (the last path component replaced by the name). */
const ETC = (h: (typeof HOSTS)[number]): string => path.dirname(PRIMARY[h]);
const SPOOL = (h: (typeof HOSTS)[number]): string => (h === 'h3' ? '/var/spool' : `/var/spool/${h}`);
const LIB = (h: (typeof HOSTS)[number]): string => (h === 'h3' ? '/var/lib' : `/var/lib/${h}`);

const INVENTORY = `[mail]
h1 primary_config_dir=/etc/h1/postfix
h2 primary_config_dir=/etc/h2/postfix
h3

[mail:vars]
ansible_connection=local
`;

const PLAYBOOK = `
- name: Postfix instances on every mail host
  hosts: mail
  module_defaults:
    group/postfleet.fleet.all:
      primary_config_dir: "{{ primary_config_dir | default(omit) }}"
  tasks:
    - name: The instances of this host
      postfleet.fleet.manifest:
        content:
          postfix-out:
            group: mta
            enabled: true
            template: null-client
            settings:
              relayhost: "[relay.{{ inventory_hostname }}.example]:587"
          postfix-in:
            group: mta
            enabled: true
            settings:
              myhostname: "in.{{ inventory_hostname }}.example"

    - name: Running
      postfleet.fleet.postfix:
        group: mta
        state: started
`;

describe.runIf(RUN)('ansible: many hosts in one play', { timeout: 900_000 }, () => {
  let sb: Sandbox;
  let coll: BuiltCollection;
  let an: AnsibleInSandbox;
  const show = (r: PlaybookResult): string => `exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`;
  const mainCfs = async (): Promise<string> =>
    (await sb.runOk('shopt -s nullglob; find /etc/postfix* /etc/h1 /etc/h2 \\( -name main.cf -o -name master.cf \\) | LC_ALL=C sort | xargs md5sum; find /etc/postfix* /etc/h1 /etc/h2 -newer /etc/hosts-marker | LC_ALL=C sort')).stdout;

  beforeAll(async () => {
    [coll, sb] = await Promise.all([buildCollection(), Sandbox.create()]);
    an = await AnsibleInSandbox.create(sb, coll);
    await sb.runOk('postfleet init >/dev/null');
    for (const h of ['h1', 'h2'] as const) {
      await sb.writeFile(`/etc/${h}/postfix/main.cf`, `${PRISTINE_MAIN_CF}queue_directory = /var/spool/${h}/postfix\ndata_directory = /var/lib/${h}/postfix\n`);
      await sb.runOk(`set -e
cp -p /etc/postfix/master.cf /etc/${h}/postfix/master.cf
mkdir -p /var/spool/${h}/postfix /var/lib/${h}/postfix
postfleet init -c /etc/${h}/postfix >/dev/null`);
    }
    await sb.backdate('/etc/h*/postfix/main.cf', '/etc/postfix/main.cf');
    await an.write('hosts.ini', INVENTORY);
    await an.write('site.yml', PLAYBOOK);
  }, 300_000);
  afterAll(async () => {
    await sb?.dispose();
    coll?.dispose();
  });

  it('one play with forks > 1 provisions every host, each in its own directories; a second run changes nothing on any', async () => {
    const first = await an.playbook('site.yml', { inventory: 'hosts.ini', forks: 3 });
    expect(first.exitCode, show(first)).toBe(0);
    for (const h of HOSTS) expect(first.recap[h], `${h}\n${first.recapText}`).toMatchObject({ ok: 2, changed: 2, failed: 0, unreachable: 0 });
    console.log(`first run:\n${first.recapText}`);

    const pids = new Set<number>();
    for (const h of HOSTS) {
      const list = JSON.parse((await sb.runOk(`postfleet list -c ${PRIMARY[h]} --json`)).stdout) as Array<{ name: string | null; group: string | null; enabled: boolean; configDirectory: string }>;
      expect(list.map((l) => [l.name, l.group, l.enabled, l.configDirectory])).toEqual([
        [null, null, true, PRIMARY[h]],
        ['postfix-out', 'mta', true, `${ETC(h)}/postfix-out`],
        ['postfix-in', 'mta', true, `${ETC(h)}/postfix-in`],
      ]);
      await sb.backdate(`${ETC(h)}/postfix-*/main.cf`);
      const values = await sb.runOk(
        `postconf -c ${ETC(h)}/postfix-out -h relayhost queue_directory data_directory && postconf -c ${ETC(h)}/postfix-in -h myhostname queue_directory`,
      );
      expect(values.stdout).toBe(
        `[relay.${h}.example]:587\n${SPOOL(h)}/postfix-out\n${LIB(h)}/postfix-out\nin.${h}.example\n${SPOOL(h)}/postfix-in\n`,
      );
      const status = JSON.parse((await sb.runOk(`postfleet status -c ${PRIMARY[h]} -g mta --json`)).stdout) as Array<{ instance: string; running: boolean; pid: number }>;
      expect(status.map((s) => [s.instance, s.running])).toEqual([
        ['postfix-out', true],
        ['postfix-in', true],
      ]);
      for (const s of status) pids.add(s.pid);
    }
    expect(pids.size).toBe(HOSTS.length * 2);

    await sb.runOk('touch /etc/hosts-marker');
    const before = await mainCfs();
    const second = await an.playbook('site.yml', { inventory: 'hosts.ini', forks: 3 });
    expect(second.exitCode, show(second)).toBe(0);
    for (const h of HOSTS) expect(second.recap[h], `${h}\n${second.recapText}`).toMatchObject({ ok: 2, changed: 0, failed: 0, unreachable: 0 });
    console.log(`second run:\n${second.recapText}`);
    expect(await mainCfs()).toBe(before);
    for (const h of HOSTS) {
      const status = JSON.parse((await sb.runOk(`postfleet status -c ${PRIMARY[h]} -g mta --json`)).stdout) as Array<{ pid: number }>;
      for (const s of status) expect(pids.has(s.pid)).toBe(true);
    }
  });
});
