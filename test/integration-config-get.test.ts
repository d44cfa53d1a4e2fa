/**
 * The modern selection (-g/-i repeated, --enabled/--disabled) and `config get`, on the shared
 * fleet fixture: config get must print, for every instance, what `postconf -c DIR -xh` prints,
 * also for $name expansions through user-defined parameters; --explicit what `postconf -nxh`
 * prints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET, FLEET_FIXTURE } from './helpers/fleet.js';
import { requireIntegration, Sandbox, shjoin } from './helpers/sandbox.js';

/** Settings that exercise expansion: user-defined parameters, ${x?{..}:{..}}, $(x), ${x:y}. */
const EXTRA = [
  "set -e",
  "for d in /etc/postfix-a /etc/postfix-anon /srv/pf-x; do",
  "  postconf -c $d -e 'banner_host = mx.$mydomain' 'mydomain = example.org' \\",
  "    'smtpd_banner = $banner_host ESMTP ${multi_instance_name?{$multi_instance_name}:{nameless}} $(mail_name)' \\",
  "    'mydestination = $myhostname, localhost.$mydomain, ${relayhost:no relay}'",
  "done",
  "postconf -c /etc/postfix-a -e 'myhostname = a.example.org' 'relayhost = [relay.$mydomain]:587' 'inet_interfaces = 127.0.0.2, [::1]'",
  "postconf -c /etc/postfix-anon -e 'myorigin = $mydomain' 'syslog_name = ${multi_instance_name:anon}'",
  // mynetworks left to postconf's computed default (style, interfaces, protocols), three ways.
  "postconf -c /etc/postfix -X mynetworks",
  "postconf -c /etc/postfix-anon -X mynetworks && postconf -c /etc/postfix-anon -e 'mynetworks_style = host' 'inet_protocols = ipv4'",
  "postconf -c /srv/pf-x -X mynetworks && postconf -c /srv/pf-x -e 'mynetworks_style = class'",
  "touch -d '-1 minute' /etc/postfix*/main.cf /srv/pf-*/main.cf",
].join('\n');

const PARAMETERS = [
  'myhostname', 'mydomain', 'myorigin', 'mydestination', 'smtpd_banner', 'relayhost', 'inet_interfaces',
  'banner_host', 'syslog_name', 'config_directory', 'queue_directory', 'data_directory', 'multi_instance_name',
  'multi_instance_group', 'multi_instance_enable', 'compatibility_level', 'alias_maps', 'relay_destination_concurrency_limit',
  'master_service_disable', 'authorized_submit_users', 'smtpd_tls_security_level', 'process_id_directory',
  'mynetworks', 'mynetworks_style', 'inet_protocols', 'smtpd_client_event_limit_exceptions',
];

interface Values { instance: string; configDirectory: string; values: Record<string, string | null> }

describe.runIf(requireIntegration())('config get and the modern selection, on a real fleet', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk(FLEET_FIXTURE);
    await sb.runOk(EXTRA);
  }, 120_000);
  afterAll(async () => {
    await sb?.dispose();
  });

  const listDirs = async (args: string[]): Promise<string[]> => {
    const r = await sb.exec(['postfleet', 'list', '--json', ...args]);
    expect(r.stderr).toBe('');
    return (JSON.parse(r.stdout) as Array<{ configDirectory: string }>).map((x) => x.configDirectory);
  };

  it('list: -g repeated is the union in list order; --enabled/--disabled narrow it', async () => {
    expect(await listDirs(['-g', 'out', '-g', 'mta'])).toEqual(['/etc/postfix-a', '/etc/postfix-b', '/srv/pf-x', '/srv/pf-y']);
    expect(await listDirs(['-i', 'pfx', '-g', 'mta', '-i', '-'])).toEqual(['/etc/postfix', '/etc/postfix-a', '/etc/postfix-b', '/srv/pf-x']);
    expect(await listDirs(['--disabled'])).toEqual(FLEET.filter((m) => !m.enabled).map((m) => m.dir));
    expect(await listDirs(['--enabled'])).toEqual(FLEET.filter((m) => m.enabled).map((m) => m.dir));
    expect(await listDirs(['-g', 'mta', '-g', 'out', '--enabled'])).toEqual(['/etc/postfix-a']);
  });

  it('nothing selected: the message names the filter', async () => {
    expect(await sb.exec(['postfleet', 'status', '-g', 'out', '--enabled', '--json'])).toEqual({
      stdout: '',
      stderr: "postfleet: no enabled instance in group 'out' (--enabled: all 2 selected are disabled)\n",
      exitCode: 1,
    });
    expect((await sb.exec(['postfleet', 'list', '-g', 'x', '-g', 'y'])).stderr).toBe("postfleet: no instance in group 'x' or in group 'y'\n");
  });

  it('exec --enabled and postfix with -g repeated before the command', async () => {
    const r = await sb.exec(['postfleet', 'exec', '--enabled', '--json', '--', 'sh', '-c', 'echo "$config_directory"']);
    expect(r.exitCode).toBe(0);
    expect((JSON.parse(r.stdout) as Array<{ output: string }>).map((x) => x.output)).toEqual(FLEET.filter((m) => m.enabled).map((m) => `${m.dir}\n`));
    const s = await sb.exec(['postfleet', 'postfix', '-g', 'mta', '-g', 'out', 'status', '--json']);
    const ran = (JSON.parse(s.stdout) as Array<{ instance: string; command: string }>).map((x) => x.instance);
    expect(ran).toEqual(['postfix-a', 'postfix-b', 'pfx', 'b']);
  });

  it('config get equals postconf -c DIR -xh on every instance', async () => {
    const r = await sb.exec(['postfleet', 'config', 'get', '--json', ...PARAMETERS]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const got = JSON.parse(r.stdout) as { parameters: string[]; instances: Values[] };
    expect(got.parameters).toEqual(PARAMETERS);
    expect(got.instances.map((i) => i.configDirectory)).toEqual(FLEET.map((m) => m.dir));
    for (const m of FLEET) {
      const ref = await sb.runOk(`postconf -c ${m.dir} -xh ${shjoin(PARAMETERS)} 2>/dev/null`);
      const mine = got.instances.find((i) => i.configDirectory === m.dir)!;
      // postconf prints nothing for a parameter the instance does not have (banner_host); we say null.
      expect(PARAMETERS.map((p) => mine.values[p]).filter((v) => v !== null), m.dir).toEqual(ref.stdout.replace(/\n$/, '').split('\n'));
    }
    // The fixture's expansions are there to be compared (a sanity check of the fixture).
    const a = got.instances.find((i) => i.configDirectory === '/etc/postfix-a')!;
    expect(a.values['smtpd_banner']).toBe('mx.example.org ESMTP postfix-a Postfix');
    expect(a.values['mydestination']).toBe('a.example.org, localhost.example.org,');
    const anon = got.instances.find((i) => i.configDirectory === '/etc/postfix-anon')!;
    expect(anon.values['smtpd_banner']).toBe('mx.example.org ESMTP nameless Postfix');
    expect(anon.values['syslog_name']).toBe('anon');
    // The computed mynetworks differ (`postconf -d` has one value for all: it is not that).
    const computed = ['/etc/postfix', '/etc/postfix-anon', '/srv/pf-x'].map((d) => got.instances.find((i) => i.configDirectory === d)!.values['mynetworks']);
    expect(new Set(computed).size, computed.join(' | ')).toBe(3);
  });

  it('config get --explicit equals postconf -c DIR -nxh', async () => {
    const r = await sb.exec(['postfleet', 'config', 'get', '--json', '--explicit', ...PARAMETERS]);
    expect(r.exitCode).toBe(0);
    const got = JSON.parse(r.stdout) as { instances: Values[] };
    for (const m of FLEET) {
      const ref = await sb.runOk(`postconf -c ${m.dir} -nxh ${shjoin(PARAMETERS)} 2>/dev/null`);
      const mine = got.instances.find((i) => i.configDirectory === m.dir)!;
      const set = PARAMETERS.map((p) => mine.values[p]).filter((v) => v !== null);
      expect(set, m.dir).toEqual(ref.stdout === '' ? [] : ref.stdout.replace(/\n$/, '').split('\n'));
    }
  });

  it('config get: table over a selection; unknown and bad names are one-line errors', async () => {
    const t = await sb.exec(['postfleet', 'config', 'get', '-g', 'mta', '-i', '/etc/postfix-anon', 'syslog_name', 'myhostname']);
    expect(t.exitCode).toBe(0);
    expect(t.stdout.split('\n')[0]).toMatch(/^INSTANCE\s+syslog_name\s+myhostname$/);
    expect(t.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['postfix-a', 'postfix-b', '/etc/postfix-anon']);
    expect(await sb.exec(['postfleet', 'config', 'get', 'no_such_parameter'])).toEqual({
      stdout: '',
      stderr: "postfleet: unknown parameter: 'no_such_parameter' (not a Postfix parameter, and set in no selected main.cf)\n",
      exitCode: 1,
    });
    // Set in some main.cf: known, as a user-defined parameter.
    const b = await sb.exec(['postfleet', 'config', 'get', '--json', 'banner_host']);
    expect(b.exitCode).toBe(0);
    expect((JSON.parse(b.stdout) as { instances: Values[] }).instances.map((i) => i.values['banner_host'])).toEqual([null, 'mx.example.org', null, 'mx.example.org', null, 'mx.example.org', null]);
    expect((await sb.exec(['postfleet', 'config', 'get', 'a=b'])).stderr).toBe("postfleet: bad parameter name: 'a=b'\n");
  });

  it('config get mynetworks where postconf cannot compute it: that instance fails with postconf\'s reason, the others answer', async () => {
    await sb.runOk("postconf -c /etc/postfix-b -X mynetworks && postconf -c /etc/postfix-b -e 'inet_interfaces = [::1]' && touch -d '-1 minute' /etc/postfix-b/main.cf");
    const ref = await sb.exec(['postconf', '-c', '/etc/postfix-b', '-h', 'mynetworks']);
    expect(ref.exitCode).not.toBe(0);
    expect(ref.stderr).toContain('postconf: fatal: config variable inet_interfaces: host not found: [::1]');
    const r = await sb.exec(['postfleet', 'config', 'get', '--json', '-g', 'mta', 'mynetworks']);
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      instances: [
        { configDirectory: '/etc/postfix-a', values: { mynetworks: expect.any(String) as string } },
        {
          configDirectory: '/etc/postfix-b',
          error: expect.stringMatching(/^\/etc\/postfix-b\/main\.cf: cannot compute the default of mynetworks: (\/usr\/sbin\/)?postconf: fatal: config variable inet_interfaces: host not found: \[::1\]$/) as string,
        },
      ],
    });
  });
});
