/**
 * Private sandbox for integration tests that run the real Postfix as root.
 *
 * Every Sandbox owns one long-lived shell (the "controller") that runs as PID 1 of its own
 * PID and mount namespace:
 *
 *   unshare -m -p -f --mount-proc --propagation private --kill-child bash DIR/controller.sh
 *
 * With `network: 'private'` it also gets a network namespace of its own (unshare -n) whose
 * loopback interface is brought up: 127.0.0.0/8 and ::1 are then the sandbox's alone, so a
 * test's Postfix listeners never clash with the host's or another sandbox's ports, and
 * nothing inside can reach any other network.
 *
 * Inside, a tmpfs is mounted on the sandbox's temp dir and overlayfs is mounted over
 * /etc, /var/spool, /var/lib, /var/log, /var/cache (postfleet's settings cache) and /srv (for instances outside the usual paths) with upper/work dirs on that tmpfs, so every write
 * to those trees stays private to the sandbox and nothing is written to the host's disk.
 * The primary instance is then reset to a pristine state (no /etc/postfix-*,
 * /var/spool/postfix-*, /var/lib/postfix-*; fresh minimal main.cf; Debian's stock master.cf;
 * empty queue).
 *
 * run() hands a bash script to the controller, which runs it with stdout/stderr redirected to
 * files in the sandbox's io dir (outside the overlays, visible to both sides) and reports the
 * exit status on its own stdout; so output is captured byte for byte, trailing newline or not.
 * Processes started by one run() (e.g. a Postfix master) keep running for the next run() and
 * all die together when the sandbox is disposed: the controller is the namespace's init, and
 * when it exits the kernel kills everything in the namespace. The controller also exits when
 * its stdin closes, i.e. when the test process dies for any reason.
 *
 * The repository checkout (REPO_ROOT) and the temp dir are not under the overlays and are seen
 * inside as they are on the host. Inside, PATH starts with a `postfleet` shim (runs
 * REPO_ROOT/bin/run.js with this node) and node's own directory.
 *
 * Usage:
 *   describe.runIf(requireIntegration())('…', () => {
 *     let sb: Sandbox;
 *     beforeEach(async () => { sb = await Sandbox.create(); });
 *     afterEach(async () => { await sb.dispose(); });
 *     it('…', async () => {
 *       await sb.runOk('postmulti -e init');
 *       const r = await sb.run('postfix start', { tty: true }); // tty: postfix prints only to a terminal
 *     });
 *   });
 */
import { execa, execaSync, type ResultPromise } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the checkout this helper belongs to (test/helpers/ -> ../..). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Host directories that are overlaid (copy-on-write, private) inside every sandbox. */
export const OVERLAID_DIRS = ['/etc', '/var/spool', '/var/lib', '/var/log', '/var/cache', '/srv'] as const;

/** The pristine primary main.cf written into every new sandbox. */
export const PRISTINE_MAIN_CF = [
  '# postfleet test sandbox: pristine primary instance',
  'compatibility_level = 3.6',
  'myhostname = sandbox.postfleet.test',
  'maillog_file = /var/log/postfix.log',
  'inet_interfaces = loopback-only',
  'master_service_disable = inet',
  '',
].join('\n');

const REQUIRED_COMMANDS = ['bash', 'unshare', 'mount', 'script', 'timeout', 'postfix', 'postconf', 'postmulti'];

/** Quote one string for bash (single quotes). */
export function shq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quote an argument vector for bash. */
export function shjoin(argv: readonly string[]): string {
  return argv.map(shq).join(' ');
}

// ---------------------------------------------------------------------------------------------
// The controller: bash, PID 1 of the sandbox namespace. Arguments: $1 sandbox dir,
// $2 mode ("serve" or "probe"), $3 network ("host" or "private": bring lo up), $4.. overlaid dirs;
// it finds the pristine main.cf in $1. Protocol on stdout: "@@READY <pidns>",
// then "@@DONE <id> <status>" per command. Stdin: "RUN <id>" lines.
// ---------------------------------------------------------------------------------------------
const CONTROLLER = String.raw`
set -u
T=$1; MODE=$2; NET=$3; shift 3
DIRS=("$@")
fail() { echo "postfleet sandbox setup failed: $*" >&2; exit 97; }

if [ "$NET" = private ]; then
  ip link set lo up || fail "cannot bring up lo in the private network namespace"
fi

mount -t tmpfs -o mode=0700 postfleet-sandbox "$T/ov" || fail "cannot mount a tmpfs on $T/ov"

# Submounts under an overlaid dir (container bind mounts such as /etc/hosts, /etc/resolv.conf)
# would be hidden by the overlay: keep a recursive bind of each overlaid dir and re-bind the
# submounts on top of the overlay.
SUBS=()
while read -r _ _ _ _ mp _; do
  mp=$(printf '%b' "$mp")
  for d in "${'$'}{DIRS[@]}"; do
    case $mp in "$d"/*) SUBS+=("$mp") ;; esac
  done
done < /proc/self/mountinfo

for d in "${'$'}{DIRS[@]}"; do
  [ -d "$d" ] && [ ! -L "$d" ] || fail "$d is not a directory"
  n=${'$'}{d//\//_}
  has_sub=
  for s in "${'$'}{SUBS[@]}"; do case $s in "$d"/*) has_sub=1 ;; esac; done
  if [ -n "$has_sub" ]; then
    mkdir -p "$T/stage$d" && mount --rbind "$d" "$T/stage$d" || fail "cannot bind $d"
  fi
  mkdir -p "$T/ov/upper$n" "$T/ov/work$n" || fail "mkdir upper/work for $d"
  mount -t overlay overlay -o "lowerdir=$d,upperdir=$T/ov/upper$n,workdir=$T/ov/work$n" "$d" \
    || fail "cannot mount overlayfs over $d"
done
for s in "${'$'}{SUBS[@]}"; do
  nested=
  for o in "${'$'}{SUBS[@]}"; do case $s in "$o"/*) nested=1 ;; esac; done
  [ -n "$nested" ] && continue
  mount --rbind "$T/stage$s" "$s" 2>/dev/null || echo "postfleet sandbox: warning: cannot re-bind $s" >&2
done
# Keep syslog messages of instances without maillog_file away from a host syslog daemon.
if [ -S /dev/log ]; then mount --bind /dev/null /dev/log 2>/dev/null || true; fi

# Pristine primary instance.
shopt -s nullglob dotglob
rm -rf /etc/postfix-* /var/spool/postfix-* /var/lib/postfix-* /var/cache/postfleet || fail "cannot remove secondary instances"
mkdir -p /etc/postfix
rm -f /etc/postfix/main.cf /etc/postfix/master.cf /var/log/postfix.log
cp "$T/main.cf.pristine" /etc/postfix/main.cf || fail "cannot write main.cf"
if [ -f /usr/share/postfix/master.cf.dist ]; then
  cp /usr/share/postfix/master.cf.dist /etc/postfix/master.cf
elif [ -f /etc/postfix/master.cf.proto ]; then
  cp /etc/postfix/master.cf.proto /etc/postfix/master.cf
else
  fail "no stock master.cf (/usr/share/postfix/master.cf.dist, /etc/postfix/master.cf.proto)"
fi
touch -d '-1 minute' /etc/postfix/main.cf /etc/postfix/master.cf
if [ -d /var/spool/postfix ]; then
  for q in active bounce corrupt defer deferred flush hold incoming maildrop saved trace pid private public; do
    [ -d "/var/spool/postfix/$q" ] && rm -rf "/var/spool/postfix/$q"/*
  done
fi
[ -d /var/lib/postfix ] && rm -rf /var/lib/postfix/*
shopt -u nullglob dotglob

echo "@@READY $(readlink /proc/self/ns/pid)"
[ "$MODE" = serve ] || exit 0

while IFS=' ' read -r tag id; do
  [ "$tag" = RUN ] || continue
  {
    bash "$T/io/$id.run" </dev/null >"$T/io/$id.out" 2>"$T/io/$id.err"
    echo "@@DONE $id $?"
  } &
done
exit 0
`;

function controllerArgs(dir: string, mode: 'serve' | 'probe', extra: readonly string[] = [], network: 'host' | 'private' = 'host'): string[] {
  return [
    ...(network === 'private' ? ['-n'] : []),
    '-m', '-p', '-f', '--mount-proc', '--propagation', 'private', '--kill-child',
    'bash', path.join(dir, 'controller.sh'), dir, mode, network, ...OVERLAID_DIRS, ...extra,
  ];
}

/** Host directories a test may have overlaid on top of OVERLAID_DIRS (SandboxOptions.overlay). */
const EXTRA_OVERLAYS = ['/usr', '/run', '/opt'] as const;
type ExtraOverlay = (typeof EXTRA_OVERLAYS)[number];

export interface SandboxOptions {
  /**
   * Also overlay these (copy-on-write, private): '/usr' for a test that installs a package
   * (dpkg writes /usr, and /lib on merged-/usr systems), '/run' for one that fakes runtime
   * state such as /run/systemd/system.
   */
  overlay?: readonly ExtraOverlay[];
  /**
   * 'private': a network namespace of the sandbox's own with only `lo`, up (127.0.0.0/8, ::1).
   * For tests whose Postfix listens on TCP ports: several sandboxes (and the host) may use the
   * same address and port at once. Default 'host': the host's network, as before.
   */
  network?: 'host' | 'private';
}

function controllerEnv(binDir: string): Record<string, string> {
  return {
    PATH: [binDir, path.dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':'),
    HOME: '/root',
    USER: 'root',
    LOGNAME: 'root',
    SHELL: '/bin/bash',
    TERM: 'dumb',
    LC_ALL: 'C',
    POSTFLEET_REPO: REPO_ROOT,
  };
}

/** A temp dir for sandboxes: must not be under an overlaid dir (it must be shared by both sides). */
function tempBase(): string {
  const candidates = [os.tmpdir(), '/tmp'];
  for (const c of candidates) {
    const abs = path.resolve(c);
    if (!OVERLAID_DIRS.some((d) => abs === d || abs.startsWith(d + '/'))) return abs;
  }
  throw new Error(`no usable temp dir outside ${OVERLAID_DIRS.join(', ')}`);
}

const DIR_PREFIX = 'postfleet-sbx-';

/** Remove sandbox dirs left behind by test processes that died without dispose() (their
 *  namespaces died with them: the controller exits when its stdin closes). */
function sweepStaleDirs(base: string): void {
  let names: string[];
  try {
    names = readdirSync(base).filter((n) => n.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = path.join(base, name);
    try {
      const owner = Number(readFileSync(path.join(dir, 'owner'), 'utf8'));
      if (!(owner > 0) || owner === process.pid) continue;
      try {
        process.kill(owner, 0);
        continue; // owner alive
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') continue;
      }
      rmSync(dir, { recursive: true, force: true });
    } catch {
      /* no owner file (being created) or already gone */
    }
  }
}

function makeSandboxDir(): string {
  const base = tempBase();
  sweepStaleDirs(base);
  const dir = mkdtempSync(path.join(base, DIR_PREFIX));
  writeFileSync(path.join(dir, 'owner'), String(process.pid));
  for (const sub of ['ov', 'io', 'bin', 'stage']) mkdirSync(path.join(dir, sub));
  writeFileSync(path.join(dir, 'controller.sh'), CONTROLLER);
  writeFileSync(path.join(dir, 'main.cf.pristine'), PRISTINE_MAIN_CF);
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Availability
// ---------------------------------------------------------------------------------------------
function probe(): { available: boolean; reason?: string } {
  if (process.platform !== 'linux') return { available: false, reason: `platform is ${process.platform}, not linux` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { available: false, reason: 'not running as root (integration tests need root for unshare/mount)' };
  }
  const which = execaSync('bash', ['--norc', '-c', 'for c; do command -v "$c" >/dev/null || echo "$c"; done', 'x', ...REQUIRED_COMMANDS], {
    reject: false,
    env: controllerEnv('/nonexistent'),
    extendEnv: false,
  });
  const missing = String(which.stdout).split('\n').filter(Boolean);
  if (which.exitCode !== 0 || missing.length > 0) {
    return { available: false, reason: `missing commands: ${missing.join(', ') || String(which.stderr)}` };
  }
  let dir: string | undefined;
  try {
    dir = makeSandboxDir();
    const r = execaSync('unshare', controllerArgs(dir, 'probe'), {
      reject: false,
      input: '',
      env: controllerEnv(path.join(dir, 'bin')),
      extendEnv: false,
      timeout: 30_000,
    });
    if (r.exitCode !== 0 || !String(r.stdout).includes('@@READY')) {
      return {
        available: false,
        reason: `cannot set up a private namespace with overlayfs (exit ${String(r.exitCode)}): ${String(r.stderr).trim() || String(r.stdout).trim()}`,
      };
    }
    return { available: true };
  } catch (err) {
    return { available: false, reason: `sandbox probe failed: ${(err as Error).message}` };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether integration tests can run here; `reason` says why not. Probed once per process. */
export const integration: { readonly available: boolean; readonly reason?: string } = Object.freeze(probe());

let warned = false;
/**
 * For integration describe blocks: `describe.runIf(requireIntegration())('...', () => …)`.
 * Returns whether integration tests can run. When they cannot: throws if
 * POSTFLEET_REQUIRE_INTEGRATION=1 (so CI fails instead of skipping), else warns once.
 */
export function requireIntegration(): boolean {
  if (integration.available) return true;
  const reason = integration.reason ?? 'unknown reason';
  if (process.env.POSTFLEET_REQUIRE_INTEGRATION === '1') {
    throw new Error(`integration tests are required (POSTFLEET_REQUIRE_INTEGRATION=1) but cannot run: ${reason}`);
  }
  if (!warned) {
    warned = true;
    console.warn(`[postfleet] skipping integration tests: ${reason}`);
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Sandbox
// ---------------------------------------------------------------------------------------------
export interface RunOptions {
  /** Extra environment variables (on top of the sandbox's clean base environment). */
  env?: Record<string, string>;
  /** Run under a pseudo-terminal (`script -qec`), so postfix/postmulti-script print their
   *  messages. stdout then holds the terminal output (stdout and stderr merged, CRLF turned
   *  into LF); stderr holds only script(1)'s own complaints. */
  tty?: boolean;
  /** Data for the script's stdin (default: empty / /dev/null). Ignored with tty. */
  input?: string;
  /** Working directory inside the sandbox (default: REPO_ROOT). */
  cwd?: string;
  /** Kill the script (SIGTERM, then SIGKILL 5 s later) after this many ms; exit code 124. */
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface SandboxStat {
  /** Permission bits incl. setuid/setgid/sticky, e.g. 0o2710. */
  mode: number;
  /** `regular file`, `directory`, `symbolic link`, `socket`, `fifo`, … as stat(1) says. */
  type: string;
  uid: number;
  gid: number;
  user: string;
  group: string;
  size: number;
  /** Modification time, seconds since the epoch (fractional). */
  mtime: number;
}

export interface TreeEntry {
  /** Path relative to the listed dir. */
  path: string;
  /** find(1) -printf %y: f file, d directory, l symlink, s socket, p fifo, … */
  kind: string;
  mode: number;
  user: string;
  group: string;
  size: number;
}

class SandboxCommandError extends Error {
  constructor(
    readonly script: string,
    readonly result: RunResult,
  ) {
    super(
      `sandbox command failed with exit ${result.exitCode}:\n${script}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`,
    );
    this.name = 'SandboxCommandError';
  }
}

interface Pending {
  resolve: (status: number) => void;
  reject: (err: Error) => void;
}

const live = new Set<Sandbox>();
process.once('exit', () => {
  for (const s of live) s.killSync();
});

export class Sandbox {
  /** The sandbox's temp dir on the host (io files, shims); the overlay data lives in a tmpfs
   *  only visible inside the namespace. */
  readonly dir: string;

  private readonly proc: ResultPromise;
  private readonly pending = new Map<number, Pending>();
  private readonly ready: Promise<string>;
  private resolveReady!: (pidns: string) => void;
  private nextId = 1;
  private stdoutBuf = '';
  private stderrBuf = '';
  private exited = false;
  private exitInfo = '';
  private ns = '';
  private disposed: Promise<void> | undefined;

  private constructor(dir: string, proc: ResultPromise) {
    this.dir = dir;
    this.proc = proc;
    let rejectReady!: (err: Error) => void;
    this.ready = new Promise<string>((resolve, reject) => {
      this.resolveReady = resolve;
      rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    proc.stdout?.on('data', (chunk: Buffer) => this.onStdout(chunk));
    proc.stderr?.on('data', (chunk: Buffer) => {
      this.stderrBuf = (this.stderrBuf + chunk.toString('utf8')).slice(-16384);
    });
    proc.on('exit', (code, signal) => {
      this.exited = true;
      this.exitInfo = `controller exited (code ${String(code)}, signal ${String(signal)})${
        this.stderrBuf.trim() ? `: ${this.stderrBuf.trim()}` : ''
      }`;
      live.delete(this);
      const err = new Error(
        this.disposed ? `sandbox ${this.dir} disposed while a command was running` : `sandbox ${this.dir}: ${this.exitInfo}`,
      );
      rejectReady(err);
      for (const [, p] of this.pending) p.reject(err);
      this.pending.clear();
    });
    // With reject: false the subprocess promise never rejects; keep it handled anyway.
    proc.catch(() => undefined);
  }

  /** The sandbox's PID namespace, as `readlink /proc/PID/ns/pid` prints it (`pid:[N]`). */
  get pidNamespace(): string {
    return this.ns;
  }

  /** Start a sandbox: fresh namespace, overlays mounted, pristine primary instance. */
  static async create(options: SandboxOptions = {}): Promise<Sandbox> {
    const extra = [...new Set(options.overlay ?? [])];
    for (const d of extra) {
      if (!(EXTRA_OVERLAYS as readonly string[]).includes(d)) throw new Error(`sandbox: cannot overlay ${d} (allowed: ${EXTRA_OVERLAYS.join(', ')})`);
      // The checkout and the io dir must be seen alike on both sides (node under /usr may be copied-on-write).
      for (const shared of [REPO_ROOT, tempBase()]) {
        if (shared === d || shared.startsWith(`${d}/`)) throw new Error(`sandbox: cannot overlay ${d}: ${shared} must be shared with the host`);
      }
    }
    if (!integration.available) {
      throw new Error(`integration sandbox unavailable: ${integration.reason ?? 'unknown reason'}`);
    }
    const dir = makeSandboxDir();
    const binDir = path.join(dir, 'bin');
    // `postfleet` on PATH inside the sandbox runs this checkout's CLI.
    await writeFile(
      path.join(binDir, 'postfleet'),
      `#!/bin/sh\nexec ${shq(process.execPath)} ${shq(path.join(REPO_ROOT, 'bin', 'run.js'))} "$@"\n`,
      { mode: 0o755 },
    );
    const proc = execa('unshare', controllerArgs(dir, 'serve', extra, options.network ?? 'host'), {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      cleanup: true,
      env: controllerEnv(binDir),
      extendEnv: false,
    });
    const sandbox = new Sandbox(dir, proc);
    live.add(sandbox);
    try {
      sandbox.ns = await sandbox.ready;
      return sandbox;
    } catch (err) {
      await sandbox.dispose();
      throw new Error(`sandbox setup failed: ${(err as Error).message}`);
    }
  }

  private onStdout(chunk: Buffer): void {
    this.stdoutBuf += chunk.toString('utf8');
    let nl: number;
    while ((nl = this.stdoutBuf.indexOf('\n')) >= 0) {
      const line = this.stdoutBuf.slice(0, nl);
      this.stdoutBuf = this.stdoutBuf.slice(nl + 1);
      const ready = /^@@READY (\S+)$/.exec(line);
      if (ready) {
        this.resolveReady(ready[1] ?? '');
        continue;
      }
      const done = /^@@DONE (\d+) (\d+)$/.exec(line);
      if (!done) continue;
      const id = Number(done[1]);
      const p = this.pending.get(id);
      if (p) {
        this.pending.delete(id);
        p.resolve(Number(done[2]));
      }
    }
  }

  /**
   * Run a bash script inside the sandbox. Several run() calls may be in flight at once; each
   * gets its own bash with the sandbox's base environment (PATH with sbin dirs, node and a
   * `postfleet` shim; LC_ALL=C; POSTFLEET_REPO = the checkout) plus opts.env, and stdin empty
   * (or opts.input). Processes the script leaves behind (daemons) keep running until dispose().
   */
  async run(script: string, opts: RunOptions = {}): Promise<RunResult> {
    if (this.disposed) throw new Error('sandbox already disposed');
    if (this.exited) throw new Error(`sandbox ${this.dir}: ${this.exitInfo}`);
    const id = this.nextId++;
    const base = path.join(this.dir, 'io', String(id));
    const lines: string[] = [`cd ${shq(opts.cwd ?? REPO_ROOT)} || exit 125`];
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`bad environment variable name: ${k}`);
      lines.push(`export ${k}=${shq(v)}`);
    }
    await writeFile(`${base}.sh`, script);
    const timeout = opts.timeoutMs !== undefined ? ['timeout', '-k', '5', `${Math.max(opts.timeoutMs, 1) / 1000}`] : [];
    if (opts.tty) {
      lines.push(`exec ${shjoin([...timeout, 'script', '-qec', `bash ${shq(`${base}.sh`)}`, '/dev/null'])} </dev/null`);
    } else {
      await writeFile(`${base}.in`, opts.input ?? '');
      lines.push(`exec ${shjoin([...timeout, 'bash', `${base}.sh`])} <${shq(`${base}.in`)}`);
    }
    await writeFile(`${base}.run`, lines.join('\n') + '\n');

    try {
      const status = await new Promise<number>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        this.proc.stdin?.write(`RUN ${id}\n`, (err) => {
          if (err && this.pending.delete(id)) reject(new Error(`sandbox ${this.dir}: cannot send command: ${err.message}`));
        });
      });
      const [out, stderr] = await Promise.all([readFile(`${base}.out`, 'utf8'), readFile(`${base}.err`, 'utf8')]);
      return { stdout: opts.tty ? out.replace(/\r\n/g, '\n') : out, stderr, exitCode: status };
    } finally {
      await Promise.all(['sh', 'in', 'run', 'out', 'err'].map((ext) => rm(`${base}.${ext}`, { force: true })));
    }
  }

  /** run(), but throw a SandboxCommandError (with the full output) unless the exit code is 0. */
  async runOk(script: string, opts: RunOptions = {}): Promise<RunResult> {
    const r = await this.run(script, opts);
    if (r.exitCode !== 0) throw new SandboxCommandError(script, r);
    return r;
  }

  /** Run an argument vector (no shell interpretation of the arguments). */
  async exec(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    if (argv.length === 0) throw new Error('exec: empty argv');
    return this.run(`exec ${shjoin(argv)}`, opts);
  }

  /** Contents of a file as seen inside the sandbox (throws if it cannot be read). */
  async readFile(p: string): Promise<string> {
    return (await this.runOk(`cat -- ${shq(p)}`)).stdout;
  }

  /** Whether a path exists inside the sandbox (a dangling symlink counts). */
  async exists(p: string): Promise<boolean> {
    return (await this.run(`[ -e ${shq(p)} ] || [ -L ${shq(p)} ]`)).exitCode === 0;
  }

  /**
   * Write a file inside the sandbox (parent dirs are created). By default its mtime is set one
   * minute into the past: Postfix programs wait ~2 s when main.cf is less than a second old.
   */
  async writeFile(p: string, content: string, opts: { mode?: number; backdate?: boolean } = {}): Promise<void> {
    const tmp = path.join(this.dir, 'io', `w-${randomBytes(6).toString('hex')}`);
    await writeFile(tmp, content);
    try {
      const steps = [`mkdir -p -- "$(dirname -- ${shq(p)})"`, `cat -- ${shq(tmp)} > ${shq(p)}`];
      if (opts.mode !== undefined) steps.push(`chmod ${opts.mode.toString(8)} -- ${shq(p)}`);
      if (opts.backdate !== false) steps.push(`touch -d '-1 minute' -- ${shq(p)}`);
      await this.runOk(`set -e\n${steps.join('\n')}`);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /**
   * Set the mtime of files one minute into the past (see writeFile). Each argument is a bash
   * glob pattern (unquoted!), e.g. '/etc/postfix*\/main.cf'; patterns matching nothing are ignored.
   */
  async backdate(...patterns: string[]): Promise<void> {
    if (patterns.length === 0) return;
    await this.runOk(`shopt -s nullglob; set -- ${patterns.join(' ')}; [ $# -eq 0 ] || touch -d '-1 minute' -- "$@"`);
  }

  /**
   * Where, inside the sandbox, the overlay keeps what was written to `dir` (one of
   * OVERLAID_DIRS) since the sandbox started: changed and new files and directories, and a
   * whiteout (a 0/0 character device) for each removed one. What a command changed under
   * `dir` shows here, and nothing of what the host changes underneath.
   */
  upperDir(dir: (typeof OVERLAID_DIRS)[number]): string {
    return path.join(this.dir, 'ov', `upper${dir.replace(/\//g, '_')}`);
  }

  /** lstat() inside the sandbox; undefined if the path does not exist. */
  async stat(p: string): Promise<SandboxStat | undefined> {
    if (!(await this.exists(p))) return undefined;
    const r = await this.runOk(`stat -c '%f|%F|%u|%g|%U|%G|%s|%.9Y' -- ${shq(p)}`);
    const [rawMode = '', type = '', uid = '', gid = '', user = '', group = '', size = '', mtime = ''] = r.stdout.trim().split('|');
    return {
      mode: parseInt(rawMode, 16) & 0o7777,
      type,
      uid: Number(uid),
      gid: Number(gid),
      user,
      group,
      size: Number(size),
      mtime: Number(mtime),
    };
  }

  /** Every path under dir (not dir itself), sorted, with kind, mode, owner and size. */
  async listTree(dir: string): Promise<TreeEntry[]> {
    const r = await this.runOk(`find ${shq(dir)} -mindepth 1 -printf '%P\\0%y\\0%m\\0%u\\0%g\\0%s\\0'`);
    const f = r.stdout.split('\0');
    const out: TreeEntry[] = [];
    for (let i = 0; i + 5 < f.length; i += 6) {
      out.push({
        path: f[i] ?? '',
        kind: f[i + 1] ?? '',
        mode: parseInt(f[i + 2] ?? '0', 8),
        user: f[i + 3] ?? '',
        group: f[i + 4] ?? '',
        size: Number(f[i + 5]),
      });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Host PIDs of all processes currently in this sandbox's PID namespace (none once disposed). */
  async hostPids(): Promise<number[]> {
    return hostPidsInNamespace(this.ns);
  }

  /** Stop everything in the sandbox (the namespace dies with its init) and remove the temp dir.
   *  Idempotent. Nothing is unmounted on the host: all mounts lived only in the namespace. */
  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      if (!this.exited) {
        this.proc.stdin?.end();
        const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
        await this.proc;
        clearTimeout(timer);
      }
      live.delete(this);
      await rm(this.dir, { recursive: true, force: true });
    })();
    return this.disposed;
  }

  /** Last-resort cleanup at process exit (synchronous). */
  killSync(): void {
    try {
      this.proc.kill('SIGKILL');
    } catch {
      /* already gone */
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Host PIDs of the processes in the given PID namespace (`pid:[N]`). */
export async function hostPidsInNamespace(ns: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if ((await readlink(`/proc/${name}/ns/pid`)) === ns) pids.push(Number(name));
    } catch {
      /* exited meanwhile, or a kernel thread */
    }
  }
  return pids.sort((a, b) => a - b);
}

/** Host PIDs of processes named `comm` (as pgrep -x) that live in the host's own PID namespace. */
export function hostProcessesNamed(comm: string): number[] {
  const ownNs = readlinkSync('/proc/self/ns/pid');
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/pid`) !== ownNs) continue;
      if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() === comm) out.push(Number(name));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}
