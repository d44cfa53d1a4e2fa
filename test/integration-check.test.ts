/**
 * postfleet check on a real fleet: a clean fleet (three running instances listening on their
 * own loopback addresses, in a network namespace of their own) is clean; then each problem
 * the check knows is seeded and must be found, with nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireIntegration, Sandbox } from './helpers/sandbox.js';

/** Primary + postfix-a, postfix-b: enabled, distinct addresses, no safety settings left, started. */
const CLEAN = String.raw`
set -e
postmulti -e init
postconf -e 'inet_interfaces = 127.0.0.1' 'master_service_disable =' 'maillog_file =' 'myhostname = primary.test'
postmulti -I postfix-a -G mta -e create
postmulti -I postfix-b -G mta -e create
n=2
for x in a b; do
  postconf -c /etc/postfix-$x -e "inet_interfaces = 127.0.0.$n" 'master_service_disable =' \
    'authorized_submit_users = static:anyone' 'multi_instance_enable = yes' "myhostname = $x.test"
  n=$((n+1))
done
touch -d '-1 minute' /etc/postfix*/main.cf /etc/postfix*/master.cf
# The masters bind their listeners in a network namespace of their own, never the host's.
unshare -n sh -c 'ip link set lo up && ip addr add 127.0.0.2/32 dev lo && ip addr add 127.0.0.3/32 dev lo && postfleet postfix start -P 1 >/dev/null'
`;

/** Every problem the check knows, seeded on top of CLEAN. */
const SEEDED = String.raw`
set -e
postmulti -e create config_directory=/etc/postfix-c queue_directory=/var/spool/postfix-c data_directory=/var/lib/postfix-c
postmulti -I postfix-d -e create
# e: enabled, never started, with both of create's safety settings: warnings only.
postmulti -I postfix-e -e create
postconf -c /etc/postfix-e -e 'multi_instance_enable = yes'
# d: enabled (never started), on a's address, with one of create's safety settings left, an
# unshared cache on a's file, and another mail_owner.
postconf -c /etc/postfix-d -e 'multi_instance_enable = yes' 'inet_interfaces = 127.0.0.2' 'master_service_disable =' \
  'syslog_name = mail-d' 'smtpd_tls_session_cache_database = btree:/var/lib/shared-cache' 'mail_owner = nobody'
postconf -c /etc/postfix-a -e 'smtpd_tls_session_cache_database = btree:/var/lib/shared-cache' 'myhostname = primary.test'
# b: disabled while it runs, logging as a.
postconf -c /etc/postfix-b -e 'multi_instance_enable = no' 'syslog_name = postfix-a'
# The primary passes mail to a, which has its host name.
postconf -e 'relayhost = [127.0.0.2]:25'
# A listed directory that is gone, and an instance nobody listed.
postconf -e "multi_instance_directories = $(postconf -h multi_instance_directories) /etc/postfix-gone"
mkdir /etc/postfix-stray && cp /etc/postfix-a/main.cf /etc/postfix-stray/
touch -d '-1 minute' /etc/postfix*/main.cf /etc/postfix*/master.cf
`;

interface Problem { severity: string; check: string; instances: string[]; settings: string[]; message: string }
interface Result { ok: boolean; counts: { error: number; warning: number }; problems: Problem[] }
const summary = (r: Result): string[] => r.problems.map((p) => `${p.severity} ${p.check} ${p.instances.join('+')}`).sort();

describe.runIf(requireIntegration())('postfleet check on a real fleet', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk(CLEAN);
  }, 180_000);
  afterAll(async () => {
    await sb?.dispose();
  });
  const masterPid = async (): Promise<string> => (await sb.runOk('tr -d " \\n" < /var/spool/postfix-a/pid/master.pid')).stdout;

  /** postfleet check --json ARGS, in the masters' network namespace (postfix check looks for inet_interfaces there). */
  const check = async (...args: string[]): Promise<{ exitCode: number; result: Result; stderr: string }> => {
    const r = await sb.exec(['nsenter', `--net=/proc/${await masterPid()}/ns/net`, 'postfleet', 'check', '--json', ...args]);
    return { exitCode: r.exitCode, result: JSON.parse(r.stdout) as Result, stderr: r.stderr };
  };

  it('a clean fleet is clean (exit 0), also with --strict and --postfix', async () => {
    const running = await sb.runOk("postfleet status --json | grep -c '\"running\": true' || true");
    expect(running.stdout.trim()).toBe('3');
    const r = await check('--strict', '--postfix');
    expect(r.result.problems).toEqual([]);
    expect(r.result).toEqual({ ok: true, counts: { error: 0, warning: 0 }, problems: [] });
    expect(r.exitCode).toBe(0);
    const plain = await sb.exec(['postfleet', 'check']);
    expect(plain).toEqual({ stdout: 'no problems found\n', stderr: '', exitCode: 0 });
  }, 120_000);

  it('finds each seeded problem, and nothing else', async () => {
    await sb.runOk(SEEDED);
    const r = await check();
    expect(summary(r.result)).toEqual(
      [
        'error listener-clash postfix-a+postfix-d',
        'error syslog-name -+/etc/postfix-c',
        'error syslog-name postfix-a+postfix-b',
        'error shared-path postfix-a+postfix-d',
        'error shared-install postfix-d',
        'warning missing-directory /etc/postfix-gone',
        'warning unlisted-instance /etc/postfix-stray',
        'warning syslog-name /etc/postfix-c',
        'warning syslog-name postfix-d',
        'warning myhostname -+postfix-a',
        'warning not-running postfix-d',
        'warning running-disabled postfix-b',
        'warning creation-safety postfix-d',
        'warning creation-safety postfix-e',
        'warning not-running postfix-e',
      ].sort(),
    );
    expect(r.exitCode).toBe(1);
    expect(r.result.ok).toBe(false);
    expect(r.result.counts).toEqual({ error: 5, warning: 10 });
    const clash = r.result.problems.find((p) => p.check === 'listener-clash')!;
    expect(clash.message).toBe('postfix-a and postfix-d both listen on 127.0.0.2:25: the second master cannot bind it');
    expect(clash.settings).toEqual(['/etc/postfix-a/master.cf:12 smtp inet', '/etc/postfix-d/master.cf:12 smtp inet']);
    const shared = r.result.problems.find((p) => p.check === 'shared-install')!;
    expect(shared.settings).toEqual(['/etc/postfix-d/main.cf: mail_owner = nobody', '/etc/postfix/main.cf: mail_owner = postfix']);
  }, 120_000);

  it('a selection keeps the problems that concern it; the table names them', async () => {
    const r = await check('-i', 'postfix-b');
    expect(summary(r.result)).toEqual(['error syslog-name postfix-a+postfix-b', 'warning running-disabled postfix-b']);
    const w = await check('--disabled', '-g', 'mta');
    expect(summary(w.result)).toEqual(['error syslog-name postfix-a+postfix-b', 'warning running-disabled postfix-b']);
    const table = await sb.exec(['postfleet', 'check', '-i', 'postfix-b']);
    expect(table.exitCode).toBe(1);
    expect(table.stdout).toMatch(/^#\s+SEVERITY\s+CHECK\s+INSTANCES\s+PROBLEM\n\s*1\s+error\s+syslog-name\s+postfix-a, postfix-b\s+2 instances log as 'postfix-a'/);
    expect(table.stdout).toContain('/etc/postfix-b/main.cf: syslog_name = postfix-a');
    expect(table.stdout.trimEnd().split('\n').at(-1)).toBe('1 error(s), 1 warning(s)');
  }, 60_000);

  it('warnings alone exit 0; --strict makes them fail', async () => {
    const c = await check('-i', '/etc/postfix-c');
    expect(summary(c.result)).toEqual(['error syslog-name -+/etc/postfix-c', 'warning syslog-name /etc/postfix-c']);
    expect(c.exitCode).toBe(1);
    // An instance with warnings only.
    const e = await check('-i', 'postfix-e');
    expect(summary(e.result)).toEqual(['warning creation-safety postfix-e', 'warning not-running postfix-e']);
    expect(e.exitCode).toBe(0);
    expect((await check('-i', 'postfix-e', '--strict')).exitCode).toBe(1);
  }, 60_000);

  it('--postfix folds postfix check messages in', async () => {
    await sb.runOk('touch /var/spool/postfix-a/maildrop/not-postfixs && chown root /var/spool/postfix-a/maildrop/not-postfixs');
    const r = await check('-i', 'postfix-a', '--postfix');
    const pc = r.result.problems.filter((p) => p.check === 'postfix-check');
    expect(pc.map((p) => `${p.severity} ${p.instances.join()} ${p.message}`)).toContainEqual(expect.stringMatching(/^warning postfix-a .*warning: .*maildrop\/not-postfixs/));
  }, 60_000);
});
