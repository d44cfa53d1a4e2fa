/**
 * Roll-outs on real Postfix instances listening on loopback ports (a sandbox with its own
 * network namespace): a good change rolls through every batch; a change that breaks smtpd
 * at the greeting, and one that only fails at RCPT, are caught by the first batch's probe and
 * rolled back while the other instances are never touched; --max-failed lets a failed
 * instance be undone alone; an undo never overwrites a main.cf someone changed meanwhile;
 * a listener that does not come back after a restart stops the roll-out; bad input changes
 * nothing; SIGTERM leaves every instance fully old or fully new, and the report says which.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefusal, treeSnapshot } from './helpers/lifecycle.js';
import { listeningFleet, startPolicyHold } from './helpers/listeners.js';
import { budget, waitFor } from './helpers/timing.js';
import { requireIntegration, Sandbox, shq } from './helpers/sandbox.js';

interface Step {
  step: string;
  ok: boolean;
  durationMs: number;
  detail?: string;
}
interface Member {
  instance: string;
  batch: number | null;
  outcome: string;
  carriesChange: boolean | null;
  changes: string[];
  steps: Step[];
  probe: { healthy: boolean; master: { pid: number | null }; services: Array<{ replies: Record<string, string> }>; error?: string } | null;
  error?: string;
  durationMs: number;
}
interface Report {
  changed: boolean;
  dryRun: boolean;
  activation: string;
  batchSize: number;
  batches: number;
  completed: boolean;
  stopped: { batch: number; reason: string } | null;
  interrupted: string | null;
  failures: number;
  instances: Member[];
  durationMs: number;
}

const FLEET = [
  { name: 'postfix-a', port: 2501 },
  { name: 'postfix-b', port: 2502 },
  { name: 'postfix-c', port: 2503 },
  { name: 'postfix-d', port: 2504 },
];
const DIRS = FLEET.map((f) => `/etc/${f.name}`);

/** Each main.cf's checksum and mtime (to the nanosecond): "never touched" is both unchanged. */
async function fingerprints(sb: Sandbox, dirs: readonly string[] = DIRS): Promise<Record<string, string>> {
  const out = await sb.runOk(`for d in ${dirs.join(' ')}; do echo "$d $(md5sum < $d/main.cf | cut -c1-32) $(stat -c %.9Y $d/main.cf)"; done`);
  return Object.fromEntries(out.stdout.trim().split('\n').map((l) => [l.split(' ')[0]!, l.split(' ').slice(1).join(' ')]));
}

async function masters(sb: Sandbox): Promise<Record<string, string>> {
  const out = await sb.runOk(`for n in a b c d; do echo "postfix-$n $(tr -d ' ' < /var/spool/postfix-$n/pid/master.pid)"; done`);
  return Object.fromEntries(out.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

function outcomes(r: Report): Array<[string, number | null, string, boolean | null]> {
  return r.instances.map((i) => [i.instance, i.batch, i.outcome, i.carriesChange]);
}

/** For a describe block: a sandbox with its own network, the fleet listening in it, handed to `use`; disposed after. */
function listeningSandbox(fleet: typeof FLEET, use: (sb: Sandbox) => void): void {
  let made: Sandbox | undefined;
  beforeAll(async () => {
    made = await Sandbox.create({ network: 'private' });
    use(made);
    await made.runOk(listeningFleet(fleet));
  }, budget(10));
  afterAll(async () => {
    await made?.dispose();
  });
}

/** postfleet ARGS --json in the sandbox: its report (stdout) and exit status. */
async function rollIn(sb: Sandbox, args: string): Promise<{ report: Report; exitCode: number; stderr: string }> {
  const r = await sb.run(`postfleet ${args} --json`);
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`not JSON (exit ${r.exitCode}): ${r.stdout}\n${r.stderr}`);
  }
  return { report, exitCode: r.exitCode, stderr: r.stderr };
}

const steps = (m: Member): string[] => m.steps.map((s) => `${s.step}:${s.ok ? 'ok' : 'failed'}`);

describe.runIf(requireIntegration())('rolling configuration changes', () => {
  let sb: Sandbox;
  listeningSandbox(FLEET, (made) => (sb = made));

  const roll = (args: string): ReturnType<typeof rollIn> => rollIn(sb, args);

  it('a good change rolls through every batch: each instance edited, reloaded (same master), probed, and serving it', async () => {
    const before = await masters(sb);
    const { report, exitCode, stderr } = await roll("config set -g mta 'smtpd_banner=$myhostname ESMTP rolled' --rolling --batch 2");
    expect(exitCode, stderr).toBe(0);
    expect([report.completed, report.stopped, report.changed, report.batchSize, report.batches, report.failures]).toEqual([true, null, true, 2, 2, 0]);
    expect(outcomes(report)).toEqual([
      ['postfix-a', 1, 'done', true],
      ['postfix-b', 1, 'done', true],
      ['postfix-c', 2, 'done', true],
      ['postfix-d', 2, 'done', true],
    ]);
    for (const m of report.instances) {
      expect(steps(m)).toEqual(['edit:ok', 'reload:ok', 'probe:ok']);
      expect(m.changes).toEqual([`edit /etc/${m.instance}/main.cf: smtpd_banner = $myhostname ESMTP rolled`]);
      expect(m.probe?.services[0]?.replies.greeting).toBe(`220 ${m.instance.replace('postfix-', '')}.example ESMTP rolled`);
      expect(String(m.probe?.master.pid)).toBe(before[m.instance]);
    }
    for (const d of DIRS) expect(await sb.readFile(`${d}/main.cf`)).toMatch(/^smtpd_banner = \$myhostname ESMTP rolled$/m);
  });

  it('progress without --json: batch x of y, each instance step by step, the probe’s result, and a summary', async () => {
    const r = await sb.run("postfleet config unset -g mta smtpd_banner --rolling --batch 50%");
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('batch 1 of 2: postfix-a, postfix-b');
    expect(lines).toContain('batch 2 of 2: postfix-c, postfix-d');
    expect(r.stdout).toMatch(/^ {2}postfix-a: edit: ok \(1 change\), \d+\.\d\d s$/m);
    expect(r.stdout).toMatch(/^ {2}postfix-a: reload: ok, \d+\.\d\d s$/m);
    expect(r.stdout).toMatch(/^ {2}postfix-d: probe: healthy \(master \d+; 127\.0\.0\.1:2504 smtpd\), \d+\.\d\d s$/m);
    expect(lines.slice(-4)).toEqual(['rolled out: 2 batches', 'done: postfix-a, postfix-b, postfix-c, postfix-d', 'carry the change: postfix-a, postfix-b, postfix-c, postfix-d', '']);
  });

  it('on a terminal: a live task list per batch, each instance’s title following its steps, then its outcome', async () => {
    const r = await sb.run("stty rows 40 cols 160; postfleet config set -i a -i b 'smtpd_banner=$myhostname ESMTP live' --rolling", { tty: true });
    expect(r.exitCode, r.stdout).toBe(0);
    // eslint-disable-next-line no-control-regex -- the terminal's escape sequences, taken out
    const screen = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(screen).toMatch(/^batch 1 of 2\n/m);
    expect(screen).toMatch(/^batch 2 of 2\n/m);
    expect(screen).toMatch(/postfix-a: reload …/);
    expect(screen).toMatch(/postfix-b: probe: healthy \(master \d+; 127\.0\.0\.1:2502 smtpd\)/);
    expect(screen).toMatch(/✔ postfix-a: done\n/);
    expect(screen).toMatch(/✔ postfix-b: done\n/);
    expect(screen).toMatch(/rolled out: 2 batches\ndone: postfix-a, postfix-b\ncarry the change: postfix-a, postfix-b\n$/);
    await sb.runOk("postfleet config unset -i a -i b smtpd_banner --reload >/dev/null && touch -d '-1 minute' /etc/postfix*/main.cf");
  });

  /** A breaking change: caught by batch 1, undone there, nobody else touched; answers the report. */
  async function caughtByFirstBatch(setting: string, batch: number): Promise<Report> {
    const untouched = DIRS.slice(batch);
    const prints = await fingerprints(sb);
    const texts = Object.fromEntries(await Promise.all(DIRS.map(async (d) => [d, await sb.readFile(`${d}/main.cf`)] as const)));
    const { report, exitCode } = await roll(`config set -g mta ${shq(setting)} --rolling --batch ${batch}`);
    expect(exitCode).toBe(1);
    expect(report.completed).toBe(false);
    expect(report.stopped?.batch).toBe(1);
    expect(report.changed).toBe(false);
    expect(outcomes(report)).toEqual(FLEET.map((f, k) => [f.name, k < batch ? 1 : 2 + Math.floor((k - batch) / batch), k < batch ? 'rolled back' : 'not reached', false]));
    for (const m of report.instances.slice(0, batch)) expect(steps(m)).toEqual(['edit:ok', 'reload:ok', 'probe:failed', 'undo:ok', 'reload back:ok', 'probe again:ok']);
    // The first batch has its old text back; the others were never touched (text and time).
    for (const d of DIRS.slice(0, batch)) expect(await sb.readFile(`${d}/main.cf`)).toBe(texts[d]);
    const now = await fingerprints(sb);
    for (const d of untouched) expect(now[d], d).toBe(prints[d]);
    // And all of them serve as before.
    expect((await sb.run('postfleet probe -g mta')).exitCode).toBe(0);
    return report;
  }

  it('a change that breaks smtpd at the greeting (wrapper-mode TLS without a certificate) is caught by the first batch, rolled back; the others are never touched', async () => {
    const report = await caughtByFirstBatch('smtpd_tls_wrappermode=yes', 1);
    const a = report.instances[0]!;
    expect(a.steps[2]!.detail).toMatch(/^127\.0\.0\.1:2501 \(master\.cf line 138\): 127\.0\.0\.1:2501: /);
    expect(report.stopped?.reason).toBe('1 of 1 instance of batch 1 failed: postfix-a');
  });

  it('a change that fails only at RCPT (an unknown restriction name) is caught by the first batch of two, rolled back; the others are never touched', async () => {
    const report = await caughtByFirstBatch('smtpd_client_restrictions=no_such_restriction', 2);
    for (const m of report.instances.slice(0, 2)) {
      expect(m.steps[2]!.detail).toMatch(/: RCPT TO:<postmaster@[ab]\.example>: 451 4\.3\.5 Server configuration error$/);
      expect(m.error).toMatch(/^probe: .*451 4\.3\.5/);
    }
  });

  it('--max-failed 1: the one instance the change breaks is undone alone and the roll-out goes on; the next failure would stop it', async () => {
    // A lookup table every instance has but postfix-b: its RCPT gets "451 4.3.5 … Server configuration error".
    await sb.runOk("for n in a c d; do printf '127.0.0.9 REJECT\\n' > /etc/postfix-$n/access && postmap /etc/postfix-$n/access; done");
    const setting = 'smtpd_client_restrictions=check_client_access hash:$config_directory/access';
    const b = await sb.readFile('/etc/postfix-b/main.cf');
    const { report, exitCode } = await roll(`config set -g mta ${shq(setting)} --rolling --max-failed 1`);
    expect(exitCode).toBe(1);
    expect([report.completed, report.failures]).toEqual([true, 1]);
    expect(outcomes(report)).toEqual([
      ['postfix-a', 1, 'done', true],
      ['postfix-b', 2, 'rolled back', false],
      ['postfix-c', 3, 'done', true],
      ['postfix-d', 4, 'done', true],
    ]);
    expect(report.instances[1]!.error).toMatch(/^probe: .*RCPT TO:<postmaster@b\.example>: 451 4\.3\.5 .*Server configuration error$/);
    expect(await sb.readFile('/etc/postfix-b/main.cf')).toBe(b);
    for (const n of ['a', 'c', 'd']) expect(await sb.readFile(`/etc/postfix-${n}/main.cf`)).toContain('smtpd_client_restrictions = check_client_access hash:$config_directory/access\n');
    await sb.runOk("postfleet config unset -g mta smtpd_client_restrictions --reload >/dev/null && touch -d '-1 minute' /etc/postfix*/main.cf");
  });

  it('an undo never overwrites a main.cf that a postconf -e changed meanwhile: that instance keeps both and is reported, exit 1', async () => {
    // postfix-a's RCPT waits on a policy server that holds it: meanwhile the operator edits its main.cf.
    const policy = await startPolicyHold(sb, 9998);
    const rolling = sb.run(`postfleet config set -i a 'smtpd_client_restrictions=check_policy_service inet:127.0.0.1:9998' --rolling --probe-timeout 60s --json`);
    await policy.held();
    await sb.runOk("postconf -c /etc/postfix-a -e 'relayhost = [operator.example]'");
    await policy.release();
    const r = await rolling;
    expect(r.exitCode).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    const a = report.instances[0]!;
    expect([a.outcome, a.carriesChange]).toEqual(['failed', true]);
    expect(steps(a)).toEqual(['edit:ok', 'reload:ok', 'probe:failed', 'undo:failed']);
    expect(a.steps[3]!.detail).toBe('/etc/postfix-a/main.cf: changed by someone else since postfleet wrote it: left as it is');
    expect(a.error).toMatch(/451 4\.3\.5 .*; not undone: \/etc\/postfix-a\/main\.cf: changed by someone else since postfleet wrote it: left as it is$/);
    const text = await sb.readFile('/etc/postfix-a/main.cf');
    expect(text).toContain('smtpd_client_restrictions = check_policy_service inet:127.0.0.1:9998\n');
    expect(text).toContain('relayhost = [operator.example]\n');
    await sb.runOk("postfleet config unset -i a smtpd_client_restrictions relayhost --reload >/dev/null && touch -d '-1 minute' /etc/postfix*/main.cf");
  });

  it('apply --rolling: the sections that change, batch by batch; an unchanged one is left out of the batches', async () => {
    await sb.writeFile('/etc/fleet.ini', '[postfix-a]\nset.smtpd_banner = $myhostname ESMTP applied\n\n[postfix-b]\n\n[postfix-c]\nset.smtpd_banner = $myhostname ESMTP applied\n');
    const { report, exitCode, stderr } = await roll('apply /etc/fleet.ini --rolling');
    expect(exitCode, stderr).toBe(0);
    expect(outcomes(report)).toEqual([
      ['postfix-a', 1, 'done', true],
      ['postfix-c', 2, 'done', true],
      ['postfix-b', null, 'unchanged', false],
    ]);
    expect(report.instances[1]!.probe?.services[0]?.replies.greeting).toBe('220 c.example ESMTP applied');
    await sb.runOk("postfleet config unset -g mta smtpd_banner --reload >/dev/null && touch -d '-1 minute' /etc/postfix*/main.cf");
  });

  it('--dry-run --rolling shows the batches and changes nothing', async () => {
    const before = await treeSnapshot(sb);
    const r = await sb.run("postfleet config set -g mta 'smtpd_banner=x' --rolling --batch 3 --dry-run");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('would roll 4 instances in 2 batches of 3:\n  batch 1: postfix-a, postfix-b, postfix-c\n  batch 2: postfix-d\n');
    expect(await treeSnapshot(sb)).toBe(before);
  });

  it('bad input: a bad batch size, duration or count, a stray roll-out flag: one line naming it, nothing changed', async () => {
    const before = await treeSnapshot(sb);
    const cases: Array<[string, string]> = [
      ['config set -g mta smtpd_banner=x --rolling --batch 0', "postfleet: bad batch size '0': give a number of instances (1 or more) or a percentage (1% to 100%)"],
      ['config set -g mta smtpd_banner=x --rolling --batch 150%', "postfleet: bad batch size '150%'"],
      ['config set -g mta smtpd_banner=x --rolling --batch two', "postfleet: bad batch size 'two'"],
      ['config set -g mta smtpd_banner=x --rolling --pause 10x', "postfleet: bad --pause '10x': give a duration such as 500ms, 10s, 2m or 1h"],
      ['config set -g mta smtpd_banner=x --rolling --pause -1s', "--pause"],
      ['config set -g mta smtpd_banner=x --rolling --max-failed -1', "--max-failed"],
      ['config set -g mta smtpd_banner=x --rolling --max-failed many', "postfleet: bad --max-failed 'many': give a number of instances (0 or more)"],
      ['config set -g mta smtpd_banner=x --rolling --probe-timeout 0s', "postfleet: bad --probe-timeout '0s'"],
      ['config set -g mta smtpd_banner=x --batch 2', 'postfleet: --batch is a roll-out setting: give --rolling too'],
      ['apply /etc/fleet.ini --rolling --batch 0%', "postfleet: bad batch size '0%'"],
      ['postfix stop --rolling', "postfleet: cannot roll 'stop': --rolling works with reload, restart and start"],
      ['postfix flush --rolling', "postfleet: cannot roll 'flush'"],
      ['postfix reload --batch 2', 'postfleet: --batch is a roll-out setting: give --rolling too'],
      ['postfix reload --rolling --pause soon', "postfleet: bad --pause 'soon'"],
    ];
    for (const [args, message] of cases) expectRefusal(await sb.run(`postfleet ${args}`), message);
    expect(await treeSnapshot(sb)).toBe(before);
  });
});

describe.runIf(requireIntegration())('rolling reload, restart and start', () => {
  let sb: Sandbox;
  listeningSandbox(FLEET, (made) => (sb = made));

  const roll = (args: string): ReturnType<typeof rollIn> => rollIn(sb, args);

  it('reload --rolling: every instance reloaded and probed, its master the same', async () => {
    const before = await masters(sb);
    const { report, exitCode, stderr } = await roll('postfix reload -g mta --rolling --batch 3');
    expect(exitCode, stderr).toBe(0);
    expect(outcomes(report)).toEqual(FLEET.map((f, k) => [f.name, k < 3 ? 1 : 2, 'done', null]));
    for (const m of report.instances) expect(String(m.probe?.master.pid)).toBe(before[m.instance]);
    expect(await masters(sb)).toEqual(before);
  });

  it('restart --rolling: a new master for each; a listener that does not come back stops the roll-out, later instances untouched', async () => {
    // postfix-c's master.cf now names a port another process holds: its restart cannot bring the listener back.
    await sb.runOk(`node -e 'require("net").createServer(() => {}).listen(2599, "127.0.0.1", () => require("fs").writeFileSync("/var/lib/2599", ""))' >/dev/null 2>&1 &`);
    await waitFor('the port squatter', () => sb.exists('/var/lib/2599'));
    await sb.runOk("postconf -c /etc/postfix-c -M# 127.0.0.1:2503/inet && postconf -c /etc/postfix-c -Me '127.0.0.1:2599/inet=127.0.0.1:2599 inet n - y - - smtpd'");
    const before = await masters(sb);
    const { report, exitCode } = await roll('postfix restart -g mta --rolling');
    expect(exitCode).toBe(1);
    expect(outcomes(report)).toEqual([
      ['postfix-a', 1, 'done', null],
      ['postfix-b', 2, 'done', null],
      ['postfix-c', 3, 'failed', null],
      ['postfix-d', 4, 'not reached', null],
    ]);
    expect(report.stopped).toEqual({ batch: 3, reason: '1 of 1 instance of batch 3 failed: postfix-c' });
    for (const n of ['postfix-a', 'postfix-b']) expect(String(report.instances.find((m) => m.instance === n)?.probe?.master.pid)).not.toBe(before[n]);
    expect(report.instances[2]!.error).toMatch(/^restart: start exit 1: .*fatal: mail system startup failed$/);
    const after = await masters(sb);
    expect(after['postfix-d']).toBe(before['postfix-d']);
    // Put postfix-c back as it was, running.
    await sb.runOk("postconf -c /etc/postfix-c -MX 127.0.0.1:2599/inet && postconf -c /etc/postfix-c -Me '127.0.0.1:2503/inet=127.0.0.1:2503 inet n - y - - smtpd' && postfix -c /etc/postfix-c start 2>/dev/null");
  });

  it('restart --rolling with a breaking main.cf waiting on disk: the master comes back, its smtpd does not greet: the probe stops the roll-out', async () => {
    await sb.runOk("postconf -c /etc/postfix-b -e smtpd_tls_wrappermode=yes && touch -d '-1 minute' /etc/postfix-b/main.cf");
    const { report, exitCode } = await roll('postfix restart -g mta --rolling --batch 2');
    expect(exitCode).toBe(1);
    expect(outcomes(report).map((o) => o[2])).toEqual(['done', 'failed', 'not reached', 'not reached']);
    expect(steps(report.instances[1]!)).toEqual(['restart:ok', 'probe:failed']);
    expect(report.instances[1]!.probe?.master.pid).not.toBeNull();
    await sb.runOk("postconf -c /etc/postfix-b -X smtpd_tls_wrappermode && touch -d '-1 minute' /etc/postfix-b/main.cf && postfix -c /etc/postfix-b reload 2>/dev/null");
  });

  it('start --rolling of stopped instances: each started and probed; one already running fails as postfix start fails', async () => {
    await sb.runOk('postfix -c /etc/postfix-c stop 2>/dev/null; postfix -c /etc/postfix-d stop 2>/dev/null');
    const { report, exitCode } = await roll('postfix start -i c -i d --rolling --batch 2');
    expect(exitCode, JSON.stringify(report)).toBe(0);
    expect(outcomes(report)).toEqual([
      ['postfix-c', 1, 'done', null],
      ['postfix-d', 1, 'done', null],
    ]);
    const again = await roll('postfix start -i c --rolling');
    expect(again.exitCode).toBe(1);
    expect(again.report.instances[0]!.error).toMatch(/^start: exit 1: .*already running/);
  });
});

describe.runIf(requireIntegration())('SIGTERM mid-rollout', () => {
  let sb: Sandbox;
  listeningSandbox(FLEET.slice(0, 3), (made) => (sb = made));

  /** postfleet in the background: its pid; its --json report, progress (stderr, with --json) and exit status in files. */
  async function background(args: string): Promise<{ pid: number; done: () => Promise<{ exitCode: number; report: Report }> }> {
    const out = (await sb.runOk(`rm -f /var/lib/rollout.*; (postfleet ${args} --json >/var/lib/rollout.json 2>/var/lib/rollout.err; echo $? >/var/lib/rollout.exit) >/dev/null 2>&1 & echo $!`)).stdout.trim();
    const shell = Number(out);
    const pid = await waitFor('postfleet to start', async () => {
      const r = await sb.run(`pgrep -P ${shell} -f run.js`);
      return r.exitCode === 0 ? Number(r.stdout.trim().split('\n')[0]) : undefined;
    });
    return {
      pid,
      done: async () => {
        await waitFor('postfleet to exit', () => sb.exists('/var/lib/rollout.exit'), { timeoutMs: 120_000 });
        return { exitCode: Number((await sb.readFile('/var/lib/rollout.exit')).trim()), report: JSON.parse(await sb.readFile('/var/lib/rollout.json')) as Report };
      },
    };
  }

  /** Resolves once postfleet's progress (on stderr with --json) has a line matching `pattern`. */
  const progressLine = (pattern: string): Promise<unknown> =>
    waitFor(`progress line ${pattern}`, async () => (await sb.run(`grep -qE ${shq(pattern)} /var/lib/rollout.err`)).exitCode === 0, { timeoutMs: 120_000 });

  it('during the pause after batch 1: batch 1 fully new (edited, reloaded, probed), the others fully old; exit 143', async () => {
    const before = await fingerprints(sb, DIRS.slice(1, 3));
    const run = await background("config set -g mta 'smtpd_banner=$myhostname ESMTP signal' --rolling --pause 10m");
    await progressLine('^pause ');
    await sb.runOk(`kill -TERM ${run.pid}`);
    const { exitCode, report } = await run.done();
    expect(exitCode).toBe(143);
    expect(report.interrupted).toBe('SIGTERM');
    expect(outcomes(report)).toEqual([
      ['postfix-a', 1, 'done', true],
      ['postfix-b', 2, 'not reached', false],
      ['postfix-c', 3, 'not reached', false],
    ]);
    expect(report.instances[0]!.probe?.services[0]?.replies.greeting).toBe('220 a.example ESMTP signal');
    expect(await fingerprints(sb, DIRS.slice(1, 3))).toEqual(before);
    expect(report.stopped).toEqual({ batch: 2, reason: 'interrupted by SIGTERM before batch 2' });
    expect(await sb.readFile('/var/lib/rollout.err')).toMatch(/^stopped at batch 2: interrupted by SIGTERM before batch 2$/m);
    await sb.runOk("postfleet config unset -g mta smtpd_banner --reload >/dev/null && touch -d '-1 minute' /etc/postfix*/main.cf");
  });

  it('during batch 2’s probe: batch 2 is undone and reloaded back (fully old), batch 1 stays fully new, batch 3 untouched; exit 143', async () => {
    // The policy server answers batch 1's smtpd, and holds batch 2's RCPT: postfleet is then probing.
    const policy = await startPolicyHold(sb, 9997, 1);
    const old = { b: await sb.readFile('/etc/postfix-b/main.cf'), c: await fingerprints(sb, DIRS.slice(2, 3)) };
    const run = await background("config set -g mta 'smtpd_client_restrictions=check_policy_service inet:127.0.0.1:9997' --rolling --probe-timeout 60s");
    await policy.held();
    await sb.runOk(`kill -TERM ${run.pid}`);
    const { exitCode, report } = await run.done();
    await policy.release();
    expect(exitCode).toBe(143);
    expect(report.interrupted).toBe('SIGTERM');
    expect(outcomes(report)).toEqual([
      ['postfix-a', 1, 'done', true],
      ['postfix-b', 2, 'rolled back', false],
      ['postfix-c', 3, 'not reached', false],
    ]);
    expect(steps(report.instances[1]!)).toEqual(['edit:ok', 'reload:ok', 'probe:failed', 'undo:ok', 'reload back:ok']);
    expect(report.instances[1]!.error).toBe('interrupted by SIGTERM');
    expect(report.stopped).toEqual({ batch: 2, reason: 'interrupted by SIGTERM' });
    expect(await sb.readFile('/etc/postfix-b/main.cf')).toBe(old.b);
    expect(await fingerprints(sb, DIRS.slice(2, 3))).toEqual(old.c);
    expect(await sb.readFile('/etc/postfix-a/main.cf')).toContain('smtpd_client_restrictions = check_policy_service inet:127.0.0.1:9997\n');
    // Live: postfix-b serves its old configuration again (the policy server, which now refuses everyone, is not asked).
    expect((await sb.run('postfleet probe -i b --probe-timeout 20s')).exitCode).toBe(0);
    await sb.runOk("postfleet config unset -g mta smtpd_client_restrictions --reload >/dev/null && touch -d '-1 minute' /etc/postfix*/main.cf");
  });

  it('SIGINT on a terminal, the live task list drawn: the same safe stop (the batch undone and reloaded back), exit 130', async () => {
    const policy = await startPolicyHold(sb, 9996);
    const old = await sb.readFile('/etc/postfix-a/main.cf');
    const tty = sb.run(
      "stty rows 40 cols 160; postfleet config set -g mta 'smtpd_client_restrictions=check_policy_service inet:127.0.0.1:9996' --rolling --probe-timeout 60s & echo $! > /var/lib/rollout.pid; wait $!; echo \"exit $?\"",
      { tty: true },
    );
    await policy.held();
    await sb.runOk('kill -INT $(cat /var/lib/rollout.pid)');
    const r = await tty;
    await policy.release();
    expect(r.stdout).toMatch(/exit 130\n$/);
    // eslint-disable-next-line no-control-regex -- the terminal's escape sequences, taken out
    const screen = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(screen).toMatch(/postfix-a: rolled back \(interrupted by SIGINT\)/);
    expect(screen).toMatch(/^stopped at batch 1: interrupted by SIGINT$/m);
    expect(screen).toMatch(/^not reached: postfix-b, postfix-c$/m);
    expect(await sb.readFile('/etc/postfix-a/main.cf')).toBe(old);
  });
});
