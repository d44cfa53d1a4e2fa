#!/usr/bin/env node
// The health probe's speed: `postfleet probe` of N instances with 3 listeners each (two plain
// smtpd services and one wrapper-mode TLS smtpd), target under 2 s for N = 100.
//
//   node bench/probe.js [--instances=N] [--runs=R] [--out=FILE]
//
// Must run as root. Like bench/run.js it re-runs itself in a private world (bench/lib/world.sh
// as PID 1 of a new PID + mount namespace, overlays over /etc, /var/spool, /var/lib, /var/log,
// /var/cache), and here in a network namespace of its own too (unshare -n, lo brought up), so
// its 3N listeners on 127.0.0.1 collide with nothing. Figures: printed as a Markdown table
// (for bench/RESULTS.md) and written as JSON to FILE (default bench/work/probe-results.json).
//
// Measured, each run checked (exit 0, N instances, 3N services, every one healthy, every SMTP
// dialogue up to RCPT): "warm" probes (the instances' smtpd processes already running, as on
// a mail server that has traffic), and "cold" ones right after every instance was reloaded
// and its old daemons are gone (each of the 3N connections spawns its smtpd, which loads its
// configuration and, for the TLS service, its certificate).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { haveCommand, log, sh, stats } from './lib/util.js';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');
const PF = [process.execPath, path.join(ROOT, 'bin', 'run.js')];

const opt = { instances: 100, runs: 10, out: path.join(BENCH, 'work', 'probe-results.json'), inside: null, profile: false };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a.startsWith('--instances=')) opt.instances = Number(a.slice(12));
  else if (a.startsWith('--runs=')) opt.runs = Number(a.slice(7));
  else if (a.startsWith('--out=')) opt.out = path.resolve(a.slice(6));
  else if (a === '--inside') opt.inside = argv[++i];
  else if (a === '--profile') opt.profile = true;
  else {
    console.error(`bench/probe: unknown option ${a}`);
    process.exit(2);
  }
}
if (!(opt.instances >= 1 && opt.instances <= 300) || !(opt.runs >= 1)) {
  console.error('bench/probe: --instances must be 1 to 300, --runs at least 1');
  process.exit(2);
}

if (opt.inside) await inside();
else await outside();

async function outside() {
  if (process.getuid() !== 0) fail('must run as root (it mounts overlays in private namespaces)');
  for (const c of ['unshare', 'ip', 'openssl', 'postmulti', 'postconf', 'postfix']) if (!haveCommand(c)) fail(`${c} not found`);
  if (!existsSync('/usr/bin/time')) fail('/usr/bin/time not found (apt-get install -y time)');
  const work = path.join(BENCH, 'work', `probe-${process.pid}`);
  mkdirSync(work, { recursive: true });
  mkdirSync(path.dirname(opt.out), { recursive: true });
  const inner = [process.execPath, fileURLToPath(import.meta.url), '--inside', work, `--instances=${opt.instances}`, `--runs=${opt.runs}`, `--out=${opt.out}`, ...(opt.profile ? ['--profile'] : [])];
  // lo up, then world.sh as PID 1 (exec keeps the PID).
  const script = `ip link set lo up && exec bash ${BENCH}/lib/world.sh "$@"`;
  const world = spawn('unshare', ['-n', '-m', '-p', '-f', '--mount-proc', '--propagation', 'private', '--kill-child', 'bash', '-c', script, 'world', work, ...inner], { stdio: 'inherit' });
  const stop = () => world.kill('SIGKILL');
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, stop);
  const status = await new Promise((resolve) => world.on('exit', (code) => resolve(code ?? 1)));
  rmSync(work, { recursive: true, force: true });
  process.exit(status);
}

function fail(msg) {
  console.error(`bench/probe: ${msg}`);
  process.exit(1);
}

/** N instances, each with smtpd on 127.0.0.1:P, 127.0.0.1:P+1, and wrapper-mode TLS on 127.0.0.1:P+2. */
function makeFleet(n) {
  log(`fleet of ${n} instances, 3 listeners each`);
  sh(`bash ${BENCH}/mkfleet.sh ${n} yes >/dev/null`);
  sh('postalias /etc/aliases');
  sh('openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout /etc/postfix/probe-key.pem -out /etc/postfix/probe-cert.pem -days 2 -subj /CN=bench.example 2>/dev/null');
  const master = readFileSync('/etc/postfix-b0/master.cf', 'utf8').replace(/^smtp( +inet .*smtpd)$/m, '#smtp$1');
  for (let k = 0; k < n; k++) {
    const dir = `/etc/postfix-b${k}`;
    const port = 20000 + 3 * k;
    const listeners = [
      `127.0.0.1:${port} inet n - y - - smtpd`,
      `127.0.0.1:${port + 1} inet n - y - - smtpd -o syslog_name=postfix-b${k}/submission`,
      `127.0.0.1:${port + 2} inet n - y - - smtpd -o syslog_name=postfix-b${k}/smtps -o smtpd_tls_wrappermode=yes`,
    ];
    writeFileSync(`${dir}/master.cf`, `${master}${listeners.join('\n')}\n`);
    const main = readFileSync(`${dir}/main.cf`, 'utf8').replace(/^master_service_disable = .*\n/m, '');
    const settings = [
      'inet_interfaces = loopback-only',
      `myhostname = b${k}.bench.example`,
      `maillog_file = /var/log/postfix-b${k}.log`,
      'smtpd_tls_chain_files = /etc/postfix/probe-key.pem, /etc/postfix/probe-cert.pem',
    ];
    writeFileSync(`${dir}/main.cf`, `${main}${settings.join('\n')}\n`);
  }
  sh("printf '%s\\n' /etc/postfix-b*/main.cf | xargs touch -d '-1 minute'");
  log('starting them');
  const r = spawnSync(PF[0], [...PF.slice(1), 'postfix', 'start', '-g', 'bench', '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const started = JSON.parse(r.stdout);
  if (r.status !== 0 || started.length !== n) fail(`postfleet postfix start failed (exit ${r.status}): ${r.stderr.slice(0, 500)}`);
}

/** argv timed: wall seconds, and the CPU seconds (user + system) of the process and its children (/usr/bin/time), with its output. */
function timedCpu(args) {
  const cpuFile = path.join(opt.inside, 'cpu');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', cpuFile, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { r, secs, cpu: user + sys };
}

/** One timed `postfleet probe -g bench --json` (and `extra` flags), checked. */
function probeOnce(n, extra = []) {
  const { r, secs, cpu } = timedCpu([...PF, 'probe', '-g', 'bench', '--json', ...extra]);
  const untilRcpt = !extra.includes('none');
  let answer;
  try {
    answer = JSON.parse(r.stdout);
  } catch {
    fail(`postfleet probe printed no JSON (exit ${r.status}): ${r.stderr.slice(0, 500)}`);
  }
  const services = answer.instances.flatMap((p) => p.services);
  const unhealthy = answer.instances.filter((p) => !p.healthy);
  if (r.status !== 0 || answer.instances.length !== n || services.length !== 3 * n || unhealthy.length > 0 || services.some((s) => s.stage !== 'done' || (untilRcpt && s.replies.rcpt === undefined))) {
    fail(`a probe run failed its check (exit ${r.status}, ${answer.instances.length} instances, ${services.length} services, ${unhealthy.length} unhealthy): ${unhealthy.slice(0, 3).map((p) => `${p.instance}: ${p.error}`).join('; ')}`);
  }
  const slowest = Math.max(...answer.instances.map((p) => p.durationMs));
  return { secs, cpu, slowestInstanceMs: slowest, tls: services.filter((s) => s.tls).length };
}

/** Reloads every instance and waits until none of the masters' old children is left: the next probe spawns every smtpd. */
function reloadAndSettle() {
  const masters = sh("cat /var/spool/postfix-b*/pid/master.pid | tr -d ' '").stdout.trim().split('\n').map(Number);
  const childrenNow = () => {
    const out = new Set();
    for (const pid of masters) {
      try {
        for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)) if (c) out.add(Number(c));
      } catch {
        // gone
      }
    }
    return out;
  };
  const old = childrenNow();
  sh("printf '%s\\n' /etc/postfix-b*/ | xargs -P 4 -I{} postfix -c {} reload 2>/dev/null");
  const deadline = Date.now() + 60_000;
  while ([...childrenNow()].some((c) => old.has(c) && readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'smtpd')) {
    if (Date.now() > deadline) fail('old smtpd processes still there a minute after the reload');
    spawnSync('sleep', ['0.1']);
  }
}

async function inside() {
  const n = opt.instances;
  makeFleet(n);
  log('first probe (cold: no smtpd has run yet)');
  const first = probeOnce(n);
  const warm = [];
  log(`${opt.runs} warm probes`);
  for (let i = 0; i < opt.runs; i++) warm.push(probeOnce(n));
  if (opt.profile) profile();
  const cold = [];
  const coldRuns = Math.max(1, Math.min(5, opt.runs));
  log(`${coldRuns} cold probes, each after a reload of every instance`);
  for (let i = 0; i < coldRuns; i++) {
    reloadAndSettle();
    cold.push(probeOnce(n));
  }
  // How much of a cold probe is the RCPT path (smtpd's cleanup, trivial-rewrite and proxymap spawned per instance).
  const coldEhlo = [];
  for (let i = 0; i < Math.min(3, coldRuns); i++) {
    reloadAndSettle();
    coldEhlo.push(probeOnce(n, ['--probe-rcpt', 'none']));
  }
  // postfleet's fixed cost, no connection made: node, the fleet read, one pid file per instance.
  const status = [];
  for (let i = 0; i < Math.max(3, Math.min(opt.runs, 10)); i++) status.push(timedCpu([...PF, 'status', '-g', 'bench', '--json']));
  const nodeStart = [];
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0']);
    nodeStart.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const w = stats(warm.map((r) => r.secs));
  const c = stats(cold.map((r) => r.secs));
  const commit = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  const st = stats(status.map((x) => x.secs));
  const cpu = (runs) => stats(runs.map((x) => x.cpu)).median;
  const ce = stats(coldEhlo.map((x) => x.secs));
  const result = { date: new Date().toISOString(), commit, instances: n, listeners: 3 * n, tlsListeners: first.tls, first, warm, cold, coldEhlo, warmStats: w, coldStats: c, coldEhloStats: ce, warmCpuMedian: cpu(warm), coldCpuMedian: cpu(cold), statusStats: st, statusCpuMedian: cpu(status), nodeStartMedian: stats(nodeStart).median, loadAtEnd: load };
  writeFileSync(opt.out, `${JSON.stringify(result, null, 2)}\n`);
  const ms = (s) => `${(s * 1000).toFixed(0)} ms`;
  console.log(`| ${n} instances × 3 listeners (${first.tls} TLS) | median | min–max | runs | postfleet's CPU (median) |`);
  console.log('|---|---:|---:|---:|---:|');
  console.log(`| \`postfleet probe\`, first after the start (every smtpd spawned) | ${ms(first.secs)} | | 1 | ${ms(first.cpu)} |`);
  console.log(`| \`postfleet probe\`, warm (smtpd processes running) | ${ms(w.median)} | ${ms(w.min)}–${ms(w.max)} | ${w.n} | ${ms(cpu(warm))} |`);
  console.log(`| \`postfleet probe\`, cold (after a reload of every instance) | ${ms(c.median)} | ${ms(c.min)}–${ms(c.max)} | ${c.n} | ${ms(cpu(cold))} |`);
  console.log(`| \`postfleet probe --probe-rcpt none\`, cold (the dialogue stops after EHLO) | ${ms(ce.median)} | ${ms(ce.min)}–${ms(ce.max)} | ${ce.n} | ${ms(cpu(coldEhlo))} |`);
  console.log(`| \`postfleet status\` of the same fleet (no connection: node, the fleet, the pid files) | ${ms(st.median)} | ${ms(st.min)}–${ms(st.max)} | ${st.n} | ${ms(cpu(status))} |`);
  console.log(`\nnode -e 0: ${ms(stats(nodeStart).median)}; load at the end: ${load}; commit ${commit}; raw: ${path.relative(ROOT, opt.out)}`);
}

/** --profile: one warm probe under node's CPU profiler; where postfleet's own time goes, by function (self time). */
function profile() {
  const dir = path.join(opt.inside, 'prof');
  mkdirSync(dir, { recursive: true });
  spawnSync(PF[0], ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...PF.slice(1), 'probe', '-g', 'bench', '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  for (const f of readdirSync(dir)) {
    const prof = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    const self = new Map();
    const dt = new Map(prof.nodes.map((n) => [n.id, 0]));
    prof.samples.forEach((id, k) => dt.set(id, dt.get(id) + (prof.timeDeltas[k] ?? 0)));
    for (const n of prof.nodes) {
      const key = `${n.callFrame.functionName || '(anonymous)'} ${path.basename(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + dt.get(n.id));
    }
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    console.log(`cpu profile ${f}: ${(total / 1000).toFixed(0)} ms sampled`);
    for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${(us / 1000).toFixed(1).padStart(7)} ms  ${k}`);
  }
}
