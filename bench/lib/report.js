import { stats } from './util.js';
import { renderQueueSection } from './queue-phase.js';
import { renderQueueReadSection } from './queue-read-phase.js';
import { renderStartupSection, startupTargets } from './startup-phase.js';
// Renders bench/results.json (the object) as bench/RESULTS.md.

const fmt = (s) => {
  if (s === undefined || s === null || Number.isNaN(s)) return '—';
  if (s < 1) return `${(s * 1000).toFixed(s < 0.1 ? 1 : 0)} ms`;
  return `${s.toFixed(2)} s`;
};
const fx = (x) => (x === undefined || x === null || !Number.isFinite(x) ? '—' : `${x.toFixed(x >= 10 ? 0 : 1)}x`);
const cell = (st) => (st && st.n ? `${fmt(st.median)} <sub>[${fmt(st.min)}–${fmt(st.max)}, n=${st.n}]</sub>` : 'invalid / not run');
const speedup = (ref, x) => (ref?.n && x?.n ? ref.median / x.median : undefined);
const noCache = (ref, x) => (x?.n ? `; settings cache off: ${fmt(x.median)} = ${fx(speedup(ref, x))}` : '');
const pct = (x) => (x === undefined || x === null || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(x < 0.1 ? 1 : 0)} %`);
const ms = (x) => (x === undefined || x === null || !Number.isFinite(x) ? '—' : `${Math.round(x)} ms`);
const yesNo = (b) => (b === undefined ? '—' : b ? '**met**' : '**MISSED**');

export function computeTargets(r) {
  const t = [];
  const sizes = r.config.sizes;
  const big = sizes.at(-1);
  const small = sizes[0];
  const L = r.listing ?? {};
  const S = r.status ?? {};
  if (L[big]) {
    const x = speedup(L[big].postmulti, L[big].compat);
    t.push({ target: `listing ${big} instances ≥40x faster than \`postmulti -l\` — \`postfleet -l\``, measured: `${fmt(L[big].postmulti.median)} / ${fmt(L[big].compat.median)} = ${fx(x)}${noCache(L[big].postmulti, L[big].compatNoCache)}`, value: x, met: x === undefined ? undefined : x >= 40 });
    const y = speedup(L[big].postmulti, L[big].modern);
    t.push({ target: `listing ${big} instances ≥40x faster than \`postmulti -l\` — \`postfleet list\``, measured: `${fmt(L[big].postmulti.median)} / ${fmt(L[big].modern.median)} = ${fx(y)}${noCache(L[big].postmulti, L[big].modernNoCache)}`, value: y, met: y === undefined ? undefined : y >= 40 });
  }
  if (L[small]) {
    const a = L[small].compat.median / L[small].postmulti.median;
    t.push({ target: `compat \`postfleet -l\` at N=${small} within 2x of \`postmulti -l\``, measured: `${fmt(L[small].compat.median)} vs ${fmt(L[small].postmulti.median)} = ${a.toFixed(2)}x the time`, value: a, met: a <= 2 });
    const b = L[small].modern.median / L[small].postmulti.median;
    t.push({ target: `modern \`postfleet list\` at N=${small} within 3x of \`postmulti -l\``, measured: `${fmt(L[small].modern.median)} vs ${fmt(L[small].postmulti.median)} = ${b.toFixed(2)}x the time`, value: b, met: b <= 3 });
  }
  if (S[big]) {
    const x = speedup(S[big].postmulti, S[big].native);
    t.push({ target: `\`postfleet status\` of ${big} ≥100x faster than \`postmulti -p status\``, measured: `${fmt(S[big].postmulti.median)} / ${fmt(S[big].native.median)} = ${fx(x)}${noCache(S[big].postmulti, S[big].nativeNoCache)}`, value: x, met: x === undefined ? undefined : x >= 100 });
  }
  const ss = r.startstop;
  if (ss) {
    const pm = ss.variants.postmulti?.startStats;
    const xa = ss.variants.xargsP2?.startStats;
    const floor = xa?.n ? ` (no manager at all, \`xargs -P 2\` over plain \`postfix start\`: ${fmt(xa.median)} = ${speedup(pm, xa)?.toFixed(2)}x)` : '';
    if (ss.variants.fast) {
      const f = ss.variants.fast.startStats;
      const x = speedup(pm, f);
      const share = ss.own?.share?.n ? `; postfleet's own share ≈ ${pct(ss.own.share.median)} (estimate, see Start / stop)` : '';
      t.push({ target: `fast start of ${ss.n} enabled instances ≥4x faster than \`postmulti -p start\` — \`postfleet postfix start\` (${r.meta.nproc} cores)`, measured: `${fmt(pm?.median)} / ${fmt(f?.median)} = ${x === undefined ? '—' : x.toFixed(2) + 'x'}${share}`, value: x, met: x === undefined ? undefined : x >= 4 });
    }
    const p2 = ss.variants.compatP2?.startStats;
    const x = speedup(pm, p2);
    t.push({ target: `\`postfleet -P 2 -p start\` (postmulti-identical, postfix-script's checks) of ${ss.n} enabled instances ≥1.8x faster than \`postmulti -p start\` (${r.meta.nproc} cores)`, measured: `${fmt(pm?.median)} / ${fmt(p2?.median)} = ${x === undefined ? '—' : x.toFixed(2) + 'x'}${floor}`, value: x, met: x === undefined ? undefined : x >= 1.8 });
  }
  const lc = r.lifecycle;
  if (lc) {
    const pm = lc.single.postmulti.createStats;
    for (const k of ['compat', 'modern']) {
      const x = speedup(pm, lc.single[k].createStats);
      const what = k === 'compat' ? '`postfleet -I postfix-c1 -e create`' : '`postfleet create postfix-c1`';
      t.push({ target: `one create ≥2x faster than postmulti's — ${what}`, measured: `${fmt(pm?.median)} / ${fmt(lc.single[k].createStats?.median)} = ${fx(x)}`, value: x, met: x === undefined ? undefined : x >= 2 });
    }
    const K = r.config.creates;
    const x = speedup(lc.many.postmultiLoop.stats, lc.many.postfleetConcurrent.stats);
    t.push({ target: `${K} creates ≥5x faster than postmulti's loop — ${K} concurrent \`postfleet create\``, measured: `${fmt(lc.many.postmultiLoop.stats?.median)} / ${fmt(lc.many.postfleetConcurrent.stats?.median)} = ${fx(x)}`, value: x, met: x === undefined ? undefined : x >= 5 });
  }
  const dc = r.decommission;
  if (dc) {
    const loop = dc.variants.loop?.stats;
    const group = dc.variants.group?.stats;
    const x = speedup(loop, group);
    t.push({ target: `destroying a group of ${dc.k} disabled instances in a fleet of ${dc.n} ≥20x faster than a loop of single \`postfleet destroy\``, measured: `${fmt(loop?.median)} / ${fmt(group?.median)} = ${fx(x)}`, value: x, met: x === undefined ? undefined : x >= 20 });
  }
  if (r.startup) t.push(...startupTargets(r.startup));
  const q = r.queue;
  if (q?.metrics?.n) {
    t.push({ target: `\`postfleet metrics\` of ${q.n} instances with ${q.messages} queued messages under 1 s`, measured: fmt(q.metrics.median), value: q.metrics.median, met: q.metrics.median < 1 });
  }
  const qr = r.queueRead;
  if (qr?.fleet) {
    for (const [key, what] of [['summary', '`postfleet queue summary`'], ['list', '`postfleet queue list --json`']]) {
      const w = qr.fleet[key];
      const c = qr.fleet[`${key}Cold`];
      const worst = Math.max(w.median, c?.median ?? 0);
      t.push({ target: `${what} of ${qr.n} instances with ${qr.messages} queued messages under 1 s`, measured: `${c ? `cold ${fmt(c.median)}, ` : ''}warm ${fmt(w.median)} (the \`postqueue -j\` loop: ${fmt(qr.fleet.postqueueLoop.median)})`, value: worst, met: worst < 1 });
    }
  }
  if (qr?.one) {
    for (const [key, what] of [['list', '`postfleet queue list --json`'], ['summary', '`postfleet queue summary`']]) {
      for (const [suffix, label] of [['Cold', 'cold'], ['', 'warm (its cache filled, the queue unchanged)']]) {
        const m = qr.one[`${key}${suffix}`];
        if (!m) continue;
        const x = speedup(qr.one.postqueue, m);
        t.push({ target: `${qr.big} messages in one instance ≥10x faster than \`postqueue -j\` — ${what}, ${label}`, measured: `${fmt(qr.one.postqueue.median)} / ${fmt(m.median)} = ${fx(x)}`, value: x, met: x === undefined ? undefined : x >= 10 });
      }
    }
    const rss = Math.max(qr.one.peakRss.list, qr.one.peakRss.listCold ?? 0);
    t.push({ target: `peak memory of \`postfleet queue list --json\` on ${qr.big} messages under 300 MB (cold and warm)`, measured: `${(rss / 1048576).toFixed(0)} MB`, value: rss, met: rss < 300 * 1048576 });
  }
  return t;
}

export function renderReport(r) {
  const m = r.meta;
  const out = [];
  const p = (s = '') => out.push(s);
  p('# postfleet vs postmulti — benchmark results');
  p();
  p(`Generated by \`node bench/run.js${r.config.quick ? ' --quick' : ''}\` (\`npm run bench\`). Raw numbers: [results.json](results.json).`);
  if (r.config.quick) p('\n> **Quick mode**: small fleets and few runs — a check of the harness, not real figures.');
  p();
  p('## Machine');
  p();
  p('| | |');
  p('|---|---|');
  p(`| date | ${m.started} (took ${m.durationSeconds ? Math.round(m.durationSeconds) + ' s' : '—'}) |`);
  p(`| nproc | ${m.nproc} (${m.cpuModel}) |`);
  p(`| memory | ${m.memTotalMB} MB |`);
  p(`| kernel | ${m.kernel} |`);
  p(`| Postfix | ${m.postfixVersion} (Debian package) |`);
  p(`| node | ${m.nodeVersion} |`);
  p(`| timing | ${m.hyperfine} |`);
  p(`| postfleet | commit ${m.postfleetCommit}${m.postfleetTreeDirty ? ' + uncommitted changes in src/' : ''}, from dist/ (\`node bin/run.js\`) |`);
  if (m.environment) {
    p(`| environment of every measured command | ${m.environment.kept.join(', ')} kept; dropped: ${m.environment.dropped.length ? m.environment.dropped.join(', ') : 'nothing'} (see How it was measured) |`);
  }
  if (m.nodeStartup) {
    const extra = Object.entries(m.nodeStartup).filter(([k]) => k !== 'operatorEnvironmentMs').map(([k, v]) => `${v} ms ${k.replace(/^with/, 'with ').replace(/Ms$/, '')} set`);
    p(`| \`node -e 0\` (median of 15) | ${m.nodeStartup.operatorEnvironmentMs} ms${extra.length ? '; ' + extra.join('; ') : ''} |`);
  }
  p(`| load average | start ${m.loadavgStart.map((x) => x.toFixed(2)).join(' ')}, end ${(m.loadavgEnd ?? []).map((x) => x.toFixed(2)).join(' ')} |`);
  if (r.load?.length) {
    const l = r.load.map((x) => x.load1);
    p(`| 1-min load when each step began | min ${Math.min(...l).toFixed(2)}, median ${stats(l).median.toFixed(2)}, max ${Math.max(...l).toFixed(2)} over ${l.length} steps (the harness itself keeps up to 2 busy; higher means other work shared the 2 cores — see results.json \`load\`) |`);
  }
  p();

  const targets = computeTargets(r);
  p('## Targets');
  p();
  p('| target | measured (postmulti / postfleet, medians) | |');
  p('|---|---|---|');
  for (const t of targets) p(`| ${t.target} | ${t.measured} | ${yesNo(t.met)} |`);
  p();
  const slower = slowerThanPostmulti(r);
  if (slower.length) {
    p('## Where postfleet is slower than postmulti');
    p();
    for (const x of slower) p(`- ${x}`);
    p();
  }
  if (r.problems.length) {
    p('## Problems seen during the run');
    p();
    for (const x of r.problems) p(`- ${x}`);
    p();
  }

  p('## How it was measured');
  p();
  p('- Everything runs in a private PID + mount namespace (`unshare -m -p -f --mount-proc`) with overlayfs over');
  p('  `/etc`, `/var/spool`, `/var/lib`, `/var/log` and `/var/cache` (upper dirs under `bench/work/`, removed afterwards);');
  p('  the primary instance is reset to a pristine main.cf (`compatibility_level = 3.6`, `master_service_disable = inet`,');
  p('  `maillog_file = /var/log/postfix.log`, `inet_interfaces = loopback-only`), then `postmulti -e init`.');
  p('  Masters started inside die with the namespace.');
  p('- Fleets are made by `bench/mkfleet.sh N [yes|no]`: one real `postmulti -I postfix-b0 -G bench -e create`, the other');
  p('  instances are sed-edited copies of it (main.cf, master.cf, `cp -a` of queue and data dirs). N counts the');
  p('  secondaries; every command also handles the primary, so there are N+1 instances.');
  p('- Every main.cf is back-dated by a minute before each timed command (Postfix pauses ~1.5 s on a main.cf');
  p('  younger than a second), but never inside a timed command: a create/destroy or a loop of creates pays');
  p('  whatever pauses it causes itself.');
  p('- Settings cache: postfleet keeps the parsed settings of each main.cf in `/var/cache/postfleet`, valid while the');
  p('  file\'s device, inode, size, mtime and ctime are unchanged, and only for files whose ctime is 2 s old. Back-dating');
  p('  sets every ctime to now, so listing and status wait 2.1 s after it: the default figures are the steady state');
  p('  (cache filled by the warm-up runs); the "settings cache off" figures are the first run after every file changed.');
  p('- Listing and status: `hyperfine -N` (no shell), warm-up runs first. Start/stop and life-cycle: wall clock');
  p('  from spawn to exit, variants interleaved round by round. Cells show the median, then [min–max, runs].');
  p('  Speed-up = postmulti median / postfleet median.');
  p('- Environment: every measured command, postmulti\'s and postfleet\'s alike, runs with the environment an operator\'s');
  p('  shell or postfix(1) gives it (the variables listed under Machine), not the harness\'s. This build machine sets');
  p('  `NODE_EXTRA_CA_CERTS`, which makes every Node process load that CA bundle before running any code (see the');
  p('  `node -e 0` figures under Machine): a cost of the machine, not of postfleet, which makes no TLS connection;');
  p('  postfix(1) strips it anyway (import_environment) when it runs postfleet as multi_instance_wrapper.');
  p('- Validity: listing output of `postfleet -l` is compared byte for byte with `postmulti -l`; after every');
  p('  start all N+1 masters must run (live `master` processes in the namespace, `postfleet status --json`, and');
  p('  each instance\'s `pid/master.pid` naming a live master), after every stop none; after every start and every');
  p('  stop the file tree of the managed instances (config, queue and data directories: every path with its type,');
  p('  owner, group and mode) must be the one postmulti\'s first start / stop left (see Start / stop for what is');
  p('  left out of that comparison); after every create the instance must be registered and complete, after every');
  p('  destroy gone. Runs that fail a check are left out of the figures and listed under Problems.');
  p();

  const sizes = Object.keys(r.listing ?? {}).map(Number).sort((a, b) => a - b);
  if (sizes.length) {
    p('## Listing');
    p();
    p('| N | `postmulti -l` | `postfleet -l` (compat) | speed-up | `postfleet list` (modern) | speed-up | `-l` output identical |');
    p('|---:|---|---|---:|---|---:|:---:|');
    for (const n of sizes) {
      const x = r.listing[n];
      p(`| ${n} | ${cell(x.postmulti)} | ${cell(x.compat)} | ${fx(speedup(x.postmulti, x.compat))} | ${cell(x.modern)} | ${fx(speedup(x.postmulti, x.modern))} | ${x.verify.compatIdentical ? 'yes' : '**no**'} |`);
    }
    p();
    if (sizes.some((n) => r.listing[n].compatNoCache)) {
      p('The same with the settings cache turned off (`env POSTFLEET_CACHE_DIR= …`): every main.cf read and parsed,');
      p('as on the first run after all of them changed.');
      p();
      p('| N | `postfleet -l` (compat) | speed-up | `postfleet list` (modern) | speed-up |');
      p('|---:|---|---:|---|---:|');
      for (const n of sizes) {
        const x = r.listing[n];
        p(`| ${n} | ${cell(x.compatNoCache)} | ${fx(speedup(x.postmulti, x.compatNoCache))} | ${cell(x.modernNoCache)} | ${fx(speedup(x.postmulti, x.modernNoCache))} |`);
      }
      p();
    }
  }
  if (r.startup) out.push(...renderStartupSection(r.startup, { fmt }));
  if (r.queue) out.push(...renderQueueSection(r.queue, { fmt, cell, fx }));
  if (r.queueRead) out.push(...renderQueueReadSection(r.queueRead, { fmt, cell, fx }));
  const ssz = Object.keys(r.status ?? {}).map(Number).sort((a, b) => a - b);
  if (ssz.length) {
    p('## Status (all masters stopped)');
    p();
    p('| N | `postmulti -p status` | `postfleet -p status` (compat) | speed-up | `postfleet status` (native) | speed-up | native, settings cache off | speed-up |');
    p('|---:|---|---|---:|---|---:|---|---:|');
    for (const n of ssz) {
      const x = r.status[n];
      p(`| ${n} | ${cell(x.postmulti)} | ${cell(x.compat)} | ${fx(speedup(x.postmulti, x.compat))} | ${cell(x.native)} | ${fx(speedup(x.postmulti, x.native))} | ${cell(x.nativeNoCache)} | ${fx(speedup(x.postmulti, x.nativeNoCache))} |`);
    }
    p();
    p('`-p status` exits 1 when instances are not running (both tools: exit codes ' +
      ssz.map((n) => `N=${n}: ${r.status[n].verify.exit.postmulti}/${r.status[n].verify.exit.compat}`).join(', ') + ').');
    p();
  }
  if (r.memory) {
    p(`## Memory (N=${r.memory.n}, peak RSS from \`/usr/bin/time -v\`)`);
    p();
    p('| command | max RSS (median) | runs (kB) |');
    p('|---|---:|---|');
    for (const row of r.memory.rows) p(`| \`${row.label.replace(/ \(.*/, '')}\`${row.label.includes('(') ? ' ' + row.label.replace(/^[^(]*/, '') : ''} | ${(row.median / 1024).toFixed(1)} MB | ${row.kb.join(', ')} |`);
    p();
  }
  const ss = r.startstop;
  if (ss) {
    p(`## Start / stop (${ss.n} enabled secondaries + the primary = ${ss.instances} masters)`);
    p();
    p('Pre-start checks: *postfix-script* = Postfix\'s own (a plain `postfix start` per instance: postfix-script\'s');
    p('check-fatal and check-warn, then the master); *native* = postfleet\'s fast start (the same checks done in');
    p('postfleet, `postsuper` run as the script runs it, then each master started through Postfix\'s quick-start');
    p('path, which skips the script\'s checks). `postfleet postfix start` is timed with `--json` (its stdout is');
    p('where the per-instance `checkMs` comes from); the stops are not.');
    p();
    renderStartStopTable(p, ss);
    renderOwnShare(p, ss);
    renderEndStates(p, ss);
    if (ss.big) {
      const b = ss.big;
      p(`### Start / stop of ${b.n} enabled secondaries + the primary = ${b.instances} masters`);
      p();
      p(`Fewer rounds (postmulti: ${b.variants.postmulti?.rounds ?? '—'}; postfleet: ${b.variants.fast?.rounds ?? '—'} each), as \`postmulti -p start\` of a large fleet is slow; the same checks after every run.`);
      p();
      renderStartStopTable(p, b);
      renderOwnShare(p, b);
      renderEndStates(p, b);
    }
  }
  const lc = r.lifecycle;
  if (lc) {
    p(`## Life-cycle (base fleet: ${lc.baseFleet} secondaries)`);
    p();
    p('One create and one destroy of `postfix-c1` (each preceded by back-dating, so it pays only its own pauses):');
    p();
    p('| variant | create | speed-up | destroy | speed-up | valid runs (create/destroy) |');
    p('|---|---|---:|---|---:|:---:|');
    const ref = lc.single.postmulti;
    for (const v of Object.values(lc.single)) {
      p(`| ${v.label} | ${cell(v.createStats)} | ${fx(speedup(ref.createStats, v.createStats))} | ${cell(v.destroyStats)} | ${fx(speedup(ref.destroyStats, v.destroyStats))} | ${v.create.length}/${v.runs.length}, ${v.destroy.length}/${v.runs.length} |`);
    }
    p();
    const K = r.config.creates;
    p(`${K} creates (\`postfix-c1\` … \`postfix-c${K}\`), from the same clean state each time:`);
    p();
    p(`| variant | wall time | speed-up vs postmulti loop | registered per run (of ${K}) | non-zero exits per run | multi_instance_directories lines in main.cf |`);
    p('|---|---|---:|---|---|---|');
    const mref = lc.many.postmultiLoop.stats;
    for (const v of Object.values(lc.many)) {
      p(`| ${v.label} | ${cell(v.stats)} | ${fx(speedup(mref, v.stats))} | ${v.runs.map((x) => x.registered).join(', ')} | ${v.runs.map((x) => x.exitsNonZero).join(', ')} | ${v.runs.map((x) => x.multiInstanceDirectoriesDefinitions).join(', ')} |`);
    }
    p();
    const pc = lc.many.postmultiConcurrent;
    if (pc?.runs.length) {
      p(`Concurrent postmulti creates are included to show the race postfleet avoids: postmulti kept ${pc.runs.map((x) => x.registered).join(', ')} of ${K} per run ` +
        `(\`postmulti -l\` counted ${pc.runs.map((x) => x.registeredPostmultiL).join(', ')}), although ${pc.runs.map((x) => x.instanceDirsComplete).join(', ')} instance directories were complete on disk. ` +
        `Its time is not comparable (the instances it lost were never registered). The postmulti loop kept ${lc.many.postmultiLoop.runs.map((x) => x.registered).join(', ')} of ${K}.`);
      p();
    }
  }
  const bk = r.bulk;
  if (bk) {
    p('## Several instances at once: enable / disable, apply');
    p();
    p(`A group of ${bk.n} (the whole fleet), enabled then disabled. postmulti takes one instance per \`-e enable\`, so it runs in a loop; each run reads every main.cf, the one the previous run just wrote included, and pays Postfix's pause for it, as an operator's shell loop does.`);
    p();
    p('| variant | enable | speed-up | disable | speed-up | valid runs (enable/disable) |');
    p('|---|---|---:|---|---:|:---:|');
    const ref = bk.small.postmultiLoop;
    const row = (v) => {
      const en = stats(v.enable);
      const dis = stats(v.disable);
      const runs = (what) => v.runs.filter((x) => x.what === what).length;
      p(`| ${v.label} | ${cell(en)} | ${fx(speedup(stats(ref.enable), en))} | ${cell(dis)} | ${fx(speedup(stats(ref.disable), dis))} | ${v.enable.length}/${runs('enable')}, ${v.disable.length}/${runs('disable')} |`);
    };
    for (const v of Object.values(bk.small)) row(v);
    p();
    p(`The whole group of a fleet of ${bk.big}:`);
    p();
    p('| variant | enable | disable |');
    p('|---|---|---|');
    const g = bk.large.postfleetGroup;
    p(`| ${g.label} | ${cell(stats(g.enable))} | ${cell(stats(g.disable))} |`);
    p();
    if (bk.large.postmultiOne) p(`For scale: ${bk.large.postmultiOne.label} took ${fmt(bk.large.postmultiOne.secs)} (exit ${bk.large.postmultiOne.exit}).`);
    if (bk.large.applyUpToDate) p(`${bk.large.applyUpToDate.label}: ${cell(bk.large.applyUpToDate)}.`);
    p();
    if (bk.create) {
      p(`${bk.create.k} new enabled instances on the fleet of ${bk.create.fleet}, from the same state each time:`);
      p();
      p('| variant | wall time | speed-up | valid runs |');
      p('|---|---|---:|:---:|');
      const ref = stats(bk.create.variants.loop.times);
      for (const v of Object.values(bk.create.variants)) p(`| ${v.label} | ${cell(stats(v.times))} | ${fx(speedup(ref, stats(v.times)))} | ${v.times.length}/${v.runs.length} |`);
      p();
    }
  }
  if (r.decommission) renderDecommission(p, r.decommission);
  return out.join('\n') + '\n';
}

function renderDecommission(p, dc) {
  p(`## Decommissioning: destroy a group of ${dc.k} disabled instances in a fleet of ${dc.n}`);
  p();
  p(`The group (every ${Math.floor(dc.n / dc.k)}th instance of the list) is destroyed by one \`postfleet destroy -g\` (one plan, one write of the primary main.cf, then every instance's files removed under one hold of its lock) and by a loop of single \`postfleet destroy NAME\`, each from the same fleet, its main.cf files back-dated and the settings cache settled. A run counts when every command exits 0, the ${dc.k} instances are unlisted and their config, queue and data directories gone, and the instance list and remaining paths are those of the first run.`);
  p();
  p('| variant | wall time | speed-up | valid runs |');
  p('|---|---|---:|:---:|');
  const ref = dc.variants.loop?.stats;
  for (const v of Object.values(dc.variants)) p(`| ${v.label} | ${cell(v.stats)} | ${fx(speedup(ref, v.stats))} | ${v.times.length}/${v.runs.length} |`);
  p();
  const pm = dc.postmultiOne;
  if (pm?.n) p(`For scale: ${pm.label}: ${cell(pm)}; ${dc.k} of them in a loop would take about ${fmt(pm.median * dc.k)} (extrapolated, not measured).`);
  p();
}

function renderStartStopTable(p, ss) {
  p('| variant | pre-start checks | start | speed-up | stop | speed-up | valid runs (start/stop) |');
  p('|---|---|---|---:|---|---:|:---:|');
  const ref = ss.variants.postmulti;
  for (const v of Object.values(ss.variants)) {
    p(`| ${v.label} | ${v.checks ?? '—'} | ${cell(v.startStats)} | ${fx(speedup(ref?.startStats, v.startStats))} | ${cell(v.stopStats)} | ${fx(speedup(ref?.stopStats, v.stopStats))} | ${v.start.length}/${v.runs.length}, ${v.stop.length}/${v.runs.length} |`);
  }
  p();
}

/** postfleet's own share of the fast start's wall time: an estimate, with its formula. */
function renderOwnShare(p, ss) {
  const o = ss.own;
  if (!o) return;
  const v = ss.variants[o.variant];
  p(`Postfleet's own share of \`${v?.startCommand ?? o.variant}\` (${ss.instances} instances) — **an estimate**:`);
  p();
  p('| | median | per valid run |');
  p('|---|---|---|');
  p(`| wall time of the start (W) | ${fmt(o.wall?.median)} | ${o.runs.map((x) => fmt(x.wall)).join(', ') || '—'} |`);
  p(`| start-up + reading the fleet (L): \`${o.loadCommand}\` on the same fleet, settings cache off as in a start right after back-dating | ${fmt(o.load?.median)} | ${(o.load?.times ?? []).map(fmt).join(', ')} |`);
  p(`| native checks (C): Σ \`checkMs\` over the ${ss.instances} instances, from the start's own \`--json\` | ${ms(o.sumCheckMs?.median)} | ${o.runs.map((x) => ms(x.sumCheckMs)).join(', ') || '—'} |`);
  p(`| parallelism (P) | ${o.parallelism} | |`);
  p(`| **share = (L + C / P) / W** | **${pct(o.share?.median)}** | ${o.runs.map((x) => pct(x.share)).join(', ') || '—'} |`);
  p(`| upper bound (L + C) / W | ${pct(o.shareUpper?.median)} | ${o.runs.map((x) => pct(x.shareUpper)).join(', ') || '—'} |`);
  p();
  const j = (v?.runs ?? []).map((x) => x.json).filter((x) => x && !x.jsonError);
  if (j.length) {
    p(`Per run, from the \`--json\` output: Σ durationMs ${j.map((x) => ms(x.sumDurationMs)).join(', ')} (each instance's check + postsuper + postfix quick-start, spawn to exit), ` +
      `slowest instance ${j.map((x) => ms(x.maxDurationMs)).join(', ')}; instances on the fast path ${j.map((x) => `${x.fastPath}/${x.instancesInJson}`).join(', ')} (the rest fell back to Postfix's own start).`);
    p();
  }
  p('L covers node\'s start-up, loading the command and reading every main.cf; C the native checks (check-fatal');
  p('and check-warn: stat and create of the queue tree per postfix-files, master.cf, the ownership/permission');
  p('warnings), not postsuper, postlog or postfix(1), which are Postfix\'s. Spawning the children and collecting');
  p('their output is in neither, so the share is low by that much. The checks run synchronously in postfleet\'s');
  p('one thread: they never overlap each other, only other instances\' Postfix processes, so C / P assumes they');
  p('were perfectly hidden behind those; the upper bound assumes they were not hidden at all.');
  p();
}

function renderEndStates(p, ss) {
  const runs = Object.values(ss.variants).flatMap((v) => v.runs);
  if (!runs.length || !ss.reference) return;
  const cnt = (k) => ({ same: runs.filter((x) => x[k] === true).length, differ: runs.filter((x) => x[k] === false).length, unchecked: runs.filter((x) => x[k] === null || x[k] === undefined).length });
  const a = cnt('treeAfterStartSameAsPostmulti');
  const b = cnt('treeAfterStopSameAsPostmulti');
  p(`End states: the file tree (${ss.reference.startTreeEntries} paths with type, owner, group and mode, digest \`${ss.reference.startTree ?? '—'}\` after start, \`${ss.reference.stopTree ?? '—'}\` after stop) ` +
    `was the same as after postmulti's first start in ${a.same} of ${runs.length} runs (postmulti's own included), differed in ${a.differ}${a.unchecked ? `, unchecked (no valid postmulti reference yet) in ${a.unchecked}` : ''}; ` +
    `after stop: same ${b.same}, differed ${b.differ}${b.unchecked ? `, unchecked ${b.unchecked}` : ''}. ` +
    'Not compared, as they differ by nature or depend on which daemons happened to run: file contents, sizes and times ' +
    '(the PIDs in `pid/master.pid` and `master.lock`), service lock files in `pid/` other than `master.pid`, `prng_exch`, `*_cache.db`/`.lmdb`.');
  p();
}

/** Every postfleet figure whose median is above postmulti's for the same job. */
function slowerThanPostmulti(r) {
  const out = [];
  const chk = (what, ref, x) => {
    if (ref?.n && x?.n && x.median > ref.median) out.push(`${what}: ${fmt(x.median)} vs postmulti's ${fmt(ref.median)} (${(x.median / ref.median).toFixed(2)}x the time)`);
  };
  for (const [n, x] of Object.entries(r.listing ?? {})) {
    chk(`\`postfleet -l\` at N=${n}`, x.postmulti, x.compat);
    chk(`\`postfleet list\` at N=${n}`, x.postmulti, x.modern);
    chk(`\`postfleet -l\` at N=${n}, settings cache off`, x.postmulti, x.compatNoCache);
    chk(`\`postfleet list\` at N=${n}, settings cache off`, x.postmulti, x.modernNoCache);
  }
  for (const [n, x] of Object.entries(r.status ?? {})) {
    chk(`\`postfleet -p status\` at N=${n}`, x.postmulti, x.compat);
    chk(`\`postfleet status\` at N=${n}`, x.postmulti, x.native);
  }
  for (const ph of [r.startstop, r.startstop?.big].filter(Boolean)) {
    const v = ph.variants;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'postmulti' || k.startsWith('xargs')) continue;
      chk(`\`${x.startCommand}\` (${ph.n} enabled)`, v.postmulti?.startStats, x.startStats);
      chk(`\`${x.stopCommand}\` (${ph.n} enabled)`, v.postmulti?.stopStats, x.stopStats);
    }
  }
  if (r.lifecycle) {
    const v = r.lifecycle.single;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'postmulti') continue;
      chk(`create — ${x.label}`, v.postmulti.createStats, x.createStats);
      chk(`destroy — ${x.label}`, v.postmulti.destroyStats, x.destroyStats);
    }
  }
  return out;
}
