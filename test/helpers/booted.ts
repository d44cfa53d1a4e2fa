/**
 * A real systemd, booted safely: this machine's own OS under systemd-nspawn, on a root that is
 * an overlayfs whose lower layer is `/` and whose upper and work directories live on a fresh
 * tmpfs. Nothing the booted system writes reaches the host's disk; it has its own /tmp, /run,
 * PID namespace, cgroups and (with --private-network) network.
 *
 * Layout of one BootedHost:
 *
 *   unshare -m -p -f --mount-proc --propagation private --kill-child bash DIR/controller.sh
 *
 * The controller (PID 1 of a private PID and mount namespace) mounts a tmpfs on DIR/ov, the
 * overlay on DIR/ov/root, and a tmpfs on /run (systemd-nspawn keeps its locks there), checks
 * that the root is exactly such an overlay (it refuses to go on otherwise), masks services
 * that only slow a boot down, then waits. boot() runs systemd-nspawn -b inside the
 * controller's namespaces (nsenter -m -p), so it dies with the controller; the controller
 * exits when its stdin closes, i.e. whenever the test process dies.
 *
 * Each boot gets cgroups of its own: systemd-nspawn is moved into a new cgroup named after DIR
 * in systemd's hierarchies (name=systemd on cgroup v1 and hybrid hosts, the unified one)
 * before it starts. Without that, every booted system would use the same cgroups below the
 * host's root ("payload/system.slice/…"): two at once would see, stop and wait for each
 * other's services.
 *
 * The booted system is driven through `nsenter -t <its PID 1> -a` (run()); powered off from
 * inside (`systemctl poweroff`), and booted again on the same overlay for a reboot. DIR/io
 * is bound into it at /run/postfleet-io for files both sides need (a .deb, outputs).
 */
import { execa, type ResultPromise } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { integration, PRISTINE_MAIN_CF, shq, type RunOptions, type RunResult } from './sandbox.js';
import { missingCommands } from './deb.js';

/** Where DIR/io appears inside the booted system. */
export const IO_INSIDE = '/run/postfleet-io';

/** Units that take boot time and play no part in what is tested (masked in the overlay). */
const MASKED_UNITS = [
  'postgresql.service', 'postgresql@.service', 'prometheus-node-exporter.service',
  'prometheus-node-exporter-apt.timer', 'prometheus-node-exporter-ipmitool-sensor.timer',
  'prometheus-node-exporter-mellanox-hca-temp.timer', 'prometheus-node-exporter-nvme.timer',
  'prometheus-node-exporter-smartmon.timer', 'console-getty.service', 'getty@.service',
  'cron.service', 'apt-daily.timer', 'apt-daily-upgrade.timer', 'man-db.timer',
  'e2scrub_all.timer', 'e2scrub_reap.service', 'fstrim.timer', 'logrotate.timer',
  'systemd-tmpfiles-clean.timer', 'docker.service', 'docker.socket', 'containerd.service',
  'ssh.service', 'systemd-networkd-wait-online.service', 'NetworkManager-wait-online.service',
  'ifupdown-wait-online.service', 'networking.service', 'exim4.service', 'nginx.service',
  'redis-server.service', 'memcached.service',
];

const CONTROLLER = String.raw`
set -u
T=$1
fail() { echo "postfleet boot setup failed: $*" >&2; exit 97; }
mount -t tmpfs -o mode=0755 postfleet-boot "$T/ov" || fail "cannot mount a tmpfs on $T/ov"
mkdir -p "$T/ov/upper" "$T/ov/work" "$T/ov/root" || fail "mkdir"
mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$T/ov/upper,workdir=$T/ov/work" "$T/ov/root" || fail "cannot mount overlayfs over $LOWER"
# The root must be an overlay of / with its upper and work directories on the tmpfs: anything
# else could let the booted system write to the host's disk.
fstype=$(findmnt -n -o FSTYPE --target "$T/ov/root") || fail "findmnt $T/ov/root"
[ "$fstype" = overlay ] || fail "$T/ov/root is $fstype, not overlay"
opts=$(findmnt -n -o OPTIONS --target "$T/ov/root")
case ",$opts," in *",lowerdir=/,"*) ;; *) fail "the overlay's lower layer is not / ($opts)" ;; esac
case ",$opts," in *",upperdir=$T/ov/upper,"*) ;; *) fail "the overlay's upper layer is not $T/ov/upper ($opts)" ;; esac
[ "$(stat -f -c %T "$T/ov/upper")" = tmpfs ] || fail "$T/ov/upper is not on a tmpfs"
[ "$(stat -f -c %T "$T/ov/work")" = tmpfs ] || fail "$T/ov/work is not on a tmpfs"
# systemd-nspawn keeps locks under /run/systemd/nspawn: a private /run keeps them off the host.
mount -t tmpfs -o mode=0755 postfleet-boot-run /run || fail "cannot mount a tmpfs on /run"
R=$T/ov/root
mkdir -p "$R/etc/systemd/system" "$R$IO"
for u in $MASKED; do ln -sfn /dev/null "$R/etc/systemd/system/$u"; done
# A fresh machine id per booted host (the lower one is the host's).
rm -f "$R/etc/machine-id"; : > "$R/etc/machine-id"
# A configured Postfix primary and nothing else of the host's Postfix (as in every Sandbox).
rm -rf "$R"/etc/postfix-* "$R"/var/spool/postfix-* "$R"/var/lib/postfix-* "$R/var/cache/postfleet"
rm -f "$R/etc/postfix/main.cf" "$R/etc/postfix/master.cf" "$R/etc/systemd/system-generators/postfix-instance-generator"
cp "$T/main.cf.pristine" "$R/etc/postfix/main.cf" || fail "cannot write main.cf"
cp "$R/usr/share/postfix/master.cf.dist" "$R/etc/postfix/master.cf" || fail "no master.cf.dist"
touch -d '-1 minute' "$R/etc/postfix/main.cf" "$R/etc/postfix/master.cf"
echo "@@READY"
cat >/dev/null
exit 0
`;

export interface BootedHostOptions {
  /** Extra shell run on the host side inside the controller's namespace before the first boot, with $R the root. */
  readonly prepare?: string;
  /** The overlay's lower layer: '/' (always, but for the test of the refusal of anything else). */
  readonly lower?: string;
}

/** Whether a real systemd can be booted here; `reason` says why not. */
function bootSupport(): { available: boolean; reason?: string } {
  if (!integration.available) return { available: false, reason: integration.reason ?? 'integration sandbox unavailable' };
  const missing = missingCommands(['systemd-nspawn', 'nsenter', 'findmnt', 'unshare']);
  if (missing.length > 0) return { available: false, reason: `missing ${missing.join(', ')} (package systemd-container, util-linux)` };
  for (const p of ['/lib/systemd/systemd', '/usr/lib/systemd/systemd']) {
    try {
      readFileSync(p, { flag: 'r' }).subarray(0, 1);
      return { available: true };
    } catch {
      /* next */
    }
  }
  return { available: false, reason: 'no /lib/systemd/systemd on this machine' };
}

let warned = false;
/** For describe.runIf(): throws under POSTFLEET_REQUIRE_INTEGRATION=1 when systemd cannot be booted. */
export function requireBoot(): boolean {
  const s = bootSupport();
  if (s.available) return true;
  if (process.env.POSTFLEET_REQUIRE_INTEGRATION === '1') throw new Error(`booted-systemd tests are required but cannot run: ${s.reason ?? ''}`);
  if (!warned) console.warn(`[postfleet] skipping booted-systemd tests: ${s.reason ?? ''}`);
  warned = true;
  return false;
}

const DIR_PREFIX = 'postfleet-boot-';

/** Mount points of the cgroup hierarchies systemd keeps its units in: name=systemd (v1) and cgroup2. */
function systemdCgroupHierarchies(): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre = '', post = ''] = line.split(' - ');
    const fields = pre.split(' ');
    const [fstype = '', , superOptions = ''] = post.split(' ');
    const mountPoint = (fields[4] ?? '').replace(/\\040/g, ' ');
    if (fstype === 'cgroup2' || (fstype === 'cgroup' && superOptions.split(',').includes('name=systemd'))) out.push(mountPoint);
  }
  return out;
}

/** Removes a cgroup tree that is empty of processes, deepest first (rmdir of a busy one fails). */
function removeCgroupTree(dir: string): void {
  let children: string[] = [];
  try {
    children = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
  } catch {
    return;
  }
  for (const c of children) removeCgroupTree(c);
  try {
    rmdirSync(dir);
  } catch {
    /* busy or gone */
  }
}

/** The cgroups of boots whose temp dir is gone (their owner died without dispose()). */
function sweepStaleCgroups(base: string): void {
  for (const h of systemdCgroupHierarchies()) {
    let names: string[] = [];
    try {
      names = readdirSync(h).filter((n) => n.startsWith(DIR_PREFIX));
    } catch {
      continue;
    }
    for (const n of names) if (!existsSync(path.join(base, n))) removeCgroupTree(path.join(h, n));
  }
}

function sweepStale(base: string): void {
  for (const name of readdirSync(base).filter((n) => n.startsWith(DIR_PREFIX))) {
    const dir = path.join(base, name);
    try {
      const owner = Number(readFileSync(path.join(dir, 'owner'), 'utf8'));
      if (owner === process.pid) continue;
      try {
        process.kill(owner, 0);
        continue;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') continue;
      }
      rmSync(dir, { recursive: true, force: true });
    } catch {
      /* being made, or gone */
    }
  }
}

const live = new Set<BootedHost>();
process.once('exit', () => {
  for (const h of live) h.killSync();
});

/** The children of a process (host PIDs). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    /* gone */
  }
  return out;
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

export class BootedHost {
  readonly dir: string;
  private readonly controller: ResultPromise;
  private controllerPid = 0;
  private nspawn: ResultPromise | undefined;
  private pid1 = 0;
  private boots = 0;
  private disposed = false;
  /** This host's own cgroups, one per systemd hierarchy (see the header). */
  private readonly cgroups: readonly string[];

  private constructor(dir: string, controller: ResultPromise) {
    this.dir = dir;
    this.controller = controller;
    this.cgroups = systemdCgroupHierarchies().map((h) => path.join(h, path.basename(dir)));
  }

  /** The io directory on the host side (IO_INSIDE inside). */
  get io(): string {
    return path.join(this.dir, 'io');
  }

  /** Host PID of the booted system's PID 1 (its systemd); 0 when it is not running. */
  get pid(): number {
    return this.pid1;
  }

  static async create(options: BootedHostOptions = {}): Promise<BootedHost> {
    const s = bootSupport();
    if (!s.available) throw new Error(`cannot boot systemd here: ${s.reason ?? ''}`);
    const base = os.tmpdir();
    sweepStale(base);
    sweepStaleCgroups(base);
    const dir = mkdtempSync(path.join(base, DIR_PREFIX));
    writeFileSync(path.join(dir, 'owner'), String(process.pid));
    for (const sub of ['ov', 'io']) mkdirSync(path.join(dir, sub));
    const script = `${CONTROLLER.replace('echo "@@READY"', `${options.prepare ?? ''}\necho "@@READY"`)}`;
    writeFileSync(path.join(dir, 'controller.sh'), script);
    writeFileSync(path.join(dir, 'main.cf.pristine'), PRISTINE_MAIN_CF);
    const controller = execa('unshare', ['-m', '-p', '-f', '--mount-proc', '--propagation', 'private', '--kill-child', 'bash', path.join(dir, 'controller.sh'), dir], {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      cleanup: true,
      extendEnv: false,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', MASKED: MASKED_UNITS.join(' '), IO: IO_INSIDE, LC_ALL: 'C', LOWER: options.lower ?? '/' },
    });
    controller.catch(() => undefined);
    const host = new BootedHost(dir, controller);
    live.add(host);
    let stderr = '';
    controller.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const ready = await new Promise<boolean>((resolve) => {
      let out = '';
      controller.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('@@READY')) resolve(true);
      });
      controller.on('exit', () => resolve(false));
    });
    if (!ready) {
      await host.dispose();
      throw new Error(`boot controller failed: ${stderr.trim()}`);
    }
    // unshare -f: the controller is unshare's child, PID 1 of the new namespace.
    const [child] = childrenOf(controller.pid ?? 0);
    if (child === undefined) {
      await host.dispose();
      throw new Error('boot controller: no child of unshare');
    }
    host.controllerPid = child;
    return host;
  }

  /** Boots the OS and waits until systemd says the boot is over (running or degraded). */
  async boot(timeoutMs = 120_000): Promise<string> {
    if (this.nspawn) throw new Error('already booted');
    this.boots += 1;
    const root = path.join(this.dir, 'ov', 'root');
    for (const c of this.cgroups) mkdirSync(c, { recursive: true });
    const log = path.join(this.dir, `console-${this.boots}.log`);
    this.nspawn = execa(
      'nsenter',
      ['-t', String(this.controllerPid), '-m', '-p', '--', 'sh', '-c', 'for c in $CGROUPS; do echo $$ > "$c/cgroup.procs" || exit 98; done; exec "$@"', 'sh', 'systemd-nspawn', '-q', '-D', root, '-b', '--register=no', '--keep-unit', '--private-network',
        '--console=read-only', `--bind=${this.io}:${IO_INSIDE}`, `--machine=pf-${path.basename(this.dir).slice(DIR_PREFIX.length).toLowerCase().replace(/[^a-z0-9]/g, '')}`],
      { stdin: 'ignore', stdout: { file: log }, stderr: { file: `${log}.err` }, reject: false, cleanup: true, extendEnv: false, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', CGROUPS: this.cgroups.join(' ') } },
    );
    this.nspawn.catch(() => undefined);
    const deadline = Date.now() + timeoutMs;
    // nsenter forks (entering a PID namespace), then systemd-nspawn forks the container's PID 1.
    while (this.pid1 === 0) {
      if (this.nspawn.exitCode !== null || Date.now() > deadline) {
        const err = await readFile(`${log}.err`, 'utf8').catch(() => '');
        this.nspawn = undefined;
        throw new Error(`systemd-nspawn did not start a systemd: ${err.trim()}`);
      }
      for (const nspawn of childrenOf(this.nspawn.pid ?? 0)) {
        const pid1 = childrenOf(nspawn).find((p) => comm(p) === 'systemd');
        if (pid1 !== undefined) this.pid1 = pid1;
      }
      if (this.pid1 === 0) await delay(50);
    }
    // Waits for the boot to end (running, or degraded when a unit failed); blocks in systemd, not here.
    for (;;) {
      const r = await this.run('systemctl is-system-running --wait', { timeoutMs: Math.max(deadline - Date.now(), 1000) });
      const state = r.stdout.trim();
      if (state === 'running' || state === 'degraded') return state;
      // The private bus socket may not exist in the first instants: that is the only retry.
      if (!/Failed to connect|No such file|not been booted|initializing|starting/.test(`${state} ${r.stderr}`) || Date.now() > deadline) {
        throw new Error(`boot did not finish: is-system-running said '${state}' ${r.stderr.trim()}`);
      }
      await delay(100);
    }
  }

  /** Each run() so far: when it began (ms since the host was made), how long it took, its exit status and its first line. */
  readonly history: string[] = [];
  private readonly born = Date.now();

  /** Runs a bash script inside the booted system (all its namespaces), with a root login's environment. */
  async run(script: string, opts: RunOptions = {}): Promise<RunResult> {
    const began = Date.now();
    const r = await this.runUntimed(script, opts);
    this.history.push(`+${((began - this.born) / 1000).toFixed(1)} s, ${((Date.now() - began) / 1000).toFixed(1)} s, exit ${r.exitCode}: ${script.trim().split('\n')[0]!.slice(0, 160)}`);
    return r;
  }

  private async runUntimed(script: string, opts: RunOptions): Promise<RunResult> {
    if (!this.pid1) throw new Error('not booted');
    const env: Record<string, string> = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/root',
      USER: 'root',
      LOGNAME: 'root',
      LC_ALL: 'C',
      TERM: 'dumb',
      ...(opts.env ?? {}),
    };
    // --norc: bash takes a socket on its stdin (node's pipes are socketpairs) for rshd and reads
    // ~/.bashrc. This machine's /root/.bashrc runs `pyenv rehash`, whose lock file, left by a
    // killed shell in the overlay, made every later command wait 60 s for it.
    const cmd = opts.tty ? ['script', '-qec', `bash --norc --noprofile -c ${shq(script)}`, '/dev/null'] : ['bash', '--norc', '--noprofile', '-c', script];
    const r = await execa('nsenter', ['-t', String(this.pid1), '-a', '--wdns=/', '--', ...cmd], {
      reject: false,
      extendEnv: false,
      env,
      input: opts.input ?? '',
      timeout: opts.timeoutMs ?? 120_000,
      killSignal: 'SIGKILL',
      stripFinalNewline: false,
    });
    const stdout = String(r.stdout ?? '');
    return { stdout: opts.tty ? stdout.replace(/\r\n/g, '\n') : stdout, stderr: String(r.stderr ?? ''), exitCode: r.timedOut ? 124 : (r.exitCode ?? 1) };
  }

  async runOk(script: string, opts: RunOptions = {}): Promise<RunResult> {
    const r = await this.run(script, opts);
    if (r.exitCode !== 0) throw new Error(`booted host: command failed with exit ${r.exitCode}:\n${script}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
    return r;
  }

  /** Whether a path exists inside (a dangling symlink counts). */
  async exists(p: string): Promise<boolean> {
    return (await this.run(`[ -e ${shq(p)} ] || [ -L ${shq(p)} ]`)).exitCode === 0;
  }

  /** `systemctl poweroff` inside, then waits for systemd-nspawn to end. */
  async poweroff(timeoutMs = 120_000): Promise<void> {
    if (!this.nspawn) return;
    await this.run('systemctl poweroff --no-block');
    const nspawn = this.nspawn;
    const timer = setTimeout(() => nspawn.kill('SIGKILL'), timeoutMs);
    await nspawn;
    clearTimeout(timer);
    this.nspawn = undefined;
    this.pid1 = 0;
    for (const c of this.cgroups) removeCgroupTree(c);
  }

  /** Power off and boot again on the same overlay: what was written survives, as on a disk. */
  async reboot(): Promise<string> {
    await this.poweroff();
    return this.boot();
  }

  /** The console output of the latest boot (for a failing test's message). */
  async console(): Promise<string> {
    return readFile(path.join(this.dir, `console-${this.boots}.log`), 'utf8').catch(() => '');
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    try {
      if (this.nspawn) await this.poweroff(60_000).catch(() => undefined);
    } finally {
      this.controller.stdin?.end();
      const timer = setTimeout(() => this.controller.kill('SIGKILL'), 10_000);
      await this.controller;
      clearTimeout(timer);
      live.delete(this);
      for (const c of this.cgroups) removeCgroupTree(c);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  killSync(): void {
    try {
      this.controller.kill('SIGKILL');
    } catch {
      /* gone */
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
