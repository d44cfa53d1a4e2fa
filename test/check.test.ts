import { describe, expect, it } from 'vitest';
import { plannedInstanceFacts } from '../src/instances/check/facts.js';
import { postfixCheckProblems } from '../src/instances/check/postfix-check.js';
import { checkFleet, problemsConcerning, problemsIntroduced, settingPath, type FleetFacts, type InstanceFacts } from '../src/instances/check/problems.js';
import type { Instance } from '../src/instances/instance.js';

const DEFAULTS = new Map([
  ['syslog_name', '${multi_instance_name?{$multi_instance_name}:{postfix}}'],
  ['multi_instance_name', ''],
  ['myhostname', 'host.example'],
  ['inet_interfaces', 'all'],
  ['inet_protocols', 'all'],
  ['master_service_disable', ''],
  ['authorized_submit_users', 'static:anyone'],
  ['maillog_file', ''],
  ['data_directory', '/var/lib/postfix'],
  ['postscreen_cache_map', 'btree:$data_directory/postscreen_cache'],
  ['address_verify_map', 'btree:$data_directory/verify_cache'],
  ['smtpd_tls_session_cache_database', ''],
  ['smtp_tls_session_cache_database', ''],
  ['lmtp_tls_session_cache_database', ''],
  ['command_directory', '/usr/sbin'],
  ['daemon_directory', '/usr/lib/postfix/sbin'],
  ['shlib_directory', '/usr/lib/postfix'],
  ['mail_owner', 'postfix'],
  ['setgid_group', 'postdrop'],
  ['multi_instance_enable', 'no'],
  ['relayhost', ''],
  ['content_filter', ''],
  ['default_transport', 'smtp'],
  ['relay_transport', 'relay'],
]);
const SMTP = 'smtp inet n - y - - smtpd\npickup unix n - y 60 1 pickup\n';

function inst(dir: string, settings: Record<string, string>, opts: { master?: string; primary?: boolean; running?: boolean } = {}): InstanceFacts {
  const name = settings['multi_instance_name'];
  const i: Instance = {
    configDirectory: dir,
    queueDirectory: `/var/spool/${dir.slice(5)}`,
    dataDirectory: `/var/lib/${dir.slice(5)}`,
    name: name || undefined,
    group: undefined,
    enabled: opts.primary === true || settings['multi_instance_enable'] === 'yes',
    primary: opts.primary === true,
  };
  const s = new Map(Object.entries({ data_directory: i.dataDirectory, ...settings }));
  const f = plannedInstanceFacts(i, s, DEFAULTS, opts.master ?? SMTP);
  return { ...f, running: opts.running ?? i.enabled };
}
const PORTS = new Map([['smtp', 25], ['submission', 587]]);
const fleet = (instances: InstanceFacts[], more: Partial<FleetFacts> = {}): FleetFacts => ({ instances, broken: [], unlisted: [], port: (n) => PORTS.get(n), ...more });
const primary = inst('/etc/postfix', { inet_interfaces: '192.0.2.1' }, { primary: true });
const a = (over: Record<string, string> = {}, opts = {}) => inst('/etc/postfix-a', { multi_instance_name: 'postfix-a', multi_instance_enable: 'yes', inet_interfaces: '192.0.2.2', ...over }, opts);
const b = (over: Record<string, string> = {}, opts = {}) => inst('/etc/postfix-b', { multi_instance_name: 'postfix-b', multi_instance_enable: 'yes', inet_interfaces: '192.0.2.3', ...over }, opts);
const checks = (f: FleetFacts): string[] => checkFleet(f).map((p) => `${p.severity} ${p.check} ${p.instances.join('+')}`);

describe('checkFleet', () => {
  it('a clean fleet is clean', () => {
    expect(checkFleet(fleet([primary, a(), b()]))).toEqual([]);
  });
  it('listener clash: same address and port, or a wildcard, between enabled instances', () => {
    expect(checks(fleet([primary, a({ inet_interfaces: '192.0.2.1' }), b()]))).toEqual(['error listener-clash -+postfix-a']);
    const p = checkFleet(fleet([primary, a({ inet_interfaces: 'all' }), b()]));
    expect(p.map((x) => x.instances.join('+'))).toEqual(['-+postfix-a', 'postfix-a+postfix-b']);
    expect(p[0]!.message).toBe('- and postfix-a both listen on 192.0.2.1:25 and *:25: the second master cannot bind it');
    expect(p[0]!.settings).toEqual(['/etc/postfix/master.cf:1 smtp inet', '/etc/postfix-a/master.cf:1 smtp inet']);
  });
  it('listener clash: not with a disabled instance, nor a service switched off by master_service_disable', () => {
    expect(checks(fleet([primary, a({ inet_interfaces: '192.0.2.1', multi_instance_enable: 'no' }, { running: false })]))).toEqual([]);
    expect(checks(fleet([primary, a({ inet_interfaces: '192.0.2.1', master_service_disable: 'smtp/inet' })]))).toEqual([]);
  });
  it('listener clash: host:port in master.cf against inet_interfaces; IPv6; within one instance', () => {
    expect(checks(fleet([primary, a({}, { master: '192.0.2.1:smtp inet n - y - - smtpd\n' })]))).toEqual(['error listener-clash -+postfix-a']);
    expect(checks(fleet([primary, a({ inet_interfaces: '[2001:db8::1]' }), b({ inet_interfaces: '2001:DB8:0::1' })]))).toEqual(['error listener-clash postfix-a+postfix-b']);
    expect(checks(fleet([primary, a({}, { master: 'smtp inet n - y - - smtpd\n192.0.2.2:25 inet n - y - - smtpd\n' })]))).toEqual(['error listener-clash postfix-a']);
  });
  it('syslog_name: duplicates are errors; nameless without one and non-postfix names are warnings', () => {
    expect(checks(fleet([primary, a({ syslog_name: 'postfix-x' }), b({ syslog_name: 'postfix-x' })]))).toEqual(['error syslog-name postfix-a+postfix-b']);
    const nameless = inst('/srv/anon', { multi_instance_enable: 'yes', inet_interfaces: '192.0.2.9' });
    expect(checks(fleet([primary, nameless]))).toEqual(['error syslog-name -+/srv/anon', 'warning syslog-name /srv/anon']);
    expect(checks(fleet([primary, a({ syslog_name: 'mail-a' })]))).toEqual(['warning syslog-name postfix-a']);
  });
  it('myhostname: the same on instances that pass mail to each other', () => {
    const filter = a({ myhostname: 'mx.example', content_filter: 'smtp:[192.0.2.3]:25' });
    expect(checks(fleet([primary, filter, b({ myhostname: 'mx.example' })]))).toEqual(['warning myhostname postfix-a+postfix-b']);
    expect(checks(fleet([primary, filter, b({ myhostname: 'other.example' })]))).toEqual([]);
    // Same name, no mail between them: fine.
    expect(checks(fleet([primary, a({ myhostname: 'mx.example' }), b({ myhostname: 'mx.example' })]))).toEqual([]);
    // Through a master.cf -o content_filter and relayhost with a port name.
    const viaMaster = a({ myhostname: 'mx.example' }, { master: 'smtp inet n - y - - smtpd -o content_filter=lmtp:[192.0.2.3]:smtp\n' });
    expect(checks(fleet([primary, viaMaster, b({ myhostname: 'mx.example' })]))).toEqual(['warning myhostname postfix-a+postfix-b']);
    expect(checks(fleet([primary, a({ myhostname: 'mx.example', relayhost: '[192.0.2.3]' }), b({ myhostname: 'mx.example' })]))).toEqual(['warning myhostname postfix-a+postfix-b']);
  });
  it('shared paths: maillog_file and non-proxy cache maps', () => {
    expect(checks(fleet([primary, a({ maillog_file: '/var/log/postfix.log' }), b({ maillog_file: '/var/log/postfix.log' })]))).toEqual(['error shared-path postfix-a+postfix-b']);
    expect(checks(fleet([primary, a({ postscreen_cache_map: 'btree:/var/lib/ps' }), b({ smtpd_tls_session_cache_database: 'btree:/var/lib/ps' })]))).toEqual(['error shared-path postfix-a+postfix-b']);
    expect(checks(fleet([primary, a({ address_verify_map: 'proxy:btree:/v' }), b({ address_verify_map: 'proxy:btree:/v' })]))).toEqual([]);
    expect(checks(fleet([primary, a({ maillog_file: '/dev/stdout' }), b({ maillog_file: '/dev/stdout' })]))).toEqual([]);
    expect(settingPath('lmdb:/x/y')).toBe('/x/y');
    expect(settingPath('memcache:/etc/x.cf')).toBe('/etc/x.cf');
  });
  it('shared installation settings must be the primary’s', () => {
    const p = checkFleet(fleet([primary, a({ daemon_directory: '/opt/postfix/libexec', mail_owner: 'pf' })]));
    expect(p.map((x) => `${x.check} ${x.settings[0]}`)).toEqual([
      'shared-install /etc/postfix-a/main.cf: daemon_directory = /opt/postfix/libexec',
      'shared-install /etc/postfix-a/main.cf: mail_owner = pf',
    ]);
  });
  it('directories: listed but missing (broken entry or missing queue), unlisted ones', () => {
    const f = fleet([primary, { ...a(), missing: [{ param: 'queue_directory', path: '/var/spool/postfix-a' }] }], {
      broken: [{ configDirectory: '/etc/postfix-gone', primary: false, reason: 'cannot read /etc/postfix-gone/main.cf: No such file or directory' }, { configDirectory: '/etc/postfix-bad', primary: false, reason: 'bad' }],
      unlisted: ['/etc/postfix-old'],
    });
    expect(checks(f)).toEqual(['error broken-instance /etc/postfix-bad', 'warning missing-directory /etc/postfix-gone', 'warning missing-directory postfix-a', 'warning unlisted-instance /etc/postfix-old']);
  });
  it('running state: enabled but stopped, disabled but running; planned instances are neither', () => {
    expect(checks(fleet([primary, a({}, { running: false }), b({ multi_instance_enable: 'no' }, { running: true })]))).toEqual(['warning not-running postfix-a', 'warning running-disabled postfix-b']);
    expect(checks(fleet([primary, { ...a(), running: undefined }]))).toEqual([]);
  });
  it("create's safety settings left on an enabled instance", () => {
    const p = checkFleet(fleet([primary, a({ master_service_disable: 'inet', authorized_submit_users: '' })]));
    expect(p.map((x) => `${x.severity} ${x.check} ${x.instances.join()}`)).toEqual(['warning creation-safety postfix-a']);
    expect(p[0]!.settings).toEqual(['/etc/postfix-a/main.cf: master_service_disable = inet', '/etc/postfix-a/main.cf: authorized_submit_users = ']);
    expect(checks(fleet([primary, a({ master_service_disable: 'inet', multi_instance_enable: 'no' }, { running: false })]))).toEqual([]);
  });
  it('unreadable master.cf and main.cf expansion errors are errors', () => {
    expect(checks(fleet([primary, a({}, { master: 'bad line\n' })]))).toEqual(['error master-cf postfix-a']);
    expect(checks(fleet([primary, a({ myhostname: '${oops' })]))).toEqual(['error main-cf postfix-a']);
  });
});

describe('problemsConcerning / problemsIntroduced (for create and apply)', () => {
  it('keeps the problems of the selected instances', () => {
    const p = checkFleet(fleet([primary, a({ syslog_name: 'x-a' }), b({ syslog_name: 'x-b' })]));
    expect(problemsConcerning(p, new Set(['postfix-b'])).map((x) => x.instances)).toEqual([['postfix-b']]);
  });
  it('a planned instance: only what it adds', () => {
    const before = fleet([primary, a({ syslog_name: 'mail-a' })]);
    const planned = { ...b({ inet_interfaces: '192.0.2.2' }), running: undefined };
    expect(problemsIntroduced(before, fleet([...before.instances, planned])).map((x) => `${x.check} ${x.instances.join('+')}`)).toEqual(['listener-clash postfix-a+postfix-b']);
  });
});

describe('postfix check messages', () => {
  it('one problem per line; a failure without a message is one too', () => {
    const r = (instance: string, exitCode: number, output: string) => ({ instance, configDirectory: `/etc/${instance}`, command: [], exitCode, durationMs: 1, output });
    expect(postfixCheckProblems([r('a', 0, ''), r('b', 0, 'postfix-b/postfix-script: warning: not owned by postfix: /x\n'), r('c', 1, 'postfix: fatal: bad\n'), r('d', 1, '')]).map((p) => `${p.severity} ${p.instances[0]} ${p.message}`)).toEqual([
      'warning b postfix-b/postfix-script: warning: not owned by postfix: /x',
      'error c postfix: fatal: bad',
      'error d postfix check failed (exit 1)',
    ]);
  });
});

describe('problemsAddedBy (the API for create and apply)', () => {
  it('reads the fleet from its files and reports only what the planned instance adds', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { loadFleet } = await import('../src/instances/registry.js');
    const { problemsAddedBy } = await import('../src/instances/check/facts.js');
    const root = mkdtempSync(`${tmpdir()}/postfleet-planned-`);
    try {
      const master = 'smtp inet n - y - - smtpd\n';
      const dirs = { p: `${root}/postfix`, a: `${root}/postfix-a` };
      for (const d of Object.values(dirs)) mkdirSync(d);
      writeFileSync(`${dirs.p}/main.cf`, `multi_instance_enable = yes\nmulti_instance_directories = ${dirs.a}\ninet_interfaces = 192.0.2.1\n`);
      writeFileSync(`${dirs.a}/main.cf`, `multi_instance_name = postfix-a\nmulti_instance_enable = yes\nqueue_directory = ${root}/qa\ndata_directory = ${root}/da\ninet_interfaces = 192.0.2.2\n`);
      for (const d of Object.values(dirs)) writeFileSync(`${d}/master.cf`, master);
      const defaults = new Map([...DEFAULTS, ['command_directory', root], ['daemon_directory', root], ['shlib_directory', root], ['meta_directory', root], ['queue_directory', `${root}/qp`], ['config_directory', dirs.p], ['postmulti_start_commands', 'start'], ['postmulti_stop_commands', 'stop'], ['postmulti_control_commands', 'reload'], ['multi_instance_directories', ''], ['multi_instance_group', '']]);
      const fleet = loadFleet({ configDirectory: dirs.p, defaults });
      const b: Instance = { configDirectory: `${root}/postfix-b`, queueDirectory: `${root}/qb`, dataDirectory: `${root}/db`, name: 'postfix-b', group: undefined, enabled: true, primary: false };
      const planned = plannedInstanceFacts(b, new Map([['multi_instance_name', 'postfix-b'], ['data_directory', b.dataDirectory], ['syslog_name', 'postfix-a'], ['inet_interfaces', '192.0.2.2']]), defaults, master);
      const added = problemsAddedBy(fleet, [planned]).map((p) => `${p.severity} ${p.check} ${p.instances.join('+')}`);
      // The fleet's own problems (its masters are not running) are not the new instance's.
      expect(added).toEqual(['error listener-clash postfix-a+postfix-b', 'error syslog-name postfix-a+postfix-b']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
