// Small helpers shared by bench/run.js: process running and timing, statistics, the private
// world's file checks. Everything here runs inside the benchmark namespace except where noted.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';

export const log = (...a) => {
  const t = new Date().toISOString().slice(11, 19);
  console.error(`[bench ${t}]`, ...a);
};

/** Run a bash snippet synchronously (setup work, never timed); throw on failure. */
export function sh(script, { allowFail = false, cwd } = {}) {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', cwd, maxBuffer: 256 << 20 });
  if (!allowFail && r.status !== 0) {
    throw new Error(`setup command failed (exit ${r.status}): ${script}\n${r.stderr}`);
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Run argv synchronously, capture output (not timed). */
export function capture(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * Start argv with stdout+stderr going to a file (never a pipe: a daemonised Postfix master
 * could keep a pipe open), resolve with its wall-clock duration in seconds (spawn to exit)
 * and exit code.
 */
export function timed(argv, outFile) {
  return new Promise((resolve, reject) => {
    const fd = openSync(outFile, 'w');
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', fd, fd] });
    child.on('error', (e) => { closeSync(fd); reject(e); });
    child.on('exit', (code, signal) => {
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      closeSync(fd);
      resolve({ secs, code: code ?? (signal ? 128 : -1), signal });
    });
  });
}

/** Start many argvs at once; resolve when all have exited: total wall time plus each result. */
export async function timedConcurrent(argvs, outFileFor) {
  const t0 = process.hrtime.bigint();
  const each = await Promise.all(argvs.map((argv, i) => timed(argv, outFileFor(i))));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { secs, each };
}

export function stats(times) {
  const s = [...times].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { n: 0 };
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  const mean = s.reduce((a, b) => a + b, 0) / n;
  const stddev = n > 1 ? Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, median, mean, stddev, min: s[0], max: s[n - 1] };
}

export function haveCommand(cmd) {
  return spawnSync('bash', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/**
 * Time one command `runs` times (after `warmup` untimed runs). With hyperfine (preferred):
 * `hyperfine -N` (no intermediate shell), its JSON export. Without: a plain loop.
 * `prepare`: a bash snippet run (untimed) before each run, warm-ups included.
 */
export async function measure(argv, { runs, warmup = 0, ignoreFailure = false, scratch, hyperfine = true, prepare }) {
  if (hyperfine) {
    const json = path.join(scratch, `hf-${process.pid}-${Date.now()}.json`);
    const cmd = argv.join(' ');
    const hfArgs = ['-N', '--style', 'none', '--runs', String(runs), '--warmup', String(warmup), ...(prepare ? ['--prepare', prepare] : []),
      '--export-json', json, ...(ignoreFailure ? ['-i'] : []), cmd];
    const r = capture(['hyperfine', ...hfArgs]);
    if (r.code !== 0) throw new Error(`hyperfine failed for ${cmd}:\n${r.stderr}`);
    const h = JSON.parse(readFileSync(json, 'utf8')).results[0];
    return { tool: 'hyperfine', command: cmd, times: h.times, exitCodes: h.exit_codes, ...stats(h.times) };
  }
  const out = path.join(scratch, 'loop.out');
  const before = () => prepare && sh(prepare);
  for (let i = 0; i < warmup; i++) {
    before();
    await timed(argv, out);
  }
  const times = [];
  const exitCodes = [];
  for (let i = 0; i < runs; i++) {
    before();
    const r = await timed(argv, out);
    if (r.code !== 0 && !ignoreFailure) throw new Error(`${argv.join(' ')} exited ${r.code}`);
    times.push(r.secs);
    exitCodes.push(r.code);
  }
  return { tool: 'loop', command: argv.join(' '), times, exitCodes, ...stats(times) };
}

/**
 * Running Postfix masters in this PID namespace: live (non-zombie) processes named "master"
 * whose parent is not itself a master (a master's freshly forked child is called "master"
 * too until it execs its daemon, so a plain count can briefly read one high).
 */
export function countMasters() {
  const procs = new Map();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let stat;
    try { stat = readFileSync(`/proc/${e}/stat`, 'utf8'); } catch { continue; }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const [state, ppid] = stat.slice(close + 2).split(' ');
    procs.set(Number(e), { comm, state, ppid: Number(ppid) });
  }
  let n = 0;
  for (const p of procs.values()) {
    if (p.comm === 'master' && p.state !== 'Z' && procs.get(p.ppid)?.comm !== 'master') n++;
  }
  return n;
}

export function masterPids() {
  const pids = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (comm === 'master') pids.push(Number(e));
    } catch { /* gone */ }
  }
  return pids;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Poll until countMasters() === want or timeout; returns { now, final, waitedMs }. */
export async function waitMasters(want, timeoutMs) {
  const now = countMasters();
  let final = now;
  const t0 = Date.now();
  while (final !== want && Date.now() - t0 < timeoutMs) {
    await sleep(50);
    final = countMasters();
  }
  return { now, final, waitedMs: final === now ? 0 : Date.now() - t0 };
}

/** Back-date every main.cf (primary and /etc/postfix-*) by a minute, so Postfix does not pause. */
export function backdate() {
  const t = new Date(Date.now() - 60_000);
  const files = ['/etc/postfix/main.cf', '/etc/postfix/master.cf'];
  for (const e of readdirSync('/etc')) {
    if (e.startsWith('postfix-')) files.push(`/etc/${e}/main.cf`, `/etc/${e}/master.cf`);
  }
  for (const f of files) {
    try { utimesSync(f, t, t); } catch { /* absent */ }
  }
}

/** A main.cf parameter as the last definition in the file (continuation lines joined), raw. */
export function mainCfRaw(file, name) {
  const text = readFileSync(file, 'utf8');
  const logical = [];
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) || /^\s*$/.test(line)) continue;
    if (/^\s/.test(line) && logical.length) logical[logical.length - 1] += ' ' + line.trim();
    else logical.push(line);
  }
  let value = null;
  let definitions = 0;
  const re = new RegExp(`^${name}\\s*=\\s*(.*)$`);
  for (const l of logical) {
    const m = re.exec(l);
    if (m) { value = m[1].trim(); definitions++; }
  }
  return { value, definitions };
}

export function instanceDirs() {
  const { value, definitions } = mainCfRaw('/etc/postfix/main.cf', 'multi_instance_directories');
  return { dirs: value ? value.split(/[\s,]+/).filter(Boolean) : [], definitions };
}

export function isFile(p) {
  try { return statSync(p).isFile(); } catch { return false; }
}

export function exists(p) { return existsSync(p); }
