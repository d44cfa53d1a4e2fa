/**
 * Tests of the integration-test harness itself, with the real Postfix.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { treeSnapshot } from './helpers/lifecycle.js';
import {
  hostPidsInNamespace,
  hostProcessesNamed,
  PRISTINE_MAIN_CF,
  REPO_ROOT,
  requireIntegration,
  Sandbox,
  shq,
  type SandboxOptions,
} from './helpers/sandbox.js';
import { waitFor } from './helpers/timing.js';

/** What the host has that a sandbox must never change. */
function hostSnapshot(): Record<string, string> {
  const snap: Record<string, string> = {};
  for (const [dir, prefix] of [
    ['/etc', 'postfix'],
    ['/var/spool', 'postfix'],
    ['/var/lib', 'postfix'],
    ['/var/log', 'postfix'],
  ] as const) {
    snap[`${dir}/${prefix}*`] = readdirSync(dir)
      .filter((n) => n.startsWith(prefix))
      .sort()
      .join(',');
  }
  for (const f of ['/etc/postfix/main.cf', '/etc/postfix/master.cf']) {
    snap[f] = existsSync(f) ? `${statSync(f).mtimeMs} ${readFileSync(f, 'utf8')}` : '<absent>';
  }
  snap['/etc/postfix/'] = readdirSync('/etc/postfix').sort().join(',');
  snap['/var/spool/postfix/pid/'] = existsSync('/var/spool/postfix/pid') ? readdirSync('/var/spool/postfix/pid').sort().join(',') : '<absent>';
  return snap;
}

/** How often `command` opens /etc/postfix/main.cf, and how often it pauses (strace). */
async function mainCfReads(sb: Sandbox, command: string): Promise<{ opens: number; pauses: number }> {
  const r = await sb.runOk(`t=$(mktemp) && strace -f -qq -e trace=open,openat,select,pselect6,nanosleep,clock_nanosleep -o "$t" ${command} >/dev/null && cat "$t" && rm "$t"`);
  const lines = r.stdout.split('\n');
  return {
    opens: lines.filter((l) => /open(at)?\(.*"\/etc\/postfix\/main\.cf"/.test(l) && !/= -1/.test(l)).length,
    pauses: lines.filter((l) => /(select|sleep)\(/.test(l)).length,
  };
}

function comm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

describe.runIf(requireIntegration())('integration sandbox (real Postfix in a private namespace)', () => {
  const sandboxes: Sandbox[] = [];
  async function sandbox(options?: SandboxOptions): Promise<Sandbox> {
    const sb = await Sandbox.create(options);
    sandboxes.push(sb);
    return sb;
  }
  afterEach(async () => {
    await Promise.all(sandboxes.splice(0).map((sb) => sb.dispose()));
  });

  it('captures stdout, stderr and the exit status exactly', async () => {
    const sb = await sandbox();
    const r = await sb.run(`printf 'one\\ntwo'; printf 'é\\n\\nerr' >&2; exit 7`);
    expect(r).toEqual({ stdout: 'one\ntwo', stderr: 'é\n\nerr', exitCode: 7 });

    const empty = await sb.run('true');
    expect(empty).toEqual({ stdout: '', stderr: '', exitCode: 0 });

    const env = await sb.run('printf "%s|%s|%s|%s" "$FOO" "$PWD" "$POSTFLEET_REPO" "${MAIL_CONFIG-unset}"', {
      env: { FOO: "it's a $value" },
    });
    expect(env.stdout).toBe(`it's a $value|${REPO_ROOT}|${REPO_ROOT}|unset`);

    const input = await sb.run('cat; echo "[$(id -u)]"', { input: 'line1\nline2' });
    expect(input.stdout).toBe('line1\nline2[0]\n');

    const cwd = await sb.run('pwd', { cwd: '/etc/postfix' });
    expect(cwd.stdout).toBe('/etc/postfix\n');

    const argv = await sb.exec(['printf', '%s|', "a'b", 'c d', '$HOME', '*']);
    expect(argv.stdout).toBe("a'b|c d|$HOME|*|");

    const killed = await sb.run('sleep 30', { timeoutMs: 300 });
    expect(killed.exitCode).toBe(124);

    const signalled = await sb.run('kill -9 $$');
    expect(signalled.exitCode).toBe(137);
  });

  it('runs overlapping commands of one sandbox concurrently, in one shared world', async () => {
    const sb = await sandbox();
    // Each waits for the other's file: run one after the other, they would both time out.
    const waitFor = (f: string): string => `for i in $(seq 1 1200); do [ -e ${f} ] && break; sleep 0.05; done; [ -e ${f} ] || exit 9`;
    const [slow, fast] = await Promise.all([
      sb.run(`echo > /etc/postfix/slow-started; ${waitFor('/etc/postfix/shared-marker')}; cat /etc/postfix/shared-marker`),
      sb.run(`${waitFor('/etc/postfix/slow-started')}; echo from-fast > /etc/postfix/shared-marker; echo fast`),
    ]);
    expect(fast).toEqual({ stdout: 'fast\n', stderr: '', exitCode: 0 });
    expect(slow).toEqual({ stdout: 'from-fast\n', stderr: '', exitCode: 0 });
    // State persists between run() calls; each run() gets a fresh shell (no leaked variables).
    await sb.run('export LEAK=1; cd /tmp');
    expect((await sb.run('echo "${LEAK-none} $(cat /etc/postfix/shared-marker)"; pwd')).stdout).toBe(`none from-fast\n${REPO_ROOT}\n`);
  });

  it('starts with a pristine primary instance', async () => {
    const sb = await sandbox();
    expect(await sb.readFile('/etc/postfix/main.cf')).toBe(PRISTINE_MAIN_CF);
    expect(await sb.readFile('/etc/postfix/master.cf')).toBe(readFileSync('/usr/share/postfix/master.cf.dist', 'utf8'));
    const r = await sb.run('shopt -s nullglob; echo /etc/postfix-* /var/spool/postfix-* /var/lib/postfix-*; ls -A /var/spool/postfix/pid /var/spool/postfix/maildrop /var/lib/postfix');
    expect(r).toEqual({ stdout: '\n/var/lib/postfix:\n\n/var/spool/postfix/maildrop:\n\n/var/spool/postfix/pid:\n', stderr: '', exitCode: 0 });
    // main.cf is back-dated, so Postfix programs do not pause.
    const st = await sb.stat('/etc/postfix/main.cf');
    expect(st?.type).toBe('regular file');
    expect(Date.now() / 1000 - (st?.mtime ?? 0)).toBeGreaterThan(30);
    const conf = await sb.run('postconf -h config_directory queue_directory data_directory master_service_disable');
    expect(conf).toEqual({ stdout: '/etc/postfix\n/var/spool/postfix\n/var/lib/postfix\ninet\n', stderr: '', exitCode: 0 });
    // Postfix reads a main.cf changed within the last second again and again, with a 300 ms
    // pause in between (load_file(3)); a back-dated one is read once, without pausing.
    expect(await mainCfReads(sb, 'postconf -h myhostname')).toEqual({ opens: 1, pauses: 0 });
    expect((await sb.run('postfix check')).exitCode).toBe(0);
    expect(await sb.run('postmulti -l')).toEqual({
      stdout: `${'-'.padEnd(15)} ${'-'.padEnd(15)} ${'y'.padEnd(9)} /etc/postfix\n`,
      stderr: '',
      exitCode: 0,
    });
    expect(await sb.stat('/etc/postfix-none')).toBeUndefined();
  });

  it('postfix start runs a master that lives until dispose(), and nothing leaks to the host', async () => {
    const hostBefore = hostSnapshot();
    const hostMastersBefore = hostProcessesNamed('master');
    const sb = await sandbox();
    const hostMountsBefore = readFileSync('/proc/self/mountinfo', 'utf8');

    // Without a terminal, postfix prints nothing; with tty it does.
    const quiet = await sb.run('postfix status');
    expect(quiet).toEqual({ stdout: '', stderr: '', exitCode: 1 });
    const start = await sb.run('postfix start', { tty: true });
    expect(start.exitCode).toBe(0);
    expect(start.stdout).toContain('starting the Postfix mail system');
    expect(start.stdout).not.toContain('\r');

    // A later run() still sees the master.
    const status = await sb.run('postfix status', { tty: true });
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toMatch(/the Postfix mail system is running: PID: \d+/);
    const pidText = await sb.readFile('/var/spool/postfix/pid/master.pid');
    const pid = Number(pidText.trim());
    expect(pid).toBeGreaterThan(1);
    const alive = await sb.run(`kill -0 ${pid} && cat /proc/${pid}/comm`);
    expect(alive).toEqual({ stdout: 'master\n', stderr: '', exitCode: 0 });
    expect(await sb.readFile('/var/log/postfix.log')).toMatch(/postfix\/master\[\d+\]: daemon started/);

    // Changes inside, none of them visible outside.
    await sb.runOk(
      'set -e; mkdir -p /etc/postfix-leak /var/spool/postfix-leak /var/lib/postfix-leak; echo x > /etc/postfix-leak/main.cf; echo "# changed" >> /etc/postfix/main.cf',
    );
    expect(existsSync('/etc/postfix-leak')).toBe(false);
    expect(existsSync('/var/spool/postfix-leak')).toBe(false);
    expect(existsSync('/var/lib/postfix-leak')).toBe(false);
    expect(hostSnapshot()).toEqual(hostBefore);
    // The sandbox's mounts are not in the host's mount table.
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toBe(hostMountsBefore);
    expect(hostMountsBefore).not.toContain(sb.dir);

    // From the host, the master is in the sandbox's own PID namespace, not the host's.
    const inside = await sb.hostPids();
    const hostMasters = inside.filter((p) => comm(p) === 'master');
    expect(hostMasters).toHaveLength(1);
    expect(hostProcessesNamed('master')).toEqual(hostMastersBefore);

    const ns = sb.pidNamespace;
    const dir = sb.dir;
    await sb.dispose();
    expect(await hostPidsInNamespace(ns)).toEqual([]);
    for (const p of inside) expect(await hostPidsInNamespace(ns)).not.toContain(p);
    expect(hostProcessesNamed('master')).toEqual(hostMastersBefore);
    expect(existsSync(dir)).toBe(false);
    expect(hostSnapshot()).toEqual(hostBefore);
    await expect(sb.run('true')).rejects.toThrow(/disposed/);
  });

  it('dispose() kills commands still running', async () => {
    const sb = await sandbox();
    const started = path.join(sb.dir, 'io', 'started');
    const pending = sb.run(`touch ${started}; sleep 600; echo finished`).then(
      (r) => `resolved: ${JSON.stringify(r)}`,
      (err: Error) => `rejected: ${err.message}`,
    );
    await waitFor('the command to start', () => existsSync(started));
    // Had dispose() waited for the command, this would time out (600 s).
    await sb.dispose();
    expect(await pending).toMatch(/^rejected: .*disposed while a command was running/);
  });

  it('keeps two sandboxes running in parallel independent', async () => {
    const [a, b] = await Promise.all([sandbox(), sandbox()]);
    expect(a.pidNamespace).not.toBe(b.pidNamespace);
    const starts = await Promise.all([a.run('postfix start', { tty: true }), b.run('postfix start', { tty: true })]);
    expect(starts.map((s) => s.exitCode)).toEqual([0, 0]);

    await a.runOk('mkdir /etc/postfix-only-a && echo a > /etc/postfix-only-a/main.cf && echo "# a" >> /etc/postfix/main.cf');
    expect(await a.exists('/etc/postfix-only-a/main.cf')).toBe(true);
    expect(await b.exists('/etc/postfix-only-a')).toBe(false);
    expect(await b.readFile('/etc/postfix/main.cf')).toBe(PRISTINE_MAIN_CF);
    expect(await a.readFile('/etc/postfix/main.cf')).toBe(`${PRISTINE_MAIN_CF}# a\n`);

    // Stopping A's Postfix leaves B's running.
    const stop = await a.run('postfix stop', { tty: true });
    expect(stop.exitCode).toBe(0);
    expect(stop.stdout).toContain('stopping the Postfix mail system');
    expect((await a.run('postfix status')).exitCode).toBe(1);
    expect((await b.run('postfix status')).exitCode).toBe(0);

    // Only B's long-lived daemons are compared: Postfix also runs short-lived children
    // (started on demand, or left behind by postfix-script) that may exit on their own.
    const bDaemons = (await b.hostPids()).filter((p) => ['master', 'qmgr'].includes(comm(p) ?? ''));
    expect(bDaemons.map(comm)).toContain('master');
    await a.dispose();
    expect((await b.run('postfix status')).exitCode).toBe(0);
    expect(await b.hostPids()).toEqual(expect.arrayContaining(bDaemons));
  });

  it('runs the real postmulti: init, create, list, enable, start', async () => {
    const sb = await sandbox();
    await sb.runOk('postmulti -e init');
    await sb.backdate('/etc/postfix/main.cf');
    expect(await sb.run('postconf -h multi_instance_enable multi_instance_wrapper')).toEqual({
      stdout: 'yes\n${command_directory}/postmulti -p --\n',
      stderr: '',
      exitCode: 0,
    });

    await sb.runOk('postmulti -I postfix-out -G mta -e create');
    await sb.backdate('/etc/postfix/main.cf', '/etc/postfix-out/main.cf');
    expect(await sb.exists('/etc/postfix-out/main.cf')).toBe(true);
    expect(await sb.exists('/etc/postfix-out/master.cf')).toBe(true);
    expect(await sb.run('postconf -c /etc/postfix-out -h multi_instance_name multi_instance_group multi_instance_enable queue_directory data_directory')).toEqual({
      stdout: 'postfix-out\nmta\nno\n/var/spool/postfix-out\n/var/lib/postfix-out\n',
      stderr: '',
      exitCode: 0,
    });
    expect((await sb.stat('/var/lib/postfix-out'))?.mode).toBe(0o700);
    const queue = (await sb.listTree('/var/spool/postfix-out')).filter((e) => !e.path.includes('/'));
    expect(queue.map((e) => e.path)).toEqual(
      expect.arrayContaining(['active', 'bounce', 'corrupt', 'defer', 'deferred', 'flush', 'hold', 'incoming', 'maildrop', 'pid', 'private', 'public', 'saved', 'trace']),
    );
    expect(queue.find((e) => e.path === 'maildrop')).toMatchObject({ kind: 'd', user: 'postfix', group: 'postdrop' });

    expect(await sb.run('postmulti -l')).toEqual({
      stdout:
        `${'-'.padEnd(15)} ${'-'.padEnd(15)} ${'y'.padEnd(9)} /etc/postfix\n` +
        `${'postfix-out'.padEnd(15)} ${'mta'.padEnd(15)} ${'n'.padEnd(9)} /etc/postfix-out\n`,
      stderr: '',
      exitCode: 0,
    });

    await sb.runOk('postmulti -i postfix-out -e enable');
    await sb.backdate('/etc/postfix-out/main.cf');
    const start = await sb.run('postmulti -i postfix-out -p start', { tty: true });
    expect(start.exitCode).toBe(0);
    expect(start.stdout).toContain('postfix-out/postfix-script: starting the Postfix mail system');
    expect((await sb.run('postmulti -i postfix-out -p status')).exitCode).toBe(0);
    expect((await sb.run('postfix status')).exitCode).toBe(1);
    const pid = Number((await sb.readFile('/var/spool/postfix-out/pid/master.pid')).trim());
    expect((await sb.run(`cat /proc/${pid}/comm`)).stdout).toBe('master\n');
  });

  it('treeSnapshot (the overlays, and what is mounted there) sees every change under /etc, /var/spool, /var/lib, and nothing else', async () => {
    const sb = await sandbox();
    let last = await treeSnapshot(sb);
    // reading changes nothing
    await sb.runOk('postconf -n >/dev/null; ls -lR /etc/postfix /var/spool/postfix /var/lib >/dev/null; cat /etc/passwd >/dev/null');
    expect(await treeSnapshot(sb)).toBe(last);
    const changes = [
      'printf "# x\\n" >> /etc/postfix/main.cf', // content of a file the sandbox wrote
      'printf x >> /etc/postfix/dynamicmaps.cf', // content of a host file
      'chmod 600 /etc/postfix/postfix-files', // mode of a host file
      'chown postfix /etc/postfix/post-install', // owner of a host file
      "touch -d '-2 days' /etc/services", // mtime of a host file
      'rm /etc/postfix/postfix-script', // removal of a host file
      'mkdir /var/lib/x && rmdir /var/lib/x', // a directory made and removed: its parent's mtime
      'mkdir -p /var/spool/postfix/hold/y', // a new directory
      'printf a > /var/spool/postfix/hold/y/f', // a new file
      'printf b > /var/spool/postfix/hold/y/f', // its content: same size, same mtime
      'mkdir /etc/postfix-mnt && mount -t tmpfs -o size=64k tmpfs /etc/postfix-mnt', // a file system mounted there
      'printf x > /etc/postfix-mnt/f', // a file on it (not in the overlay)
      'printf y > /etc/postfix-mnt/f', // its content
    ];
    for (const change of changes) {
      await sb.runOk(change.startsWith('printf b ') ? `m=$(stat -c %y /var/spool/postfix/hold/y/f); ${change}; touch -d "$m" /var/spool/postfix/hold/y/f` : change);
      const now = await treeSnapshot(sb);
      expect(now, change).not.toBe(last);
      last = now;
    }
    expect(last).toMatch(/^c \S+ \S+ 0 \S+ \/etc\/postfix\/postfix-script$/m); // a whiteout
    expect(last).toMatch(/^[0-9a-f]{32} {2}\/var\/spool\/postfix\/hold\/y\/f$/m);
    expect(last).toMatch(/^[0-9a-f]{32} {2}\/etc\/postfix-mnt\/f$/m);
  });

  it('reads and writes files inside: writeFile, readFile, exists, stat, listTree', async () => {
    const sb = await sandbox();
    await sb.writeFile('/etc/postfix-t/sub/file.cf', 'no newline at end', { mode: 0o640 });
    expect(await sb.readFile('/etc/postfix-t/sub/file.cf')).toBe('no newline at end');
    const st = await sb.stat('/etc/postfix-t/sub/file.cf');
    expect(st).toMatchObject({ mode: 0o640, type: 'regular file', uid: 0, user: 'root', size: 17 });
    expect(Date.now() / 1000 - (st?.mtime ?? 0)).toBeGreaterThan(30);
    await sb.writeFile('/etc/postfix-t/fresh.cf', 'x\n', { backdate: false });
    expect(Date.now() / 1000 - ((await sb.stat('/etc/postfix-t/fresh.cf'))?.mtime ?? 0)).toBeLessThan(30);
    expect(await sb.listTree('/etc/postfix-t')).toEqual([
      { path: 'fresh.cf', kind: 'f', mode: 0o644, user: 'root', group: 'root', size: 2 },
      { path: 'sub', kind: 'd', mode: 0o755, user: 'root', group: 'root', size: expect.any(Number) as number },
      { path: 'sub/file.cf', kind: 'f', mode: 0o640, user: 'root', group: 'root', size: 17 },
    ]);
    expect(await sb.exists('/etc/postfix-t/none')).toBe(false);
    expect(await sb.stat('/etc/postfix-t/none')).toBeUndefined();
    await expect(sb.readFile('/etc/postfix-t/none')).rejects.toThrow(/exit 1/);
    expect(existsSync('/etc/postfix-t')).toBe(false);
  });

  it("network: 'private' gives each sandbox its own loopback: the same port listens in two at once, unseen by the host", async () => {
    const [a, b] = [await sandbox({ network: 'private' }), await sandbox({ network: 'private' })];
    const hostNet = readlinkSync('/proc/self/ns/net');
    const listen = (sb: Sandbox, tag: string): Promise<unknown> =>
      sb.runOk(
        `node -e 'const s = require("net").createServer((c) => c.end(${JSON.stringify(tag)})); s.listen(2525, "127.0.0.1", () => require("fs").writeFileSync(process.argv[1], "up"))' ${shq(`${a.dir}/up-${tag}`)} &`,
      );
    await Promise.all([listen(a, 'a'), listen(b, 'b')]);
    await waitFor('both listeners', () => existsSync(`${a.dir}/up-a`) && existsSync(`${a.dir}/up-b`));
    const read = "node -e 'require(\"net\").connect(2525, \"127.0.0.1\").on(\"data\", (d) => process.stdout.write(d))'";
    expect((await a.runOk(read)).stdout).toBe('a');
    expect((await b.runOk(read)).stdout).toBe('b');
    expect((await a.runOk('readlink /proc/self/ns/net')).stdout.trim()).not.toBe(hostNet);
    expect((await a.runOk('ip -o link show up | cut -d: -f2')).stdout.trim()).toBe('lo');
    // the default keeps the host's network
    const plain = await sandbox();
    expect((await plain.runOk('readlink /proc/self/ns/net')).stdout.trim()).toBe(hostNet);
  });
});
