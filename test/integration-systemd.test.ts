/**
 * The Debian package installed into a sandbox (/usr and /run overlaid too), then its systemd
 * parts on a seeded fleet with broken instances:
 *  - installing changes no Postfix file, starts nothing, masks Debian's generator and says so;
 *  - postfleet from PATH, man postfleet;
 *  - postfleet-generator run by hand: enabled instances wanted in list order, disabled and
 *    broken ones not (a line each on stderr), two nameless instances under distinct escaped
 *    names, the primary as `-`; systemd-analyze verify accepts the unit and the generated files;
 *  - the unit's ExecStart/ExecReload/ExecStop, run as systemd runs them (the command lines of
 *    the installed unit file with %i expanded, its Environment=, systemd's base environment,
 *    cwd /, no stdin), start, reload and stop the right masters and exit 0 despite the broken
 *    instances;
 *  - where systemd "runs" (a stand-in systemctl that logs its calls): postfix(1)'s own
 *    options are refused rather than dropped, and the bypasses never reach systemctl.
 * The same package under a booted systemd: booted-*.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET_FIXTURE, masterStates } from './helpers/fleet.js';
import { buildDeb, requireCommands, type BuiltDeb } from './helpers/deb.js';
import { requireIntegration, Sandbox, shq } from './helpers/sandbox.js';

/** Runs `VERB UNIT` of a postfleet@ unit as systemd would run its command (see above). */
const RUN_UNIT = readFileSync(path.join(__dirname, 'fixtures', 'systemd', 'run-unit.sh'), 'utf8');

/** Stand-in for systemctl (systemd is not PID 1 here): logs each call, keeps unit states. */
const FAKE_SYSTEMCTL = readFileSync(path.join(__dirname, 'fixtures', 'systemd', 'fake-systemctl.sh'), 'utf8');

/** FLEET_FIXTURE plus a second nameless instance and two broken ones, listed among the others. */
const EXTRA_FIXTURE = String.raw`
set -e
mkdir -p /etc/postfix-anon2
cp /etc/postfix-anon/main.cf /etc/postfix-anon/master.cf /etc/postfix-anon2/
postconf -c /etc/postfix-anon2 -e queue_directory=/var/spool/postfix-anon2 data_directory=/var/lib/postfix-anon2 syslog_name=anon2
cp -a /var/spool/postfix-anon /var/spool/postfix-anon2
mkdir -p -m 0700 /var/lib/postfix-anon2
chown postfix /var/lib/postfix-anon2
mkdir -p /etc/postfix-maybe
cp /etc/postfix-b/main.cf /etc/postfix-b/master.cf /etc/postfix-maybe/
postconf -c /etc/postfix-maybe -e multi_instance_name=postfix-maybe multi_instance_enable=maybe queue_directory=/var/spool/postfix-maybe data_directory=/var/lib/postfix-maybe
postconf -e 'multi_instance_directories = /etc/postfix-a /etc/postfix-b /etc/postfix-anon /etc/postfix-gone /etc/postfix-verylongname-x /etc/postfix-anon2 /etc/postfix-maybe /srv/pf-x /srv/pf-y'
touch -d '-1 minute' /etc/postfix*/main.cf /srv/pf-*/main.cf
`;

/** Enabled instances in list order: unit instance string and queue directory. */
const ENABLED = [
  { id: '-', queue: '/var/spool/postfix' },
  { id: 'postfix-a', queue: '/var/spool/postfix-a' },
  { id: 'etc-postfix\\x2danon', queue: '/var/spool/postfix-anon' },
  { id: 'postfix-verylongname-x', queue: '/var/spool/postfix-vl' },
  { id: 'etc-postfix\\x2danon2', queue: '/var/spool/postfix-anon2' },
] as const;
const UNITS = ENABLED.map((e) => `postfleet@${e.id}.service`);
const QUEUES = [...ENABLED.map((e) => e.queue), '/var/spool/postfix-b', '/var/spool/pf-x', '/var/spool/pf-y'];
const states = (running: readonly string[]): Record<string, string> => Object.fromEntries(QUEUES.map((q) => [q, running.includes(q) ? 'running' : 'stopped']));
const ALL_ENABLED = ENABLED.map((e) => e.queue);
/** The host's PATH for root, without the sandbox's postfleet shim: the installed command is used. */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

describe.runIf(requireIntegration() && requireCommands('the systemd/package integration test', ['dpkg', 'dpkg-deb', 'systemd-analyze', 'man']))(
  'the Debian package and its systemd units, installed in a sandbox',
  () => {
    let sb: Sandbox;
    let deb: BuiltDeb;
    const run = (script: string, env: Record<string, string> = {}) => sb.run(script, { env: { PATH: SYSTEM_PATH, ...env }, timeoutMs: 240_000 });
    const runOk = (script: string, env: Record<string, string> = {}) => sb.runOk(script, { env: { PATH: SYSTEM_PATH, ...env }, timeoutMs: 240_000 });

    /** The stand-in systemctl's calls since the last look. */
    const calls = async (): Promise<string[]> => (await run('cat /run/fake-systemctl.log 2>/dev/null; rm -f /run/fake-systemctl.log')).stdout.split('\n').filter(Boolean);

    beforeAll(async () => {
      deb = buildDeb();
      sb = await Sandbox.create({ overlay: ['/usr', '/run'] });
      await sb.runOk(FLEET_FIXTURE);
      await sb.runOk(EXTRA_FIXTURE);
    }, 600_000);
    afterAll(async () => {
      await sb?.dispose();
      deb?.dispose();
    });

    it('installs: no Postfix file changed, nothing started, Debian\'s generator masked with a message', async () => {
      const snapshot = 'find /etc/postfix* /srv/pf-* -type f -print0 | sort -z | xargs -0 md5sum; pgrep -x master || true';
      const before = (await runOk(snapshot)).stdout;
      // --path-include: minimal images often tell dpkg to drop man pages (path-exclude).
      const r = await runOk(`dpkg --path-include='/usr/share/man/man1/postfleet.1.gz' -i ${shq(deb.file)} 2>&1`);
      expect(r.stdout).toMatch(/^postfleet: masked Debian's postfix-instance-generator \(\/etc\/systemd\/system-generators\/postfix-instance-generator -> \/dev\/null\):$/m);
      expect((await runOk(snapshot)).stdout).toBe(before);
      expect(before).not.toMatch(/^\d+$/m); // and no master was running before either
      expect((await runOk('readlink /etc/systemd/system-generators/postfix-instance-generator')).stdout).toBe('/dev/null\n');
      expect((await runOk('command -v postfleet')).stdout).toBe('/usr/sbin/postfleet\n');
      // The tools the next tests use, inside the sandbox only.
      await sb.writeFile('/usr/local/sbin/run-unit', RUN_UNIT, { mode: 0o755, backdate: false });
    }, 600_000);

    it('postfleet from PATH lists the fleet, reporting the broken instances; man postfleet renders without warnings', async () => {
      const list = await run('postfleet list --json');
      expect(list.exitCode).toBe(1);
      const rows = JSON.parse(list.stdout) as Array<{ configDirectory: string; enabled?: boolean; error?: string }>;
      expect(rows.map((x) => x.configDirectory)).toEqual([
        '/etc/postfix', '/etc/postfix-a', '/etc/postfix-b', '/etc/postfix-anon', '/etc/postfix-gone', '/etc/postfix-verylongname-x',
        '/etc/postfix-anon2', '/etc/postfix-maybe', '/srv/pf-x', '/srv/pf-y',
      ]);
      expect(rows.filter((x) => x.error !== undefined).map((x) => x.configDirectory)).toEqual(['/etc/postfix-gone', '/etc/postfix-maybe']);
      const man = await runOk('MANWIDTH=80 MANPAGER=cat man --warnings postfleet 2>/run/man.err; cat /run/man.err >&2');
      expect(man.stderr).toBe('');
      expect(man.stdout).toMatch(/^POSTFLEET\(1\) +User Commands +POSTFLEET\(1\)$/m);
      expect(man.stdout).toContain('postfleet-generator');
    }, 600_000);

    it('the generator wants each enabled instance, all started at once, each after its file systems; disabled and broken ones get no unit', async () => {
      const r = await run(String.raw`set -e
rm -rf /run/gen; mkdir -p /run/gen/normal /run/gen/early /run/gen/late
/lib/systemd/system-generators/postfleet-generator /run/gen/normal /run/gen/early /run/gen/late
cd /run/gen && find . -mindepth 1 -printf '%y %p %l\n' | sort`);
      expect(r.exitCode).toBe(0);
      expect(r.stderr.split('\n').filter(Boolean)).toEqual([
        expect.stringMatching(/^postfleet-generator: skipping instance \/etc\/postfix-gone: .*main\.cf.*No such file or directory/),
        'postfleet-generator: skipping instance /etc/postfix-maybe: Unexpected /etc/postfix-maybe/main.cf entry: multi_instance_enable = maybe',
      ]);
      const tree = r.stdout.split('\n').filter(Boolean);
      expect(tree.filter((l) => l.startsWith('l '))).toEqual(
        [...UNITS].sort().map((u) => `l ./normal/postfix.service.wants/${u} /lib/systemd/system/postfleet@.service`),
      );
      expect(tree.filter((l) => l.startsWith('f '))).toEqual([...UNITS].sort().map((u) => `f ./normal/${u}.d/50-postfleet-generator.conf `));
      expect(tree.filter((l) => /early|late/.test(l))).toEqual(['d ./early ', 'd ./late ']);
      for (const unit of UNITS) {
        const dropIn = await sb.readFile(`/run/gen/normal/${unit}.d/50-postfleet-generator.conf`);
        expect([unit, dropIn.split('\n').filter((l) => l.startsWith('After='))]).toEqual([unit, []]);
      }
      expect(await sb.readFile('/run/gen/normal/postfleet@etc-postfix\\x2danon2.service.d/50-postfleet-generator.conf')).toBe(
        '# Made by postfleet-generator from /etc/postfix/main.cf: enabled instance 5 of 5.\n' +
          '[Unit]\nDescription=Postfix nameless instance /etc/postfix-anon2 (postfleet)\nRequiresMountsFor=/etc/postfix-anon2 /var/spool/postfix-anon2 /var/lib/postfix-anon2\n',
      );
    }, 600_000);

    it('systemd-analyze verify accepts the unit and the generated units', async () => {
      // --generators runs the installed generators into a temporary directory: in a mount
      // namespace of its own with a private /tmp, so that nothing of the host's /tmp is touched.
      const verify = (units: readonly string[]) =>
        run(`exec unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs /tmp && exec systemd-analyze verify --generators=yes "$@"' sh ${units.map(shq).join(' ')}`);
      const ok = await verify([...UNITS, 'postfix.service']);
      expect(ok.exitCode).toBe(0);
      // Nothing but postfleet-generator's own lines about the broken instances (it did run).
      expect(ok.stderr.split('\n').filter(Boolean)).toEqual([
        expect.stringMatching(/^postfleet-generator: skipping instance \/etc\/postfix-gone: /),
        expect.stringMatching(/^postfleet-generator: skipping instance \/etc\/postfix-maybe: /),
      ]);
      // It does read the generated files: a bad drop-in fails verification.
      await sb.writeFile('/etc/systemd/system/postfleet@postfix-a.service.d/bad.conf', '[Service]\nType=bogus\n');
      const bad = await verify(['postfleet@postfix-a.service']);
      await runOk('rm -r /etc/systemd/system/postfleet@postfix-a.service.d');
      expect(bad.stderr).toMatch(/bogus/);
    }, 600_000);

    it("the unit's commands, run as systemd runs them, start, reload and stop their own instance despite the broken ones", async () => {
      await runOk('rm -rf /var/spool/postfix*/etc /var/spool/pf-*/etc');
      for (const [index, e] of ENABLED.entries()) {
        const r = await run(`run-unit start ${shq(`postfleet@${e.id}.service`)}`);
        expect([e.id, r.exitCode]).toEqual([e.id, 0]);
        // The others' faults are reported (in the journal), not this unit's failure.
        expect(r.stderr).toContain('postfleet: warning: skipping instance /etc/postfix-maybe: Unexpected /etc/postfix-maybe/main.cf entry');
        expect(await masterStates(sb, QUEUES)).toEqual(states(ALL_ENABLED.slice(0, index + 1)));
        // Debian's configure-instance.sh ran for this instance (its chroot files refreshed).
        expect([e.id, await sb.exists(`${e.queue}/etc/services`)]).toEqual([e.id, true]);
      }
      const pids = (await runOk(`for q in ${ALL_ENABLED.join(' ')}; do tr -d ' ' < $q/pid/master.pid; done`)).stdout;
      for (const e of ENABLED) expect([e.id, (await run(`run-unit reload ${shq(`postfleet@${e.id}.service`)}`)).exitCode]).toEqual([e.id, 0]);
      expect((await runOk(`for q in ${ALL_ENABLED.join(' ')}; do tr -d ' ' < $q/pid/master.pid; done`)).stdout).toBe(pids);
      for (const [index, e] of [...ENABLED].reverse().entries()) {
        const r = await run(`run-unit stop ${shq(`postfleet@${e.id}.service`)}`);
        expect([e.id, r.exitCode]).toEqual([e.id, 0]);
        expect(await masterStates(sb, QUEUES)).toEqual(states(ALL_ENABLED.slice(0, ENABLED.length - index - 1)));
      }
    }, 600_000);

    it("a broken instance's unit fails with one line naming it, a disabled one's ends without starting it; the others are untouched", async () => {
      const gone = await run(`run-unit start 'postfleet@etc-postfix\\x2dgone.service'`);
      expect(gone.exitCode).toBe(1);
      expect(gone.stderr.split('\n').filter((l) => l !== '' && !l.includes('warning'))).toEqual([
        expect.stringMatching(/^postfleet: postfleet@etc-postfix\\x2dgone\.service: instance \/etc\/postfix-gone: .*No such file or directory/),
      ]);
      // Not a failure: `systemctl restart postfix` after a disable must leave no failed unit.
      const off = await run('run-unit start postfleet@postfix-b.service');
      expect(off.exitCode).toBe(0);
      expect(off.stderr).toContain("postfleet: postfix-b is disabled (multi_instance_enable = no): not started; enable it with 'postfleet enable'");
      const nobody = await run('run-unit start postfleet@postfix-nobody.service');
      expect(nobody.exitCode).toBe(1);
      expect(nobody.stderr).toMatch(/^postfleet: postfleet@postfix-nobody\.service: no instance has this unit/m);
      expect(await masterStates(sb, QUEUES)).toEqual(states([]));
    }, 600_000);

    it("where systemd runs, postfix(1)'s own options are refused, not dropped; --no-systemd and POSTFLEET_NO_SYSTEMD=1 run postfix(1) directly", async () => {
      // The routing through the units, and its checks, are tested under a booted systemd
      // (booted-control.test.ts); a stand-in systemctl here only proves what never reaches it.
      await runOk(`mkdir -p /run/systemd/system && rm -f /run/fake-systemctl.log && rm -rf /run/fake-systemd`);
      await sb.writeFile('/usr/bin/systemctl', FAKE_SYSTEMCTL, { mode: 0o755, backdate: false });
      for (const [opts, named] of [['-v', '-v'], ['-D', '-D'], ['--full-check', '--full-check'], ['-v -D', '-D, -v']] as const) {
        const r = await run(`postfleet postfix start ${opts}`);
        expect([opts, r.exitCode]).toEqual([opts, 1]);
        expect(r.stderr).toBe(`postfleet: ${named}: cannot be passed through systemctl to postfleet@.service units; add --no-systemd to run postfix(1) directly\n`);
      }
      expect(await calls()).toEqual([]);
      expect(await masterStates(sb, QUEUES)).toEqual(states([]));

      const init = await runOk('postfleet init; touch -d "-1 minute" /etc/postfix/main.cf');
      expect(init.stdout).toContain('multi_instance_wrapper = /usr/sbin/postfleet -p --');
      expect((await runOk('postconf -h multi_instance_wrapper')).stdout).toBe('/usr/sbin/postfleet -p --\n');
      // A life-cycle change reloads the units, once.
      expect(await calls()).toEqual(['--no-ask-password daemon-reload']);
      await run('postfleet postfix start --no-systemd');
      expect(await calls()).toEqual([]);
      expect(await masterStates(sb, QUEUES)).toEqual(states(ALL_ENABLED));
      await run('postfleet postfix stop', { POSTFLEET_NO_SYSTEMD: '1' });
      expect(await calls()).toEqual([]);
      expect(await masterStates(sb, QUEUES)).toEqual(states([]));
      await runOk('rm -rf /run/systemd/system');
    }, 600_000);

    it("removing the package unmasks Debian's generator, gives the wrapper line back to postmulti and leaves every other Postfix file as it was", async () => {
      const snapshot = "find /etc/postfix* /srv/pf-* -type f ! -path /etc/postfix/main.cf -print0 | sort -z | xargs -0 md5sum; grep -v '^multi_instance_wrapper' /etc/postfix/main.cf";
      const before = (await runOk(snapshot)).stdout;
      const r = await runOk('dpkg --purge postfleet 2>&1');
      expect(r.stdout).toContain("postfleet: unmasked Debian's postfix-instance-generator");
      // postfleet init was run above: postfix(1) would now run a wrapper that is gone.
      expect(r.stdout).toContain("postfleet: multi_instance_wrapper is postmulti's again (${command_directory}/postmulti -p --)");
      expect((await runOk('postconf -h multi_instance_wrapper')).stdout).toBe('${command_directory}/postmulti -p --\n');
      expect(await sb.exists('/etc/systemd/system-generators/postfix-instance-generator')).toBe(false);
      expect(await sb.exists('/lib/systemd/system/postfleet@.service')).toBe(false);
      expect(await sb.exists('/usr/sbin/postfleet')).toBe(false);
      expect(await sb.exists('/var/lib/postfleet')).toBe(false);
      expect((await runOk(snapshot)).stdout).toBe(before);
    }, 600_000);
  },
);
