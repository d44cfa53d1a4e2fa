// The start-up phase (issue 19, "a quick CLI"): on a fleet of N = 10 secondaries, the commands
// whose cost is mostly start-up, side by side with Node's own start and with postmulti, in
// interleaved rounds (every command once per round, in an order that rotates each round), so
// that the machine's load falls on all of them alike:
//
//   node -e 0, postmulti -l, postfleet --version / list / status / -l,
//   the wrapper's path: postfleet -x /bin/true (postmulti argv, postconf -d, the fleet, one child
//   per instance: what `postfix start` runs through multi_instance_wrapper, with a child that
//   costs nothing) beside postmulti -x /bin/true and the no-manager floor (one sh running the
//   11 children), and
//   plain `postfix status` on the wrapped host, postfleet or postmulti as multi_instance_wrapper
//   (alternated in blocks: switching the wrapper edits the primary main.cf).
//
// With --before=DIR (a built checkout of an earlier commit), postfleet's rows are also timed
// from that build in the same rounds. Targets: each of --version, list, status, -l and the
// wrapper's own time (its -x /bin/true minus the floor) within `node -e 0` + 40 ms (medians).
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { capture, instanceDirs, log, stats, timed } from './util.js';

const TARGET_MS = 40;

/** Median, quartiles and range of a list of seconds. */
function spread(secs) {
  const s = [...secs].sort((a, b) => a - b);
  const q = (f) => {
    const i = (s.length - 1) * f;
    const lo = Math.floor(i);
    return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (i - lo);
  };
  return { ...stats(s), p25: q(0.25), p75: q(0.75) };
}

export async function startupPhase({ cfg, PF, PF_BEFORE, beforeLabel, mkfleet, requireStopped, problem, backdate, settle, scratch }) {
  const n = cfg.startupN;
  mkfleet(n, false);
  await requireStopped('startup');
  const dirs = ['/etc/postfix', ...instanceDirs().dirs];
  const builds = [{ key: 'after', PF }, ...(PF_BEFORE ? [{ key: 'before', PF: PF_BEFORE }] : [])];

  // Validity: what each build prints (the speed-up must not change an answer).
  const verify = {};
  const pm = capture(['postmulti', '-l']);
  for (const b of builds) {
    const compat = capture([...b.PF, '-l']);
    if (compat.stdout !== pm.stdout || compat.code !== pm.code) problem(`startup (${b.key}): postfleet -l differs from postmulti -l`);
    const list = capture([...b.PF, 'list', '--json']);
    const status = capture([...b.PF, 'status', '--json']);
    try {
      if (JSON.parse(list.stdout).length !== n + 1 || JSON.parse(status.stdout).length !== n + 1) problem(`startup (${b.key}): list/status --json do not hold ${n + 1} rows`);
    } catch {
      problem(`startup (${b.key}): list/status --json do not parse`);
    }
    if (!/^postfleet\/\S+ \S+ node-v/.test(capture([...b.PF, '--version']).stdout)) problem(`startup (${b.key}): --version prints no version`);
  }
  if (PF_BEFORE) {
    for (const args of [['--version'], ['list'], ['list', '--json'], ['status'], ['status', '--json'], ['-l'], ['list', '-g', 'nosuch'], ['list', '--bogus']]) {
      const a = capture([...PF, ...args]);
      const b = capture([...PF_BEFORE, ...args]);
      const same = a.stdout === b.stdout && a.stderr === b.stderr && a.code === b.code;
      verify[`same:${args.join(' ')}`] = same;
      if (!same) problem(`startup: \`postfleet ${args.join(' ')}\` answers differently before and after`);
    }
  }

  const floor = `for d in ${dirs.join(' ')}; do MAIL_CONFIG=$d /bin/true; done`;
  const rows = [
    { key: 'node', label: '`node -e 0`', argv: [process.execPath, '-e', '0'] },
    { key: 'postmulti-l', label: '`postmulti -l`', argv: ['postmulti', '-l'] },
    ...builds.flatMap((b) => [
      { key: `version/${b.key}`, label: '`postfleet --version`', build: b.key, argv: [...b.PF, '--version'], target: true },
      { key: `list/${b.key}`, label: '`postfleet list`', build: b.key, argv: [...b.PF, 'list'], target: true },
      { key: `status/${b.key}`, label: '`postfleet status`', build: b.key, argv: [...b.PF, 'status'], target: true },
      { key: `compat/${b.key}`, label: '`postfleet -l`', build: b.key, argv: [...b.PF, '-l'], target: true },
      { key: `wrapper/${b.key}`, label: '`postfleet -x /bin/true`', build: b.key, argv: [...b.PF, '-x', '/bin/true'] },
    ]),
    { key: 'postmulti-x', label: '`postmulti -x /bin/true`', argv: ['postmulti', '-x', '/bin/true'] },
    { key: 'floor-x', label: `no manager: one \`sh\` running \`/bin/true\` ${dirs.length} times`, argv: ['sh', '-c', floor] },
  ];

  backdate();
  await settle();
  const out = path.join(scratch, 'startup.out');
  const times = Object.fromEntries(rows.map((r) => [r.key, []]));
  const exits = Object.fromEntries(rows.map((r) => [r.key, new Set()]));
  const loads = [];
  const rounds = cfg.warmStartup + cfg.runsStartup;
  log(`startup: ${rows.length} commands, ${cfg.runsStartup} interleaved rounds (+${cfg.warmStartup} warm-up)`);
  for (let round = 0; round < rounds; round++) {
    loads.push(os.loadavg()[0]);
    for (let k = 0; k < rows.length; k++) {
      const r = rows[(k + round) % rows.length];
      const t = await timed(r.argv, out);
      exits[r.key].add(t.code);
      if (round >= cfg.warmStartup) times[r.key].push(t.secs);
    }
  }
  // CPU time (task-clock of the command and its children: postconf -d, the 11 children of -x),
  // in rounds of their own under `perf stat`, which would add to the wall times above; less
  // sensitive to the machine's other work than wall time, though not immune to it.
  const cpu = Object.fromEntries(rows.map((r) => [r.key, []]));
  const perf = capture(['bash', '-c', 'command -v perf']).code === 0 && capture(['perf', 'stat', '-x,', '-e', 'task-clock', 'true']).code === 0;
  if (perf) {
    const cpuFile = path.join(scratch, 'startup.cpu');
    for (let round = 0; round < cfg.runsStartupCpu; round++) {
      for (let k = 0; k < rows.length; k++) {
        const r = rows[(k + round) % rows.length];
        await timed(['perf', 'stat', '-x,', '-e', 'task-clock', '-o', cpuFile, '--', ...r.argv], out);
        const line = readFileSync(cpuFile, 'utf8').split('\n').find((l) => l.includes('task-clock'));
        if (line) cpu[r.key].push(Number(line.split(',')[0]) / 1000);
      }
    }
  }
  for (const r of rows) {
    const codes = [...exits[r.key]];
    if (codes.some((c) => c !== 0)) problem(`startup: ${r.argv.join(' ')} exited ${codes.join(', ')}`);
  }

  // Plain `postfix status` through each wrapper: blocks of `block` runs, wrappers alternating.
  const wrappers = [
    { key: 'postmulti', label: 'postmulti', value: '${command_directory}/postmulti -p --' },
    ...builds.map((b) => ({ key: `postfleet/${b.key}`, label: 'postfleet', build: b.key, value: `${b.PF.join(' ')} -p --` })),
  ];
  const wrapperTimes = Object.fromEntries(wrappers.map((w) => [w.key, []]));
  const wrapperExits = Object.fromEntries(wrappers.map((w) => [w.key, new Set()]));
  for (let block = 0; block < cfg.blocksWrapper; block++) {
    for (const w of block % 2 ? [...wrappers].reverse() : wrappers) {
      const set = capture(['postconf', '-e', `multi_instance_wrapper = ${w.value}`]);
      if (set.code !== 0) throw new Error(`postconf -e multi_instance_wrapper: ${set.stderr}`);
      backdate();
      await settle();
      await timed(['postfix', 'status'], out); // warm-up after the switch
      for (let i = 0; i < cfg.runsWrapperBlock; i++) {
        loads.push(os.loadavg()[0]);
        const t = await timed(['postfix', 'status'], out);
        wrapperExits[w.key].add(t.code);
        wrapperTimes[w.key].push(t.secs);
      }
    }
  }
  capture(['postconf', '-e', 'multi_instance_wrapper = ${command_directory}/postmulti -p --']);
  backdate();
  // postfix status exits 1 for stopped instances: the same through every wrapper.
  const codes = new Set(wrappers.map((w) => [...wrapperExits[w.key]].sort().join(',')));
  if (codes.size !== 1) problem(`startup: postfix status exits differently through the wrappers: ${wrappers.map((w) => `${w.key} ${[...wrapperExits[w.key]].join(',')}`).join('; ')}`);

  return {
    n,
    instances: dirs.length,
    before: PF_BEFORE ? beforeLabel : null,
    rounds: cfg.runsStartup,
    warmup: cfg.warmStartup,
    verify,
    load: { ...stats(loads), samples: loads },
    cpuTimed: perf,
    cpuRounds: perf ? cfg.runsStartupCpu : 0,
    rows: rows.map((r) => ({ key: r.key, label: r.label, build: r.build ?? null, target: r.target ?? false, command: r.argv.join(' '), exits: [...exits[r.key]], ...spread(times[r.key]), cpu: cpu[r.key].length ? stats(cpu[r.key]) : null })),
    wrappers: wrappers.map((w) => ({ key: w.key, label: w.label, build: w.build ?? null, value: w.value, exits: [...wrapperExits[w.key]], ...spread(wrapperTimes[w.key]) })),
  };
}

/** Targets for report.js: each start-up within node -e 0 + 40 ms (medians). */
export function startupTargets(s) {
  const node = s.rows.find((r) => r.key === 'node');
  const row = (key) => s.rows.find((r) => r.key === key);
  const t = [];
  const ms = (x) => `${(x * 1000).toFixed(1)} ms`;
  for (const r of s.rows.filter((x) => x.target && x.build === 'after')) {
    t.push({
      target: `${r.label} at N=${s.n} within \`node -e 0\` + ${TARGET_MS} ms`,
      measured: `${ms(r.median)} = node + ${ms(r.median - node.median)}`,
      value: r.median,
      met: r.median - node.median <= TARGET_MS / 1000,
    });
  }
  const w = row('wrapper/after');
  const f = row('floor-x');
  if (w && f) {
    const own = w.median - f.median;
    t.push({
      target: `the wrapper's path at N=${s.n}: \`postfleet -x /bin/true\` less the no-manager floor within \`node -e 0\` + ${TARGET_MS} ms`,
      measured: `${ms(w.median)} − ${ms(f.median)} = ${ms(own)} = node + ${ms(own - node.median)}`,
      value: own,
      met: own - node.median <= TARGET_MS / 1000,
    });
  }
  return t;
}

export function renderStartupSection(s, { fmt }) {
  const out = [];
  const p = (x = '') => out.push(x);
  const node = s.rows.find((r) => r.key === 'node');
  const cell = (r) => `${fmt(r.median)} <sub>[IQR ${fmt(r.p25)}–${fmt(r.p75)}; ${fmt(r.min)}–${fmt(r.max)}, n=${r.n}]</sub>`;
  const overNode = (r) => (r.key === 'node' ? '' : `${r.median >= node.median ? '+' : ''}${((r.median - node.median) * 1000).toFixed(1)} ms`);
  p(`## Start-up (N=${s.n}: ${s.instances} instances)`);
  p();
  p(`Every command once per round, ${s.rounds} rounds (after ${s.warmup} warm-up), in an order that rotates`);
  p('each round; wall time from spawn to exit. Cells: median <sub>[interquartile range; min–max, n]</sub>.');
  p(`1-min load average while it ran: min ${s.load.min.toFixed(2)}, median ${s.load.median.toFixed(2)}, max ${s.load.max.toFixed(2)}.`);
  if (s.before) p(`"before": ${s.before}, timed in the same rounds; both builds answered every checked command alike: ${Object.entries(s.verify).filter(([k]) => k.startsWith('same:')).every(([, v]) => v) ? 'yes' : '**no**'}.`);
  p();
  const builds = s.before ? ['after', 'before'] : ['after'];
  const name = (b) => (s.before ? (b === 'after' ? 'this build' : 'before') : 'wall');
  const cpuCell = (r) => (r?.cpu ? fmt(r.cpu.median) : '—');
  p(`| command | ${builds.map((b) => `${name(b)}`).join(' | ')} | ${builds.map((b) => `${s.before ? `${name(b)}: ` : ''}over \`node -e 0\``).join(' | ')} | ${builds.map((b) => `CPU${s.before ? `, ${name(b)}` : ''}`).join(' | ')} |`);
  p(`|---|${builds.map(() => '---').join('|')}|${builds.map(() => '---:').join('|')}|${builds.map(() => '---:').join('|')}|`);
  const seen = new Set();
  for (const r of s.rows) {
    const base = r.key.split('/')[0];
    if (seen.has(base)) continue;
    seen.add(base);
    const cells = r.build ? builds.map((b) => s.rows.find((x) => x.key === `${base}/${b}`)) : [r, ...builds.slice(1).map(() => undefined)];
    p(`| ${r.label} | ${cells.map((c) => (c ? cell(c) : '')).join(' | ')} | ${cells.map((c) => (c ? overNode(c) : '')).join(' | ')} | ${cells.map((c) => (c ? cpuCell(c) : '')).join(' | ')} |`);
  }
  p();
  if (s.cpuTimed) {
    p(`CPU: task-clock of the command and its children (\`postconf -d\`, the children of \`-x\`), median of ${s.cpuRounds} further rounds`);
    p('under `perf stat` (kept apart from the wall-time rounds, to which perf would add); it counts both cores, so it can');
    p('exceed the wall time, and it is less sensitive than wall time to other work on the machine, not immune to it.');
    p();
  } else {
    p('CPU: not measured (`perf` not available).');
    p();
  }
  p(`Plain \`postfix status\` on the wrapped host (all ${s.instances} masters stopped: every instance answers "not running"),`);
  p('each wrapper in turn as `multi_instance_wrapper`, blocks alternating:');
  p();
  p('| multi_instance_wrapper | `postfix status` |');
  p('|---|---|');
  for (const w of s.wrappers) p(`| ${w.label}${w.build && s.before ? ` (${w.build === 'after' ? 'this build' : 'before'})` : ''}: \`${w.value}\` | ${cell(w)} |`);
  p();
  return out;
}
