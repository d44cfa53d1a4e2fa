/**
 * config set / config unset against the real postconf: every selected main.cf ends up
 * byte-equal to what `postconf -e` / `postconf -X` makes of a copy; one transaction (a
 * refusal changes nothing); --dry-run shows the diff; --reload reloads the running ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefusal, treeSnapshot } from './helpers/lifecycle.js';
import { budget } from './helpers/timing.js';
import { requireIntegration, Sandbox, shq } from './helpers/sandbox.js';

const INSTANCES = ['/etc/postfix', '/etc/postfix-a', '/etc/postfix-b', '/etc/postfix-c'];

describe.runIf(requireIntegration())('config set / unset', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk('postfleet init && postfleet create postfix-a postfix-b --group mta && postfleet create postfix-c --group edge');
    await sb.backdate('/etc/postfix*/main.cf');
  }, budget(8));
  afterAll(async () => {
    await sb?.dispose();
  });

  /** What postconf makes of a copy of each main.cf, one postconf call per argument (in order). */
  async function postconfReference(dirs: readonly string[], option: '-e' | '-X', args: readonly string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const dir of dirs) {
      const ref = `/var/lib/ref${dir.replace(/\//g, '_')}`;
      const calls = args.map((a) => `postconf -c ${ref} ${option} ${shq(a)}`).join(' && ');
      await sb.runOk(`rm -rf ${ref} && mkdir -p ${ref} && cp -p ${dir}/main.cf ${ref}/ && touch -d '-1 minute' ${ref}/main.cf && ${calls}`);
      out[dir] = await sb.readFile(`${ref}/main.cf`);
    }
    return out;
  }

  it('sets on a group, byte-equal to postconf -e, and leaves the others alone', async () => {
    const settings = ['smtpd_banner = $myhostname ESMTP fleet', 'relayhost = [smtp.example.com]:587', 'inet_interfaces = loopback-only'];
    const expected = await postconfReference(['/etc/postfix-a', '/etc/postfix-b'], '-e', settings);
    const untouched = await sb.runOk('md5sum /etc/postfix/main.cf /etc/postfix-c/main.cf');
    const r = await sb.exec(['postfleet', 'config', 'set', '-g', 'mta', '--json', ...settings.map((s) => s.replace(' = ', '='))]);
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { changed: boolean; instances: Array<{ instance: string; action: string; changed: boolean }>; reloaded: unknown[] };
    expect(report.changed).toBe(true);
    expect(report.instances.map((i) => [i.instance, i.action, i.changed])).toEqual([
      ['postfix-a', 'set', true],
      ['postfix-b', 'set', true],
    ]);
    expect(report.reloaded).toEqual([]);
    for (const dir of ['/etc/postfix-a', '/etc/postfix-b']) expect(await sb.readFile(`${dir}/main.cf`), dir).toBe(expected[dir]);
    expect((await sb.runOk('md5sum /etc/postfix/main.cf /etc/postfix-c/main.cf')).stdout).toBe(untouched.stdout);
    // the same again: nothing to change
    const again = await sb.exec(['postfleet', 'config', 'set', '-g', 'mta', ...settings.map((s) => s.replace(' = ', '='))]);
    expect(again.stdout).toBe('set postfix-a: nothing to change\nset postfix-b: nothing to change\n');
  });

  it('unsets on every instance, byte-equal to postconf -X, the primary included', async () => {
    await sb.backdate('/etc/postfix*/main.cf');
    const expected = await postconfReference(INSTANCES, '-X', ['relayhost', 'smtpd_banner']);
    const r = await sb.run('postfleet config unset relayhost smtpd_banner');
    expect(r.exitCode, r.stderr).toBe(0);
    for (const dir of INSTANCES) expect(await sb.readFile(`${dir}/main.cf`), dir).toBe(expected[dir]);
  });

  it('--dry-run shows each change and its diff, and changes nothing', async () => {
    const before = await treeSnapshot(sb);
    const r = await sb.run('postfleet config set -i c myhostname=c.example --dry-run --json');
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { dryRun: boolean; instances: Array<{ changes: string[] }>; diff: Array<{ path: string; unified: string }> };
    expect(report.dryRun).toBe(true);
    expect(report.instances[0]!.changes).toEqual(['edit /etc/postfix-c/main.cf: myhostname = c.example']);
    expect(report.diff.map((d) => d.path)).toEqual(['/etc/postfix-c/main.cf']);
    expect(await treeSnapshot(sb)).toBe(before);
    // the diff as diff -u prints it for the file that would be written
    const reference = await sb.run(
      "{ cat /etc/postfix-c/main.cf; echo 'myhostname = c.example'; } > /srv/after && diff -u --label /etc/postfix-c/main.cf --label /etc/postfix-c/main.cf /etc/postfix-c/main.cf /srv/after",
    );
    expect(reference.exitCode).toBe(1);
    expect(report.diff[0]!.unified).toBe(reference.stdout);
  });

  it('refuses what identity and life-cycle own, bad names and control characters, changing nothing', async () => {
    const before = await treeSnapshot(sb);
    const cases: Array<[readonly string[], string]> = [
      [['config', 'set', 'queue_directory=/var/spool/x'], "queue_directory is not changed by config set/unset: it is fixed when the instance is created or imported"],
      [['config', 'set', 'multi_instance_enable=yes'], "multi_instance_enable is not changed by config set/unset: use 'postfleet enable' or 'postfleet disable'"],
      [['config', 'unset', 'multi_instance_name'], "use 'postfleet assign --name'"],
      [['config', 'set', 'myhostname=a\nb'], 'myhostname: the value may not contain a line break'],
      [['config', 'set', 'myhostname=a\tb'], 'myhostname: the value may not contain a line break or another control character'],
      [['config', 'set', 'my$name=x'], "bad parameter name in 'my$name=x'"],
      [['config', 'set', 'myhostname'], "expected NAME=VALUE: 'myhostname'"],
      [['config', 'set', '-g', 'nope', 'myhostname=x'], "no instance in group 'nope'"],
    ];
    for (const [argv, message] of cases) expectRefusal(await sb.exec(['postfleet', ...argv]), message);
    expect(await treeSnapshot(sb)).toBe(before);
  });

  it('--reload reloads the changed instances whose master runs, and only those', async () => {
    await sb.runOk('postfleet enable a b && postfleet postfix start -i a', { tty: true });
    const pid = (await sb.readFile('/var/spool/postfix-a/pid/master.pid')).trim();
    const r = await sb.run('postfleet config set -g mta smtpd_banner=reloaded --reload --json', { tty: false });
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { reloaded: Array<{ instance: string; exitCode: number }> };
    expect(report.reloaded.map((x) => [x.instance, x.exitCode])).toEqual([['postfix-a', 0]]);
    // reloaded, not restarted: the same master
    expect((await sb.readFile('/var/spool/postfix-a/pid/master.pid')).trim()).toBe(pid);
    await sb.runOk('postfleet postfix stop -i a', { tty: true });
  });
});
