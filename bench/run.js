#!/usr/bin/env node
// Side-by-side benchmarks of postfleet against the real postmulti(1).
//
//   node bench/run.js [--quick] [--only=startup,listing,status,memory,queue,queue-read,startstop,lifecycle,bulk,decommission] [--keep]
//                     [--out=DIR] [--no-hyperfine] [--before=DIR]
//
// Must run as root. It re-runs itself as PID 2 of a private PID + mount namespace
// (bench/lib/world.sh is PID 1), with overlayfs over /etc, /var/spool, /var/lib, /var/log, /var/cache
// whose upper dirs live in bench/work/run-* (git-ignored) — so nothing it does touches the
// host's Postfix, and every master it starts dies with the namespace. Results: bench/RESULTS.md
// (tables, targets) and bench/results.json (raw numbers), or DIR with --out. --quick: small
// fleets and few runs, for checking the harness itself (writes to bench/work/ by default).
//
// postfleet is run from this checkout's build (bin/run.js + dist/): run `npm run build` first.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  backdate, capture, haveCommand, instanceDirs, isFile, log, mainCfRaw, masterPids, measure, sh,
  sleep, stats, timed, timedConcurrent, waitMasters,
} from './lib/util.js';
import { renderReport } from './lib/report.js';
import { queuePhase } from './lib/queue-phase.js';
import { queueReadPhase } from './lib/queue-read-phase.js';
import { startupPhase } from './lib/startup-phase.js';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');
const PF = [process.execPath, path.join(ROOT, 'bin', 'run.js')];
const PM = ['postmulti'];
// postfleet with its settings cache turned off: every main.cf read and parsed, as on the first
// run after the files changed (env(1) costs ~1 ms of the figure).
const PF_NOCACHE = ['env', 'POSTFLEET_CACHE_DIR=', ...PF];
/** What the measured commands keep of the environment (see operatorEnvironment()). */
const KEEP_ENV = new Set(['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TERM', 'USER', 'LOGNAME', 'SHELL']);
/** Every instance, primary first (reversed for stop), through xargs -P 2 and plain postfix(1). */
const XARGS = (verb) =>
  `{ echo /etc/postfix; postconf -h multi_instance_directories | tr ', ' '\\n\\n' | grep .; } ${verb === 'stop' ? '| tac ' : ''}| xargs -P 2 -I{} postfix -c {} ${verb}`;

// ------------------------------------------------------------------------------------------
// Options
// ------------------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const opt = { quick: false, only: null, keep: false, out: null, inside: null, hyperfine: true, before: null };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--quick') opt.quick = true;
  else if (a === '--keep') opt.keep = true;
  else if (a === '--no-hyperfine') opt.hyperfine = false;
  else if (a.startsWith('--only=')) opt.only = a.slice(7).split(',');
  else if (a.startsWith('--out=')) opt.out = path.resolve(a.slice(6));
  else if (a.startsWith('--before=')) opt.before = path.resolve(a.slice(9));
  else if (a === '--inside') opt.inside = argv[++i];
  else if (a === '-h' || a === '--help') {
    console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 15)
      .map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
    process.exit(0);
  } else {
    console.error(`bench: unknown option ${a}`);
    process.exit(2);
  }
}
const PHASES = ['startup', 'listing', 'status', 'memory', 'queue', 'queue-read', 'startstop', 'lifecycle', 'bulk', 'decommission'];
if (opt.only) {
  for (const p of opt.only) if (!PHASES.includes(p)) { console.error(`bench: unknown phase ${p}`); process.exit(2); }
}
const want = (p) => !opt.only || opt.only.includes(p);

if (opt.inside) await inside(path.resolve(opt.inside));
else await outside();

// ------------------------------------------------------------------------------------------
// Host side: checks, then the namespace.
// ------------------------------------------------------------------------------------------
async function outside() {
  if (process.getuid() !== 0) fail('must run as root (it mounts overlays in a private namespace)');
  for (const c of ['unshare', 'mount', 'bash', 'postmulti', 'postconf', 'postfix']) {
    if (!haveCommand(c)) fail(`${c} not found`);
  }
  if (!existsSync(path.join(ROOT, 'dist', 'compat', 'main.js'))) fail('dist/ missing: run `npm run build` first');
  const newest = (dir) => {
    let m = 0;
    for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (e.isFile()) m = Math.max(m, statSync(path.join(e.parentPath ?? e.path, e.name)).mtimeMs);
    }
    return m;
  };
  if (newest(path.join(ROOT, 'src')) > newest(path.join(ROOT, 'dist'))) {
    log('warning: src/ is newer than dist/ — benchmarking the last build (run `npm run build` to refresh)');
  }
  if (!haveCommand('hyperfine')) log('hyperfine not found (apt-get install -y hyperfine): falling back to a timing loop');
  if (!existsSync('/usr/bin/time')) log('/usr/bin/time not found (apt-get install -y time): memory phase skipped');

  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const work = path.join(BENCH, 'work', `run-${stamp}-${process.pid}`);
  mkdirSync(work, { recursive: true });
  log(`private world in ${path.relative(ROOT, work)}`);
  const pass = argv.filter((a) => a !== '--keep');
  const world = spawn('unshare', ['-m', '-p', '-f', '--mount-proc', '--propagation', 'private', '--kill-child',
    'bash', path.join(BENCH, 'lib', 'world.sh'), work,
    process.execPath, fileURLToPath(import.meta.url), '--inside', work, ...pass], { stdio: 'inherit' });
  // Killed (kill PID, a CI timeout, a closed terminal): end the world and everything in it, the
  // masters the bench started included. world.sh is PID 1 of its namespace, which ignores every
  // signal but a SIGKILL from outside; unshare's --kill-child was seen not to end it.
  let stopped = null;
  const stop = (signal) => {
    stopped = signal;
    for (const pid of childrenOf(world.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    world.kill('SIGKILL');
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stop(signal));
  const status = await new Promise((resolve) => world.on('exit', (code) => resolve(code ?? 1)));
  if (!opt.keep) rmSync(work, { recursive: true, force: true });
  if (stopped !== null) log(`stopped by ${stopped}: the private world and its processes are gone`);
  process.exit(stopped !== null ? 130 : status);
}

/** The PIDs whose parent is `pid` (from /proc: the world's PID 1 as the host sees it). */
function childrenOf(pid) {
  const found = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      // stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

function fail(msg) {
  console.error(`bench: ${msg}`);
  process.exit(1);
}

/** As util.js's timed(), with stdout and stderr to two files (a --json run's stdout is parsed). */
function timedSplit(argvv, outFile, errFile) {
  return new Promise((resolve, reject) => {
    const out = openSync(outFile, 'w');
    const err = openSync(errFile, 'w');
    const close = () => { closeSync(out); closeSync(err); };
    const t0 = process.hrtime.bigint();
    const child = spawn(argvv[0], argvv.slice(1), { stdio: ['ignore', out, err] });
    child.on('error', (e) => { close(); reject(e); });
    child.on('exit', (code, signal) => {
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      close();
      resolve({ secs, code: code ?? (signal ? 128 : -1), signal });
    });
  });
}

// ------------------------------------------------------------------------------------------
// Inside the private world.
// ------------------------------------------------------------------------------------------
/**
 * Every measured command, postmulti's and postfleet's, runs with the environment an operator's
 * login shell or postfix(1) gives it, not the harness's: postfix(1) passes on only
 * import_environment, and a build machine's extras are no operator's. One matters a lot here:
 * NODE_EXTRA_CA_CERTS makes every Node process read and parse that CA bundle at start-up
 * (+30 ms on this kind of machine, measured and reported in the machine facts), for TLS that
 * postfleet never does. Returns the names dropped.
 */
function operatorEnvironment() {
  const dropped = {};
  for (const k of Object.keys(process.env)) {
    if (KEEP_ENV.has(k)) continue;
    dropped[k] = process.env[k];
    delete process.env[k];
  }
  return dropped;
}

/** Median wall time of `node -e 0`, in the operator environment and with each dropped Node variable. */
function nodeStartup(dropped) {
  const time = (env) => {
    const t = [];
    for (let i = 0; i < 15; i++) {
      const a = process.hrtime.bigint();
      spawnSync(process.execPath, ['-e', '0'], { env, stdio: 'ignore' });
      t.push(Number(process.hrtime.bigint() - a) / 1e6);
    }
    t.sort((x, y) => x - y);
    return Math.round(t[7] * 10) / 10;
  };
  const result = { operatorEnvironmentMs: time(process.env) };
  for (const k of Object.keys(dropped).filter((n) => n.startsWith('NODE_'))) {
    result[`with${k}Ms`] = time({ ...process.env, [k]: dropped[k] });
  }
  return result;
}

async function inside(work) {
  const dropped = operatorEnvironment();
  // Never run the benchmarks against the host: /etc must be our overlay.
  const mi = readFileSync('/proc/self/mountinfo', 'utf8');
  if (!mi.split('\n').some((l) => / \/etc rw.* - overlay /.test(l) && l.includes(`upperdir=${work}/`))) {
    fail('not inside the benchmark world (no overlay on /etc with our upper dir); run `node bench/run.js`');
  }
  const scratch = path.join(work, 'scratch');
  mkdirSync(scratch, { recursive: true });
  const outDir = opt.out ?? (opt.quick ? path.join(BENCH, 'work') : BENCH);
  mkdirSync(outDir, { recursive: true });

  const Q = opt.quick;
  const cfg = {
    quick: Q,
    sizes: Q ? [10, 40] : [10, 100, 1000],
    startN: Q ? 8 : 50,
    creates: Q ? 5 : 20,
    runsFast: Q ? 3 : 10, warmFast: Q ? 1 : 2,
    runsSlow: Q ? 2 : 5, warmSlow: Q ? 0 : 1,
    runsVerySlow: Q ? 1 : 3,
    runsStartStop: Q ? 1 : 5,
    // The start/stop sub-phase on a large fleet: postmulti -p start of 501 is slow, so
    // postmulti runs once (it is also the reference end state) and postfleet's starts twice.
    startBigN: Q ? 20 : 500,
    runsStartBigPostmulti: 1,
    runsStartBig: Q ? 1 : 2,
    runsCreate: Q ? 2 : 5,
    runsCreateMany: Q ? 1 : 3,
    runsMem: Q ? 1 : 3,
    bulkN: Q ? 4 : 20,
    bulkCreate: Q ? 10 : 200,
    queueN: Q ? 40 : 1000,
    queuePer: 10,
    postqueueK: Q ? 3 : 20,
    // queue-read: one instance holding this many messages; the postqueue -j loop over all queueN instances runs this often.
    queueBig: Q ? 2000 : 100_000,
    runsQueueLoop: Q ? 1 : 3,
    runsBulk: Q ? 1 : 2,
    // decommission: a group of decomK disabled instances spread over a fleet of decomN
    decomN: Q ? 40 : 1000,
    decomK: Q ? 4 : 100,
    runsDecomGroup: Q ? 1 : 3,
    runsDecomLoop: Q ? 1 : 2,
    decomPostmulti: Q ? 1 : 3,
    // The start-up phase: interleaved rounds on a fleet of 10; `postfix status` through each wrapper in blocks.
    startupN: 10,
    runsStartup: Q ? 3 : 30,
    runsStartupCpu: Q ? 2 : 10,
    warmStartup: Q ? 1 : 3,
    blocksWrapper: Q ? 2 : 4,
    runsWrapperBlock: Q ? 2 : 5,
    hyperfine: opt.hyperfine && haveCommand('hyperfine'),
  };
  const results = {
    meta: { ...machineFacts(cfg), environment: { kept: [...KEEP_ENV].filter((k) => k in process.env), dropped: Object.keys(dropped) }, nodeStartup: nodeStartup(dropped) },
    config: cfg,
    fixtures: {},
    listing: {},
    status: {},
    memory: null,
    startstop: null,
    lifecycle: null,
    bulk: null,
    decommission: null,
    queue: null,
    queueRead: null,
    startup: null,
    problems: [],
    load: [],
  };
  const sampleLoad = (what) => results.load.push({ what, at: new Date().toISOString(), load1: os.loadavg()[0] });
  const t0 = Date.now();
  const save = () => {
    results.meta.finished = new Date().toISOString();
    results.meta.durationSeconds = (Date.now() - t0) / 1000;
    results.meta.loadavgEnd = os.loadavg();
    writeFileSync(path.join(outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    writeFileSync(path.join(outDir, 'RESULTS.md'), renderReport(results));
  };
  const M = (argvv, o) => measure(argvv, { scratch, hyperfine: cfg.hyperfine, ...o });
  const problem = (msg) => { log(`PROBLEM: ${msg}`); results.problems.push(msg); };

  const mkfleet = (n, enable) => {
    const t = Date.now();
    sh(`${path.join(BENCH, 'mkfleet.sh')} ${n} ${enable ? 'yes' : 'no'}`);
    const secs = (Date.now() - t) / 1000;
    const key = `${n}${enable ? '-enabled' : ''}`;
    if (!results.fixtures[key]) results.fixtures[key] = { instances: n, enabled: enable, seconds: secs };
    log(`fleet: ${n} secondaries${enable ? ', enabled' : ''} (${secs.toFixed(1)} s)`);
    backdate();
  };
  // postfleet keeps a main.cf in its settings cache only once the file's ctime is 2 s old (a
  // younger file could change again unseen within one timestamp tick), and back-dating sets
  // every ctime to now: wait, so that the cached figures are the steady state whatever N.
  const settle = () => sleep(2100);
  const requireStopped = async (where) => {
    const w = await waitMasters(0, 5000);
    if (w.final !== 0) throw new Error(`${where}: ${w.final} master(s) still running`);
  };

  // ---------------------------------------------------------------- start-up
  if (want('startup')) {
    log('start-up');
    sampleLoad('startup');
    // --before=DIR: a built checkout of an earlier commit (its commit in DIR/COMMIT, if there),
    // timed in the same rounds.
    const before = opt.before ? [process.execPath, path.join(opt.before, 'bin', 'run.js')] : null;
    const beforeLabel = opt.before ? (existsSync(path.join(opt.before, 'COMMIT')) ? `commit ${readFileSync(path.join(opt.before, 'COMMIT'), 'utf8').trim()}` : opt.before) : null;
    results.startup = await startupPhase({ cfg, PF, PF_BEFORE: before, beforeLabel, mkfleet, requireStopped, problem, backdate, settle, scratch });
    save();
  }

  // ---------------------------------------------------------------- listing / status / memory
  for (const n of cfg.sizes) {
    if (!want('listing') && !want('status') && !(want('memory') && n === cfg.sizes.at(-1))) continue;
    mkfleet(n, false);
    await requireStopped('fleet');
    const big = n >= 1000;

    if (want('listing')) {
      log(`listing, N=${n}`);
      sampleLoad(`listing N=${n}`);
      const pm = capture([...PM, '-l']);
      const pfc = capture([...PF, '-l']);
      const pfm = capture([...PF, 'list']);
      const verify = {
        rowsPostmulti: pm.stdout.split('\n').filter(Boolean).length,
        rowsCompat: pfc.stdout.split('\n').filter(Boolean).length,
        rowsModern: pfm.stdout.split('\n').filter(Boolean).length - 1,
        compatIdentical: pm.stdout === pfc.stdout && pm.code === pfc.code,
        exit: { postmulti: pm.code, compat: pfc.code, modern: pfm.code },
      };
      if (verify.rowsPostmulti !== n + 1) problem(`postmulti -l at N=${n}: ${verify.rowsPostmulti} rows, expected ${n + 1}`);
      if (!verify.compatIdentical) problem(`postfleet -l output differs from postmulti -l at N=${n}`);
      if (verify.rowsModern !== n + 1 || pfm.code !== 0) problem(`postfleet list at N=${n}: ${verify.rowsModern} rows, exit ${pfm.code}`);
      backdate();
      await settle();
      const fast = { runs: cfg.runsFast, warmup: cfg.warmFast };
      results.listing[n] = {
        verify,
        postmulti: await M([...PM, '-l'], big ? { runs: cfg.runsSlow, warmup: cfg.warmSlow } : fast),
        compat: await M([...PF, '-l'], fast),
        modern: await M([...PF, 'list'], fast),
        compatNoCache: await M([...PF_NOCACHE, '-l'], fast),
        modernNoCache: await M([...PF_NOCACHE, 'list'], fast),
      };
      save();
    }

    if (want('status')) {
      log(`status, N=${n}`);
      sampleLoad(`status N=${n}`);
      await requireStopped('status');
      const pm = capture([...PM, '-p', 'status']);
      const pfc = capture([...PF, '-p', 'status']);
      const pfn = capture([...PF, 'status', '--json']);
      let nativeRows = -1;
      let nativeRunning = -1;
      try {
        const j = JSON.parse(pfn.stdout);
        nativeRows = j.length;
        nativeRunning = j.filter((x) => x.running).length;
      } catch { /* reported below */ }
      const verify = {
        exit: { postmulti: pm.code, compat: pfc.code, native: pfn.code },
        nativeRows, nativeRunning,
      };
      if (pm.code !== pfc.code) problem(`-p status exit codes differ at N=${n}: postmulti ${pm.code}, postfleet ${pfc.code}`);
      if (nativeRows !== n + 1 || nativeRunning !== 0) problem(`postfleet status --json at N=${n}: ${nativeRows} rows, ${nativeRunning} running`);
      backdate();
      await settle();
      const slow = big ? { runs: cfg.runsVerySlow, warmup: 0 } : { runs: cfg.runsSlow, warmup: cfg.warmSlow };
      results.status[n] = {
        verify,
        postmulti: await M([...PM, '-p', 'status'], { ...slow, ignoreFailure: true }),
        compat: await M([...PF, '-p', 'status'], { ...slow, ignoreFailure: true }),
        native: await M([...PF, 'status'], { runs: cfg.runsFast, warmup: cfg.warmFast }),
        nativeNoCache: await M([...PF_NOCACHE, 'status'], { runs: cfg.runsFast, warmup: cfg.warmFast }),
      };
      save();
    }

    if (want('memory') && n === cfg.sizes.at(-1)) {
      if (!existsSync('/usr/bin/time')) {
        problem('memory: /usr/bin/time missing, skipped');
      } else {
        log(`memory, N=${n}`);
        sampleLoad(`memory N=${n}`);
        const rss = (args, runs) => {
          const kb = [];
          for (let i = 0; i < runs; i++) {
            const f = path.join(scratch, 'time-v.txt');
            capture(['/usr/bin/time', '-v', '-o', f, ...args]);
            const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(f, 'utf8'));
            kb.push(m ? Number(m[1]) : NaN);
          }
          return { command: args.join(' '), kb, ...stats(kb) };
        };
        results.memory = {
          n,
          rows: [
            { label: 'postfleet -l', ...rss([...PF, '-l'], cfg.runsMem) },
            { label: 'postfleet list', ...rss([...PF, 'list'], cfg.runsMem) },
            { label: 'postfleet status', ...rss([...PF, 'status'], cfg.runsMem) },
            { label: 'postmulti -l (reference: largest of postmulti and its children)', ...rss([...PM, '-l'], 1) },
          ],
        };
        save();
      }
    }
  }

  // ---------------------------------------------------------------- queue metrics
  if (want('queue')) {
    log('queue metrics');
    sampleLoad('queue');
    results.queue = await queuePhase({ cfg, PF, M, mkfleet, requireStopped, problem, backdate, settle });
    save();
  }

  // ---------------------------------------------------------------- queue summary / list
  if (want('queue-read')) {
    log('queue summary and list');
    sampleLoad('queue-read');
    results.queueRead = await queueReadPhase({ cfg, PF, M, mkfleet, requireStopped, problem, backdate, settle, scratch });
    save();
  }

  // ---------------------------------------------------------------- start / stop
  // Two sub-phases on fleets of enabled instances: N = cfg.startN (every variant, interleaved
  // round by round) and N = cfg.startBigN (postmulti, postfleet's fast start and its
  // --full-check; fewer rounds: postmulti -p start of 501 instances alone takes over a minute). Variants say which
  // pre-start checks they run: Postfix's own (postfix-script check-fatal + check-warn, i.e.
  // a plain `postfix start` per instance) or postfleet's native ones followed by Postfix's
  // quick-start path (the fast start). After every start and every stop the end state is
  // checked (notRunning and treeLines below); a run that fails a check is left out of the figures.
  if (want('startstop')) {
    const P = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    const show = (a) => a.map((x) => (x === PF[0] ? '' : x === PF[1] ? 'postfleet' : x)).filter(Boolean).join(' ');
    const POSTFIX_CHECKS = 'postfix-script';
    const NATIVE_CHECKS = 'native (fast start)';
    const allVariants = [
      { key: 'postmulti', label: 'postmulti -p start / -p stop', checks: POSTFIX_CHECKS, start: [...PM, '-p', 'start'], stop: [...PM, '-p', 'stop'] },
      { key: 'fast', label: `postfleet postfix start / stop — fast start (default -P = ${P})`, checks: NATIVE_CHECKS, json: true, start: [...PF, 'postfix', 'start', '--json'], stop: [...PF, 'postfix', 'stop'] },
      { key: 'fullCheck', label: `postfleet postfix start --full-check / stop (default -P = ${P})`, checks: POSTFIX_CHECKS, json: true, start: [...PF, 'postfix', 'start', '--full-check', '--json'], stop: [...PF, 'postfix', 'stop'] },
      { key: 'compatFastP2', label: 'postfleet -F -P 2 -p start / -P 2 -p stop — fast start, compat', checks: NATIVE_CHECKS, start: [...PF, '-F', '-P', '2', '-p', 'start'], stop: [...PF, '-P', '2', '-p', 'stop'] },
      { key: 'compatP2', label: 'postfleet -P 2 -p start / -P 2 -p stop — postmulti-identical', checks: POSTFIX_CHECKS, start: [...PF, '-P', '2', '-p', 'start'], stop: [...PF, '-P', '2', '-p', 'stop'] },
      { key: 'compat', label: 'postfleet -p start / -p stop — postmulti-identical, one at a time', checks: POSTFIX_CHECKS, start: [...PF, '-p', 'start'], stop: [...PF, '-p', 'stop'] },
      { key: 'compatP4', label: 'postfleet -P 4 -p start / -P 4 -p stop (informational: 2 per core)', checks: POSTFIX_CHECKS, start: [...PF, '-P', '4', '-p', 'start'], stop: [...PF, '-P', '4', '-p', 'stop'] },
      // No manager at all: the floor for two plain starts at a time on this machine.
      { key: 'xargsP2', label: 'reference: `xargs -P 2` over plain `postfix -c DIR start` / `stop` (no manager)', checks: POSTFIX_CHECKS, start: ['bash', '-c', XARGS('start')], stop: ['bash', '-c', XARGS('stop')] },
    ];

    // Queue directory of every managed instance, primary first (for the per-instance master check).
    const queueDirs = () => ['/var/spool/postfix', ...instanceDirs().dirs.map((d) => mainCfRaw(path.join(d, 'main.cf'), 'queue_directory').value ?? `(no queue_directory in ${d}/main.cf)`)];
    /** Instances whose master.pid names no live master process (empty: every one runs). */
    const notRunning = (qdirs) => qdirs.filter((q) => {
      try {
        const pid = Number(readFileSync(path.join(q, 'pid', 'master.pid'), 'utf8').trim());
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        return !(pid > 0 && stat.slice(stat.indexOf('(') + 1, close) === 'master' && stat[close + 2] !== 'Z');
      } catch { return true; }
    });
    /**
     * The end state's file tree: every path under the managed instances' config, queue and data
     * directories with its type, owner, group and permission bits (lstat; no content, size or
     * time, so what differs by nature between two equivalent starts is not compared: the PIDs
     * inside pid/master.pid and data_directory/master.lock, sockets' and files' times).
     * Left out, because Postfix daemons make them on demand, so whether they exist depends on
     * which daemons happened to run, not on how the master was started: service lock files in
     * pid/ other than master.pid (unix.*, inet.*, pass.* …), tlsmgr's prng_exch, and the
     * daemons' cache files (*_cache.db / .lmdb: verify, postscreen, TLS session caches).
     * Everything else counts, a quick-start marker left behind or a directory made with
     * another mode or owner than postfix-script makes it included.
     */
    const treeLines = () => {
      const { dirs } = instanceDirs();
      const roots = ['/etc/postfix', '/var/spool/postfix', '/var/lib/postfix'];
      for (const d of dirs) {
        roots.push(d);
        for (const p of ['queue_directory', 'data_directory']) {
          const v = mainCfRaw(path.join(d, 'main.cf'), p).value;
          if (v) roots.push(v);
        }
      }
      const lines = [];
      const typeOf = (st) => (st.isDirectory() ? 'd' : st.isFile() ? 'f' : st.isSocket() ? 's' : st.isSymbolicLink() ? 'l' : st.isFIFO() ? 'p' : '?');
      const skip = (p) => /\/pid\/(?!master\.pid$)[^/]+$/.test(p) || /\/prng_exch$/.test(p) || /_cache\.(db|lmdb)$/.test(p);
      const walk = (p) => {
        let st;
        try { st = lstatSync(p); } catch { return; }
        if (!skip(p)) lines.push(`${typeOf(st)} ${p} ${st.uid} ${st.gid} ${(st.mode & 0o7777).toString(8)}`);
        if (!st.isDirectory()) return;
        let entries = [];
        try { entries = readdirSync(p); } catch (e) { lines.push(`! ${p} unreadable: ${e.code ?? e.message}`); }
        for (const e of entries) walk(path.join(p, e));
      };
      for (const r of [...new Set(roots)]) walk(r);
      return lines.sort();
    };
    const digest = (lines) => createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
    const treeDiff = (ref, now) => {
      const a = new Set(ref);
      const b = new Set(now);
      return [...ref.filter((l) => !b.has(l)).map((l) => `-${l}`), ...now.filter((l) => !a.has(l)).map((l) => `+${l}`)];
    };
    /**
     * After a stop whose tree differs from the reference: put it back (extra paths removed,
     * owner and mode reset, missing directories and files made empty), so that one variant's
     * difference is reported once and does not make every later run differ too. Sockets are
     * not made (the next master makes its own).
     */
    const repairTree = (refLines) => {
      const parse = (l) => {
        const f = l.split(' ');
        return { type: f[0], path: f.slice(1, -3).join(' '), uid: Number(f.at(-3)), gid: Number(f.at(-2)), mode: parseInt(f.at(-1), 8) };
      };
      const want = new Map(refLines.map(parse).map((x) => [x.path, x]));
      const have = new Map(treeLines().map(parse).map((x) => [x.path, x]));
      for (const [p, x] of have) if (!want.has(p) || want.get(p).type !== x.type) rmSync(p, { recursive: true, force: true });
      for (const x of [...want.values()].sort((a, b) => a.path.length - b.path.length)) {
        try {
          if (!existsSync(x.path)) {
            if (x.type === 'd') mkdirSync(x.path);
            else if (x.type === 'f') writeFileSync(x.path, '');
            else continue;
          }
          chownSync(x.path, x.uid, x.gid);
          chmodSync(x.path, x.mode);
        } catch { /* reported by the next comparison */ }
      }
    };
    /** postfleet postfix start --json: Σ checkMs, Σ durationMs, paths, from the run's stdout. */
    const parseJson = (file) => {
      try {
        const j = JSON.parse(readFileSync(file, 'utf8'));
        if (!Array.isArray(j)) return { jsonError: 'not an array' };
        const withCheck = j.filter((x) => typeof x.checkMs === 'number');
        return {
          instancesInJson: j.length,
          instancesWithCheckMs: withCheck.length,
          sumCheckMs: withCheck.length ? withCheck.reduce((a, x) => a + x.checkMs, 0) : null,
          maxCheckMs: withCheck.length ? Math.max(...withCheck.map((x) => x.checkMs)) : null,
          sumDurationMs: j.reduce((a, x) => a + (x.durationMs ?? 0), 0),
          maxDurationMs: Math.max(0, ...j.map((x) => x.durationMs ?? 0)),
          fastPath: j.filter((x) => x.startPath === 'fast').length,
          postfixPath: j.filter((x) => x.startPath === 'postfix').length,
          nonZeroExits: j.filter((x) => x.exitCode !== 0).length,
        };
      } catch (e) {
        return { jsonError: String(e.message ?? e).slice(0, 200) };
      }
    };

    /**
     * Rounds of start + stop over `variants` on the current fleet (n enabled secondaries);
     * runsOf(v) rounds of each, interleaved. The first valid postmulti start and stop give the
     * reference trees every later run is compared with.
     */
    const startStopRounds = async (n, variants, runsOf, tag, attach) => {
      const total = n + 1;
      const qdirs = queueDirs();
      const ref = { start: null, stop: null };
      const out = { n, instances: total, parallelism: P, variants: {} };
      for (const v of variants) {
        out.variants[v.key] = { label: v.label, checks: v.checks, startCommand: show(v.start), stopCommand: show(v.stop), start: [], stop: [], runs: [], rounds: runsOf(v) };
      }
      attach(out);
      const rounds = Math.max(...variants.map(runsOf));
      for (let r = 0; r < rounds; r++) {
        for (const v of variants) {
          if (r >= runsOf(v)) continue;
          const V = out.variants[v.key];
          log(`start/stop N=${n} enabled, round ${r + 1}: ${v.key}`);
          sampleLoad(`start/stop N=${n} round ${r + 1} ${v.key}`);
          await requireStopped(`before ${v.key} start`);
          backdate();
          const outFile = path.join(scratch, `${tag}-${v.key}-start-${r}.out`);
          const s = v.json ? await timedSplit(v.start, outFile, `${outFile}.err`) : await timed(v.start, outFile);
          const ws = await waitMasters(total, Math.max(3000, total * 20));
          // Cross-checks (not timed): postfleet's own view, each instance's master.pid, the tree.
          let pfRunning = -1;
          try { pfRunning = JSON.parse(capture([...PF, 'status', '--json']).stdout).filter((x) => x.running).length; } catch { /* */ }
          const down = notRunning(qdirs);
          const treeStart = treeLines();
          const json = v.json ? parseJson(outFile) : undefined;
          const runningOk = s.code === 0 && ws.now === total && ws.final === total && pfRunning === total && down.length === 0;
          if (runningOk && v.key === 'postmulti' && !ref.start) ref.start = treeStart;
          const startDiff = ref.start ? treeDiff(ref.start, treeStart) : null;
          const startOk = runningOk && (startDiff === null || startDiff.length === 0);
          backdate();
          const p = await timed(v.stop, path.join(scratch, `${tag}-${v.key}-stop-${r}.out`));
          const wp = await waitMasters(0, 5000 + total * 20);
          const treeStop = treeLines();
          const stoppedOk = p.code === 0 && wp.final === 0;
          if (stoppedOk && v.key === 'postmulti' && !ref.stop) ref.stop = treeStop;
          const stopDiff = ref.stop ? treeDiff(ref.stop, treeStop) : null;
          const stopOk = stoppedOk && (stopDiff === null || stopDiff.length === 0);
          const run = {
            start: s.secs, startExit: s.code, mastersAfterStart: ws.now, mastersAfterStartSettled: ws.final,
            postfleetStatusRunning: pfRunning, instancesWithoutLiveMaster: down.length,
            treeAfterStart: digest(treeStart), treeAfterStartSameAsPostmulti: startDiff === null ? null : startDiff.length === 0,
            ...(json ? { json } : {}),
            stop: p.secs, stopExit: p.code, mastersAfterStop: wp.now, mastersAfterStopSettled: wp.final, stopSettleMs: wp.waitedMs,
            treeAfterStop: digest(treeStop), treeAfterStopSameAsPostmulti: stopDiff === null ? null : stopDiff.length === 0,
            startValid: startOk, stopValid: stopOk,
          };
          V.runs.push(run);
          const firstLines = (f) => { try { return readFileSync(f, 'utf8').trim().split('\n').slice(0, 2).join(' / ').slice(0, 200); } catch { return ''; } };
          if (startOk) V.start.push(s.secs);
          else if (!runningOk) problem(`${v.label} (N=${n}): start round ${r + 1} invalid: exit ${s.code}, ${ws.now}/${total} masters at exit (${ws.final} after waiting), postfleet status says ${pfRunning} running, ${down.length} instance(s) without a live master${s.code !== 0 ? `; output: ${(v.json && firstLines(`${outFile}.err`)) || firstLines(outFile)}` : ''}`);
          else problem(`${v.label} (N=${n}): start round ${r + 1} invalid: file tree after start differs from postmulti's (${startDiff.length} lines: ${startDiff.slice(0, 6).join('; ')})`);
          if (json?.jsonError && s.code === 0) problem(`${v.label} (N=${n}): round ${r + 1}: --json output unreadable: ${json.jsonError}`);
          if (json && json.postfixPath > 0) problem(`${v.label} (N=${n}): round ${r + 1}: ${json.postfixPath} instance(s) fell back to Postfix's own start`);
          if (stopOk) V.stop.push(p.secs);
          else if (!stoppedOk) problem(`${v.label} (N=${n}): stop round ${r + 1} invalid: exit ${p.code}, ${wp.final} masters left`);
          else {
            repairTree(ref.stop);
            const left = treeDiff(ref.stop, treeLines()).length;
            problem(`${v.label} (N=${n}): stop round ${r + 1} invalid: file tree after stop differs from postmulti's (${stopDiff.length} lines: ${stopDiff.slice(0, 6).join('; ')}); put back for the next run${left ? `, ${left} line(s) still differ` : ''}`);
          }
          if (wp.final !== 0) {
            // Bring the world back to "all stopped" so the next variant starts clean.
            capture([...PM, '-p', 'stop']);
            if ((await waitMasters(0, 5000 + total * 20)).final !== 0) for (const pid of masterPids()) { try { process.kill(pid, 'SIGKILL'); } catch { /* */ } }
            await waitMasters(0, 5000);
          }
          V.startStats = stats(V.start);
          V.stopStats = stats(V.stop);
        }
        save();
      }
      out.reference = { startTree: ref.start ? digest(ref.start) : null, stopTree: ref.stop ? digest(ref.stop) : null, startTreeEntries: ref.start?.length ?? 0 };
      return out;
    };

    /**
     * postfleet's own share of a fast start (an estimate): load = the median wall time of
     * `postfleet list --json` on the same fleet with the settings cache off (start-up and
     * reading the fleet; a timed start runs right after back-dating, when the cache does not
     * serve), Σ checkMs = the native checks' time from the start's own --json, P = its
     * parallelism. share = (load + Σ checkMs / P) / wall, per valid run. The checks are
     * synchronous in postfleet's one thread, so they never overlap each other, only the other
     * instances' Postfix processes: (load + Σ checkMs) / wall is given as the upper bound.
     */
    const ownShare = async (phase, key) => {
      backdate();
      const loadCmd = [...PF_NOCACHE, 'list', '--json'];
      let load;
      try {
        load = await M(loadCmd, { runs: cfg.runsFast, warmup: cfg.warmFast });
      } catch (e) {
        problem(`${show(loadCmd)} (N=${phase.n}) failed: ${String(e.message ?? e).slice(0, 200)}`);
        return null;
      }
      const v = phase.variants[key];
      const runs = v.runs.filter((x) => x.startValid && typeof x.json?.sumCheckMs === 'number').map((x) => ({
        wall: x.start,
        sumCheckMs: x.json.sumCheckMs,
        share: (load.median + x.json.sumCheckMs / 1000 / P) / x.start,
        shareUpper: (load.median + x.json.sumCheckMs / 1000) / x.start,
      }));
      return {
        variant: key, loadCommand: show(loadCmd), load, parallelism: P, runs,
        wall: stats(runs.map((x) => x.wall)), sumCheckMs: stats(runs.map((x) => x.sumCheckMs)),
        share: stats(runs.map((x) => x.share)), shareUpper: stats(runs.map((x) => x.shareUpper)),
      };
    };

    // N = startN: every variant, cfg.runsStartStop rounds.
    mkfleet(cfg.startN, true);
    await requireStopped('startstop');
    const ss = await startStopRounds(cfg.startN, allVariants, () => cfg.runsStartStop, 'ss', (o) => { results.startstop = o; });
    ss.own = await ownShare(ss, 'fast');
    save();

    // N = startBigN: postmulti once (the reference), postfleet's fast start and --full-check.
    if (cfg.startBigN) {
      mkfleet(cfg.startBigN, true);
      await requireStopped('startstop big');
      const bigVariants = allVariants.filter((v) => ['postmulti', 'fast', 'fullCheck'].includes(v.key));
      const big = await startStopRounds(cfg.startBigN, bigVariants,
        (v) => (v.key === 'postmulti' ? cfg.runsStartBigPostmulti : cfg.runsStartBig), 'big', (o) => { ss.big = o; });
      big.own = await ownShare(big, 'fast');
      save();
    }
  }

  // ---------------------------------------------------------------- life-cycle
  if (want('lifecycle')) {
    const base = 10;
    mkfleet(base, false);
    const savedPrimary = readFileSync('/etc/postfix/main.cf');
    const baselineEtcPostfix = new Set(readdirSync('/etc/postfix'));
    const baseDirs = instanceDirs().dirs;
    const lc = { baseFleet: base, single: {}, many: {} };

    const leftovers = () => readdirSync('/etc/postfix').filter((e) => !baselineEtcPostfix.has(e));
    const restoreClean = () => {
      sh('rm -rf /etc/postfix-c[0-9]* /var/spool/postfix-c[0-9]* /var/lib/postfix-c[0-9]*');
      for (const e of leftovers()) rmSync(path.join('/etc/postfix', e), { recursive: true, force: true });
      writeFileSync('/etc/postfix/main.cf', savedPrimary);
      backdate();
    };
    const registered = (name) => instanceDirs().dirs.includes(`/etc/${name}`);
    const complete = (name) => isFile(`/etc/${name}/main.cf`) && isFile(`/etc/${name}/master.cf`)
      && existsSync(`/var/spool/${name}/maildrop`) && existsSync(`/var/lib/${name}`);
    const gone = (name) => !registered(name) && !existsSync(`/etc/${name}`) && !existsSync(`/var/spool/${name}`) && !existsSync(`/var/lib/${name}`);

    // One create + one destroy.
    const single = [
      { key: 'postmulti', label: 'postmulti -I postfix-c1 -e create / -i postfix-c1 -e destroy', create: [...PM, '-I', 'postfix-c1', '-e', 'create'], destroy: [...PM, '-i', 'postfix-c1', '-e', 'destroy'] },
      { key: 'compat', label: 'postfleet -I postfix-c1 -e create / -i postfix-c1 -e destroy', create: [...PF, '-I', 'postfix-c1', '-e', 'create'], destroy: [...PF, '-i', 'postfix-c1', '-e', 'destroy'] },
      { key: 'modern', label: 'postfleet create postfix-c1 / destroy postfix-c1', create: [...PF, 'create', 'postfix-c1'], destroy: [...PF, 'destroy', 'postfix-c1'] },
    ];
    for (const v of single) lc.single[v.key] = { label: v.label, create: [], destroy: [], runs: [] };
    restoreClean();
    for (let r = 0; r < cfg.runsCreate; r++) {
      for (const v of single) {
        log(`create/destroy, round ${r + 1}: ${v.key}`);
        sampleLoad(`create/destroy round ${r + 1} ${v.key}`);
        backdate();
        const c = await timed(v.create, path.join(scratch, `${v.key}-create-${r}.out`));
        const createOk = c.code === 0 && registered('postfix-c1') && complete('postfix-c1');
        backdate();
        const d = await timed(v.destroy, path.join(scratch, `${v.key}-destroy-${r}.out`));
        const destroyOk = d.code === 0 && gone('postfix-c1');
        const left = leftovers();
        lc.single[v.key].runs.push({ create: c.secs, createExit: c.code, createValid: createOk, destroy: d.secs, destroyExit: d.code, destroyValid: destroyOk, leftovers: left });
        if (createOk) lc.single[v.key].create.push(c.secs);
        else problem(`${v.label} create round ${r + 1} invalid (exit ${c.code}, registered ${registered('postfix-c1')}, complete ${complete('postfix-c1')})`);
        if (destroyOk) lc.single[v.key].destroy.push(d.secs);
        else problem(`${v.label} destroy round ${r + 1} invalid (exit ${d.code}): ${readFileSync(path.join(scratch, `${v.key}-destroy-${r}.out`), 'utf8').trim().slice(0, 300)}`);
        if (left.length) problem(`${v.label}: files left in /etc/postfix after create+destroy: ${left.join(' ')}`);
        if (!createOk || !destroyOk || left.length) restoreClean();
      }
      save();
    }
    for (const v of Object.values(lc.single)) { v.createStats = stats(v.create); v.destroyStats = stats(v.destroy); }

    // Many creates.
    const K = cfg.creates;
    const names = Array.from({ length: K }, (_, i) => `postfix-c${i + 1}`);
    const countVia = (argvv) => {
      backdate();
      const r = capture(argvv);
      return r.stdout.split('\n').filter((l) => /\s\/etc\/postfix-c\d+$/.test(l)).length;
    };
    const many = [
      { key: 'postmultiLoop', label: `postmulti, ${K} creates in a loop`, kind: 'loop', argv: (nm) => [...PM, '-I', nm, '-e', 'create'] },
      { key: 'postfleetConcurrent', label: `postfleet create, ${K} concurrent processes`, kind: 'concurrent', argv: (nm) => [...PF, 'create', nm] },
      { key: 'postfleetCompatConcurrent', label: `postfleet -I … -e create, ${K} concurrent processes`, kind: 'concurrent', argv: (nm) => [...PF, '-I', nm, '-e', 'create'] },
      { key: 'postfleetLoop', label: `postfleet create, ${K} in a loop`, kind: 'loop', argv: (nm) => [...PF, 'create', nm] },
      { key: 'postmultiConcurrent', label: `postmulti, ${K} concurrent processes`, kind: 'concurrent', argv: (nm) => [...PM, '-I', nm, '-e', 'create'] },
    ];
    for (const v of many) lc.many[v.key] = { label: v.label, kind: v.kind, times: [], runs: [] };
    for (let r = 0; r < cfg.runsCreateMany; r++) {
      for (const v of many) {
        log(`${K} creates, round ${r + 1}: ${v.key}`);
        sampleLoad(`${K} creates round ${r + 1} ${v.key}`);
        restoreClean();
        let secs;
        let exits;
        if (v.kind === 'loop') {
          const t = process.hrtime.bigint();
          exits = [];
          for (const nm of names) exits.push((await timed(v.argv(nm), path.join(scratch, `many-${v.key}-${nm}.out`))).code);
          secs = Number(process.hrtime.bigint() - t) / 1e9;
        } else {
          const res = await timedConcurrent(names.map(v.argv), (i) => path.join(scratch, `many-${v.key}-${names[i]}.out`));
          secs = res.secs;
          exits = res.each.map((e) => e.code);
        }
        const { dirs, definitions } = instanceDirs();
        const regOwn = names.filter((nm) => dirs.includes(`/etc/${nm}`)).length;
        const baseKept = baseDirs.every((d) => dirs.includes(d));
        const completeDirs = names.filter(complete).length;
        const left = leftovers();
        const run = {
          secs, exitsNonZero: exits.filter((e) => e !== 0).length,
          registered: regOwn,
          registeredPostmultiL: countVia([...PM, '-l']),
          registeredPostfleetL: countVia([...PF, '-l']),
          baseFleetKept: baseKept,
          multiInstanceDirectoriesDefinitions: definitions,
          instanceDirsComplete: completeDirs,
          leftovers: left,
        };
        lc.many[v.key].runs.push(run);
        const isPostfleet = v.key.startsWith('postfleet');
        const valid = run.exitsNonZero === 0 && regOwn === K && baseKept && definitions === 1 && left.length === 0;
        if (valid || v.key === 'postmultiConcurrent') lc.many[v.key].times.push(secs);
        if (!valid && v.key !== 'postmultiConcurrent') {
          problem(`${v.label} round ${r + 1}: ${regOwn}/${K} registered, ${run.exitsNonZero} non-zero exits, base fleet kept ${baseKept}, ${definitions} multi_instance_directories lines, leftovers [${left.join(' ')}]${isPostfleet ? '' : ' (postmulti)'}`);
        }
        lc.many[v.key].runs[lc.many[v.key].runs.length - 1].valid = valid;
      }
      save();
    }
    for (const v of Object.values(lc.many)) v.stats = stats(v.times);
    restoreClean();
    results.lifecycle = lc;
    save();
  }

  // ---------------------------------------------------------------- bulk enable / disable, apply
  if (want('bulk')) {
    const bulkNames = (n) => Array.from({ length: n }, (_, i) => `postfix-b${i}`);
    const enabledCount = () => capture([...PF, '-l']).stdout.split('\n').filter((l) => /^postfix-b\d+\s+bench\s+y\s/.test(l)).length;
    const bk = { n: cfg.bulkN, big: cfg.sizes.at(-1), small: {}, large: {} };
    // A group of bulkN on a fleet of bulkN: postmulti has one instance per -e enable, so a loop.
    // Each postmulti reads every main.cf, the one the previous run just wrote included, and
    // pays Postfix's pause for it, as an operator's shell loop does.
    const smallVariants = [
      { key: 'postmultiLoop', label: `postmulti -i NAME -e enable / disable, a loop over the ${cfg.bulkN}`, loop: true, argv: (what, nm) => [...PM, '-i', nm, '-e', what] },
      { key: 'postfleetGroup', label: 'postfleet enable -g bench / disable -g bench', loop: false, argv: (what) => [...PF, what, '-g', 'bench'] },
    ];
    const bulkRound = async (v, n, into, r) => {
      for (const [what, want] of [['enable', n], ['disable', 0]]) {
        backdate();
        const t = process.hrtime.bigint();
        const codes = [];
        for (const argvv of v.loop ? bulkNames(n).map((nm) => v.argv(what, nm)) : [v.argv(what)]) {
          codes.push((await timed(argvv, path.join(scratch, `bulk-${v.key}-${what}-${r}.out`))).code);
        }
        const secs = Number(process.hrtime.bigint() - t) / 1e9;
        backdate();
        const count = enabledCount();
        const valid = codes.every((c) => c === 0) && count === want;
        into[v.key].runs.push({ what, secs, exitsNonZero: codes.filter((c) => c !== 0).length, enabledAfter: count, valid });
        if (valid) into[v.key][what].push(secs);
        else problem(`${v.label}, ${what} round ${r + 1}: ${codes.filter((c) => c !== 0).length} non-zero exits, ${count} enabled after (expected ${want})`);
      }
    };
    mkfleet(cfg.bulkN, false);
    for (const v of smallVariants) bk.small[v.key] = { label: v.label, enable: [], disable: [], runs: [] };
    for (let r = 0; r < cfg.runsBulk; r++) {
      for (const v of smallVariants) {
        log(`bulk enable/disable of ${cfg.bulkN}, round ${r + 1}: ${v.key}`);
        sampleLoad(`bulk N=${cfg.bulkN} round ${r + 1} ${v.key}`);
        await bulkRound(v, cfg.bulkN, bk.small, r);
      }
      save();
    }
    // The whole group of the largest fleet: postfleet only (postmulti's loop would take an
    // hour); for scale, one postmulti -e enable of one instance of that fleet.
    mkfleet(bk.big, false);
    const large = { key: 'postfleetGroup', label: `postfleet enable -g bench / disable -g bench (${bk.big} instances)`, loop: false, argv: (what) => [...PF, what, '-g', 'bench'] };
    bk.large.postfleetGroup = { label: large.label, enable: [], disable: [], runs: [] };
    for (let r = 0; r < cfg.runsBulk; r++) {
      log(`bulk enable/disable of ${bk.big}, round ${r + 1}`);
      await bulkRound(large, bk.big, bk.large, r);
      save();
    }
    backdate();
    const one = await timed([...PM, '-i', 'postfix-b0', '-e', 'enable'], path.join(scratch, 'bulk-postmulti-one.out'));
    bk.large.postmultiOne = { label: `postmulti -i postfix-b0 -e enable (one instance of the ${bk.big})`, secs: one.secs, exit: one.code };
    capture([...PF, 'disable', 'postfix-b0']);
    // apply of a manifest that names every instance of the largest fleet, already up to date.
    const manifest = path.join(scratch, 'bulk-manifest.ini');
    writeFileSync(manifest, bulkNames(bk.big).map((nm) => `[${nm}]\ngroup = bench\nenabled = no\n`).join('\n'));
    backdate();
    await settle();
    const check = capture([...PF, 'apply', manifest]);
    if (check.code !== 0 || !/nothing to change/.test(check.stdout)) problem(`postfleet apply of an up-to-date manifest of ${bk.big}: exit ${check.code}, ${check.stdout.split('\n').at(-2)}`);
    bk.large.applyUpToDate = { label: `postfleet apply, a manifest of the ${bk.big} instances, up to date`, ...(await M([...PF, 'apply', manifest], { runs: cfg.runsSlow, warmup: cfg.warmSlow })) };
    // K new instances on the largest fleet: one apply (one transaction) against K creates in
    // a loop and one enable -g, from the same state each time.
    const K = cfg.bulkCreate;
    const newNames = Array.from({ length: K }, (_, i) => `postfix-a${i}`);
    const savedPrimary = readFileSync('/etc/postfix/main.cf');
    const cleanNew = () => {
      sh('rm -rf /etc/postfix-a[0-9]* /var/spool/postfix-a[0-9]* /var/lib/postfix-a[0-9]*');
      writeFileSync('/etc/postfix/main.cf', savedPrimary);
      backdate();
    };
    const newManifest = path.join(scratch, 'bulk-new.ini');
    writeFileSync(newManifest, newNames.map((nm) => `[${nm}]\ngroup = applied\nenabled = yes\n`).join('\n'));
    const appliedCount = () => capture([...PF, '-l', '-g', 'applied']).stdout.split('\n').filter((l) => /^postfix-a\d+\s+applied\s+y\s/.test(l)).length;
    const createVariants = [
      { key: 'apply', label: `postfleet apply, a manifest of ${K} new enabled instances`, argvs: () => [[...PF, 'apply', newManifest]] },
      { key: 'loop', label: `postfleet create ×${K} in a loop, then postfleet enable -g`, argvs: () => [...newNames.map((nm) => [...PF, 'create', nm, '-G', 'applied']), [...PF, 'enable', '-g', 'applied']] },
    ];
    bk.create = { k: K, fleet: bk.big, variants: {} };
    for (const v of createVariants) bk.create.variants[v.key] = { label: v.label, times: [], runs: [] };
    for (let r = 0; r < cfg.runsBulk; r++) {
      for (const v of createVariants) {
        log(`${K} new instances on ${bk.big}, round ${r + 1}: ${v.key}`);
        cleanNew();
        const t = process.hrtime.bigint();
        const codes = [];
        for (const argvv of v.argvs()) codes.push((await timed(argvv, path.join(scratch, `bulk-create-${v.key}-${r}.out`))).code);
        const secs = Number(process.hrtime.bigint() - t) / 1e9;
        backdate();
        const count = appliedCount();
        const valid = codes.every((c) => c === 0) && count === K;
        bk.create.variants[v.key].runs.push({ secs, exitsNonZero: codes.filter((c) => c !== 0).length, enabledAfter: count, valid });
        if (valid) bk.create.variants[v.key].times.push(secs);
        else problem(`${v.label} round ${r + 1}: ${codes.filter((c) => c !== 0).length} non-zero exits, ${count}/${K} registered and enabled`);
      }
      save();
    }
    cleanNew();
    results.bulk = bk;
    save();
  }

  // ---------------------------------------------------------------- decommission: destroy a group
  if (want('decommission')) {
    const N = cfg.decomN;
    const K = cfg.decomK;
    // The group spread over the list, as a customer's instances are: every (N/K)-th instance.
    const step = Math.floor(N / K);
    const retire = Array.from({ length: K }, (_, i) => `postfix-b${i * step + Math.floor(step / 2)}`);
    const dc = { n: N, k: K, variants: {}, postmultiOne: null };
    // Every round starts from the same fleet: the group's instances made again (mkfleet.sh copies
    // them back), regrouped, every main.cf back-dated, the settings cache settled.
    const prepare = async () => {
      mkfleet(N, false);
      const files = retire.map((nm) => `/etc/${nm}/main.cf`).join(' ');
      sh(`sed -i -E 's/^multi_instance_group = .*/multi_instance_group = retire/' ${files}`);
      backdate();
      await settle();
    };
    // What a round leaves: the instance list and every instance path that exists; equal for every valid run.
    const endState = () => {
      const listed = instanceDirs().dirs.join(' ');
      const paths = sh('ls -d /etc/postfix-b* /var/spool/postfix-b* /var/lib/postfix-b* 2>/dev/null | LC_ALL=C sort', { allowFail: true }).stdout;
      return createHash('sha256').update(listed).update('\n').update(paths).digest('hex').slice(0, 16);
    };
    const expectedLeft = () => instanceDirs().dirs.length === N - K && retire.every((nm) => !existsSync(`/etc/${nm}`) && !existsSync(`/var/spool/${nm}`) && !existsSync(`/var/lib/${nm}`));
    const variants = [
      { key: 'group', label: `postfleet destroy -g retire (${K} instances, one transaction)`, runs: cfg.runsDecomGroup, argvs: () => [[...PF, 'destroy', '-g', 'retire']] },
      { key: 'loop', label: `postfleet destroy NAME, a loop over the ${K}`, runs: cfg.runsDecomLoop, argvs: () => retire.map((nm) => [...PF, 'destroy', nm]) },
    ];
    for (const v of variants) dc.variants[v.key] = { label: v.label, times: [], runs: [] };
    let reference = null;
    const rounds = Math.max(...variants.map((v) => v.runs));
    for (let r = 0; r < rounds; r++) {
      for (const v of variants) {
        if (r >= v.runs) continue;
        await prepare();
        log(`decommission: ${K} of ${N}, round ${r + 1}: ${v.key}`);
        sampleLoad(`decommission ${K} of ${N} round ${r + 1} ${v.key}`);
        const t = process.hrtime.bigint();
        const codes = [];
        for (const argvv of v.argvs()) codes.push((await timed(argvv, path.join(scratch, `decom-${v.key}-${r}.out`))).code);
        const secs = Number(process.hrtime.bigint() - t) / 1e9;
        const state = endState();
        reference ??= state;
        const valid = codes.every((c) => c === 0) && expectedLeft() && state === reference;
        dc.variants[v.key].runs.push({ secs, exitsNonZero: codes.filter((c) => c !== 0).length, endState: state, valid });
        if (valid) dc.variants[v.key].times.push(secs);
        else problem(`${v.label} round ${r + 1}: ${codes.filter((c) => c !== 0).length} non-zero exits, ${instanceDirs().dirs.length} listed (expected ${N - K}), end state ${state} (first run: ${reference})`);
      }
      save();
    }
    // For scale: postmulti destroys one instance per run, reading every main.cf of the fleet each
    // time; a few of the group, timed one by one (a loop over all of them would take most of an hour).
    await prepare();
    const one = [];
    for (const nm of retire.slice(0, cfg.decomPostmulti)) {
      backdate();
      const x = await timed([...PM, '-i', nm, '-e', 'destroy'], path.join(scratch, `decom-postmulti-${nm}.out`));
      one.push({ name: nm, secs: x.secs, exit: x.code, gone: !existsSync(`/etc/${nm}`) });
    }
    dc.postmultiOne = { label: `postmulti -i NAME -e destroy, one instance of the ${N}`, runs: one, ...stats(one.filter((x) => x.exit === 0 && x.gone).map((x) => x.secs)) };
    for (const v of Object.values(dc.variants)) Object.assign(v, { stats: stats(v.times) });
    results.decommission = dc;
    save();
  }

  save();
  log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s; wrote ${path.relative(ROOT, outDir) || '.'}/RESULTS.md and results.json`);
}

function machineFacts(cfg) {
  const first = (cmd) => sh(cmd, { allowFail: true }).stdout.trim();
  const cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] ?? 'unknown';
  return {
    started: new Date().toISOString(),
    nproc: Number(first('nproc')),
    cpuModel: cpu,
    kernel: os.release(),
    memTotalMB: Math.round(os.totalmem() / 2 ** 20),
    postfixVersion: first('postconf -d -h mail_version'),
    nodeVersion: process.version,
    hyperfine: cfg.hyperfine ? first('hyperfine --version') : 'not used (timing loop)',
    postfleetCommit: first(`git -C ${ROOT} rev-parse --short HEAD`),
    postfleetTreeDirty: first(`git -C ${ROOT} status --porcelain -- src | head -c 1`) !== '',
    loadavgStart: os.loadavg(),
  };
}
