/**
 * Many hosts: one inventory of several hosts, one play that provisions all of them with
 * forks > 1, and a second run that changes nothing on any. In the sandbox each "host" is a
 * primary Postfix instance of its own (host variable primary_config_dir, e.g.
 * /etc/h1/postfix, with its own main.cf, queue and data directories, prepared with
 * `postfleet -c DIR init`), reached with connection: local; the same playbook gives every
 * host its own instances in its own directories, started by the postfix module.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnsibleInSandbox, buildCollection, requireAnsible, type BuiltCollection, type PlaybookResult } from './helpers/ansible.js';
import { PRISTINE_MAIN_CF, requireIntegration, Sandbox } from './helpers/sandbox.js';

const RUN = requireIntegration() && requireAnsible();
const HOSTS = ['h1', 'h2', 'h3'] as const;

const INVENTORY = `[mail]
${HOSTS.map((h) => `${h} primary_config_dir=/etc/${h}/postfix`).join('\n')}

[mail:vars]
ansible_connection=local
`;

const PLAYBOOK = `
- name: Postfix instances on every mail host
  hosts: mail
  module_defaults:
    group/postfleet.fleet.all:
      primary_config_dir: "{{ primary_config_dir }}"
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

describe.runIf(RUN)('ansible: many hosts in one play', () => {
  let sb: Sandbox;
  let coll: BuiltCollection;
  let an: AnsibleInSandbox;
  const show = (r: PlaybookResult): string => `exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`;
  const mainCfs = async (): Promise<string> =>
    (await sb.runOk('find /etc/postfix /etc/h1 /etc/h2 /etc/h3 -name main.cf -o -name master.cf | LC_ALL=C sort | xargs md5sum; find /etc/h1 /etc/h2 /etc/h3 -newer /etc/hosts-marker | LC_ALL=C sort')).stdout;

  beforeAll(async () => {
    [coll, sb] = await Promise.all([buildCollection(), Sandbox.create()]);
    an = await AnsibleInSandbox.create(sb, coll);
    for (const h of HOSTS) {
      await sb.writeFile(`/etc/${h}/postfix/main.cf`, `${PRISTINE_MAIN_CF}queue_directory = /var/spool/${h}/postfix\ndata_directory = /var/lib/${h}/postfix\n`);
      await sb.runOk(`set -e
cp -p /etc/postfix/master.cf /etc/${h}/postfix/master.cf
mkdir -p /var/spool/${h}/postfix /var/lib/${h}/postfix
postfleet init -c /etc/${h}/postfix >/dev/null`);
    }
    await sb.backdate('/etc/h*/postfix/main.cf');
    await an.write('hosts.ini', INVENTORY);
    await an.write('site.yml', PLAYBOOK);
  });
  afterAll(async () => {
    await sb?.dispose();
    coll?.dispose();
  });

  it('one play with forks > 1 provisions every host, each in its own directories; a second run changes nothing on any', async () => {
    const primaryBefore = await sb.readFile('/etc/postfix/main.cf');
    const first = await an.playbook('site.yml', { inventory: 'hosts.ini', forks: 3 });
    expect(first.exitCode, show(first)).toBe(0);
    for (const h of HOSTS) expect(first.recap[h], `${h}\n${first.recapText}`).toMatchObject({ ok: 2, changed: 2, failed: 0, unreachable: 0 });
    console.log(`first run:\n${first.recapText}`);

    const pids = new Set<number>();
    for (const h of HOSTS) {
      const list = JSON.parse((await sb.runOk(`postfleet list -c /etc/${h}/postfix --json`)).stdout) as Array<{ name: string | null; group: string | null; enabled: boolean; configDirectory: string }>;
      expect(list.map((l) => [l.name, l.group, l.enabled, l.configDirectory])).toEqual([
        [null, null, true, `/etc/${h}/postfix`],
        ['postfix-out', 'mta', true, `/etc/${h}/postfix-out`],
        ['postfix-in', 'mta', true, `/etc/${h}/postfix-in`],
      ]);
      await sb.backdate(`/etc/${h}/postfix-*/main.cf`);
      const values = await sb.runOk(
        `postconf -c /etc/${h}/postfix-out -h relayhost queue_directory data_directory && postconf -c /etc/${h}/postfix-in -h myhostname queue_directory`,
      );
      expect(values.stdout).toBe(
        `[relay.${h}.example]:587\n/var/spool/${h}/postfix-out\n/var/lib/${h}/postfix-out\nin.${h}.example\n/var/spool/${h}/postfix-in\n`,
      );
      const status = JSON.parse((await sb.runOk(`postfleet status -c /etc/${h}/postfix -g mta --json`)).stdout) as Array<{ instance: string; running: boolean; pid: number }>;
      expect(status.map((s) => [s.instance, s.running])).toEqual([
        ['postfix-out', true],
        ['postfix-in', true],
      ]);
      for (const s of status) pids.add(s.pid);
    }
    expect(pids.size).toBe(HOSTS.length * 2);
    // The sandbox's default primary is no host of the inventory: untouched.
    expect(await sb.readFile('/etc/postfix/main.cf')).toBe(primaryBefore);

    await sb.runOk('touch /etc/hosts-marker');
    const before = await mainCfs();
    const second = await an.playbook('site.yml', { inventory: 'hosts.ini', forks: 3 });
    expect(second.exitCode, show(second)).toBe(0);
    for (const h of HOSTS) expect(second.recap[h], `${h}\n${second.recapText}`).toMatchObject({ ok: 2, changed: 0, failed: 0, unreachable: 0 });
    console.log(`second run:\n${second.recapText}`);
    expect(await mainCfs()).toBe(before);
    for (const h of HOSTS) {
      const status = JSON.parse((await sb.runOk(`postfleet status -c /etc/${h}/postfix -g mta --json`)).stdout) as Array<{ pid: number }>;
      for (const s of status) expect(pids.has(s.pid)).toBe(true);
    }
  });
});
