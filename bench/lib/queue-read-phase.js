// The queue-read phase: `postfleet queue summary` and `postfleet queue list` side by side with
// what a user has without postfleet, `postqueue -j` once per instance, in the same run, on
//  (a) N instances holding M messages (per instance: half deferred with their defer logs, half
//      on hold), every master stopped: postqueue -j, run as root, then runs showq itself
//      ("Mail system is down -- accessing queue directly"), so the loop covers all N instances,
//      nothing extrapolated;
//  (b) one instance holding BIG messages (deferred, each with its defer log).
// The messages are copies of one real deferred queue file and its defer log, made by Postfix
// in postfix-b0 (the retry(8) transport defers the mail). Before anything is timed, postfleet's
// messages are checked against postqueue -j: (a) on three instances, (b) all BIG of them,
// field for field. Peak RSS of the 100 000-message list is measured with /usr/bin/time.
//
// postfleet keeps what it read in a cache (/var/cache/postfleet/queue: a file that stat shows
// unchanged is not read again); postqueue -j has none. So postfleet is timed both ways: cold
// (the cache emptied before each run: everything read, and the cache written) and warm (the
// cache as the run before left it, the queue unchanged: every file and defer log stat'ed,
// none read). The operating system's page cache is warm for all, postqueue -j included.
import { chownSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { capture, log, sh } from './util.js';

const TEMPLATE = '/tmp/bench-deferred-file';
const TEMPLATE_LOG = '/tmp/bench-defer-log';

/** One real deferred message of postfix-b0 and its defer log, copied to TEMPLATE / TEMPLATE_LOG; postfix-b0 is left as it was. */
function makeTemplate() {
  sh(String.raw`
set -eu
d=/etc/postfix-b0; q=/var/spool/postfix-b0
cp -p $d/main.cf /tmp/bench-b0-main.cf
postconf -c $d -e 'authorized_submit_users = static:anyone' 'default_transport = retry:4.4.1 connect to mx.bench.test[192.0.2.1]:25: Connection timed out'
touch -d '-1 minute' $d/main.cf
postfix -c $d start >/dev/null 2>&1
printf 'Subject: bench\n\nbody\n' | MAIL_CONFIG=$d sendmail -f sender@bench.test one@dest.bench.test two@other.bench.test
for i in $(seq 300); do [ -n "$(find $q/deferred -type f)" ] && [ -n "$(find $q/defer -type f)" ] && break; sleep 0.1; done
postfix -c $d stop >/dev/null 2>&1
f=$(find $q/deferred -type f | head -n 1); id=$(basename "$f")
[ -n "$f" ] || { echo 'no deferred message in postfix-b0' >&2; exit 1; }
cp "$f" ${TEMPLATE}; cp "$(find $q/defer -type f -name "$id")" ${TEMPLATE_LOG}
rm -rf $q/deferred/* $q/defer/* $q/maildrop/* $q/active/* $q/incoming/*
cp -p /tmp/bench-b0-main.cf $d/main.cf
`);
}

/** Copies of the template into a queue directory under the given ids: deferred (with its defer log) or on hold. */
function seed(queueDirectory, ids, hold) {
  const { uid, gid } = statSync(`${queueDirectory}/hold`);
  const dayAhead = new Date(Date.now() + 86_400_000);
  const made = new Set();
  const dir = (d) => {
    if (made.has(d)) return;
    mkdirSync(d, { recursive: true });
    chownSync(d, uid, gid);
    made.add(d);
  };
  for (const [k, id] of ids.entries()) {
    if (hold(k)) {
      const file = `${queueDirectory}/hold/${id}`;
      copyFileSync(TEMPLATE, file);
      chownSync(file, uid, gid);
      continue;
    }
    dir(`${queueDirectory}/deferred/${id[0]}`);
    dir(`${queueDirectory}/defer/${id[0]}`);
    const file = `${queueDirectory}/deferred/${id[0]}/${id}`;
    copyFileSync(TEMPLATE, file);
    chownSync(file, uid, gid);
    // The next attempt a day ahead, as qmgr leaves a deferred file.
    utimesSync(file, dayAhead, dayAhead);
    const logFile = `${queueDirectory}/defer/${id[0]}/${id}`;
    copyFileSync(TEMPLATE_LOG, logFile);
    chownSync(logFile, uid, gid);
  }
}

/** Empties the queues again (the queue directories themselves stay, with their owners and modes). */
function unseed(queueDirectory) {
  for (const q of ['deferred', 'defer', 'hold', 'maildrop', 'active', 'incoming']) {
    for (const child of readdirSync(`${queueDirectory}/${q}`)) rmSync(`${queueDirectory}/${q}/${child}`, { recursive: true, force: true });
  }
}

/** Short queue ids, hex, spread over the 16 hash directories. */
const hexIds = (n, salt) => Array.from({ length: n }, (_, m) => (Math.imul(m + salt * 1_000_003, 0x9e3779b1) >>> 0).toString(16).toUpperCase().padStart(8, '0') + 'A');

/** The cache of what postfleet read (the queue part of /var/cache/postfleet): emptied before a cold run. */
const CACHE = '/var/cache/postfleet/queue';
const COLD = `rm -rf ${CACHE}`;

/** postfleet's messages of an instance, without `instance`, and postqueue -j's, both by queue id; `cold`: the cache emptied first. */
function compareWithPostqueue(PF, name, scratch, cold = false) {
  const pfFile = path.join(scratch, 'pf.json');
  const pqFile = path.join(scratch, 'pq.jsonl');
  if (cold) sh(COLD);
  sh(`${PF.map((a) => `'${a}'`).join(' ')} queue list -i ${name} --json > ${pfFile}`);
  sh(`postqueue -c /etc/${name} -j 2>/dev/null > ${pqFile}`);
  const byId = (a, b) => (a.queue_id < b.queue_id ? -1 : 1);
  const ours = JSON.parse(readFileSync(pfFile, 'utf8')).messages.map(({ instance: _i, ...m }) => m).sort(byId);
  const theirs = readFileSync(pqFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).sort(byId);
  rmSync(pfFile);
  rmSync(pqFile);
  return { messages: theirs.length, identical: isDeepStrictEqual(ours, theirs) };
}

export async function queueReadPhase({ cfg, PF, M, mkfleet, requireStopped, problem, backdate, settle, scratch }) {
  const n = cfg.queueN;
  const per = cfg.queuePer;
  const big = cfg.queueBig;
  mkfleet(n, false);
  await requireStopped('queue-read');
  log('queue-read: a real deferred message and its defer log from postfix-b0');
  makeTemplate();
  log(`queue-read: seeding ${n * per} messages in ${n} instances`);
  for (let k = 0; k < n; k++) seed(`/var/spool/postfix-b${k}`, hexIds(per, k), (m) => m % 2 === 1);
  backdate();
  await settle();

  const result = { n, messages: n * per, big, verify: {} };
  const summary = JSON.parse(capture([...PF, 'queue', 'summary', '--json']).stdout);
  result.verify.summaryTotal = summary.total.messages;
  if (summary.total.messages !== n * per) problem(`postfleet queue summary counted ${summary.total.messages} messages, ${n * per} were seeded`);
  result.verify.fleetSamples = [0, Math.floor(n / 2), n - 1].map((k) => ({ instance: `postfix-b${k}`, ...compareWithPostqueue(PF, `postfix-b${k}`, scratch) }));
  for (const s of result.verify.fleetSamples) if (!s.identical || s.messages !== per) problem(`${s.instance}: postfleet queue list differs from postqueue -j (${s.messages} messages)`);

  // postqueue -j once per instance, in a script file (one argument vector for either timing tool).
  const loopScript = path.join(scratch, 'postqueue-loop.sh');
  writeFileSync(loopScript, `for k in $(seq 0 ${n - 1}); do postqueue -c /etc/postfix-b$k -j 2>/dev/null; done\n`);
  const fast = { runs: cfg.runsFast, warmup: cfg.warmFast };
  const cold = { ...fast, prepare: COLD };
  result.fleet = {
    postqueueLoop: await M(['bash', loopScript], { runs: cfg.runsQueueLoop, warmup: 0 }),
    summaryCold: await M([...PF, 'queue', 'summary'], cold),
    listCold: await M([...PF, 'queue', 'list', '--json'], cold),
    listTableCold: await M([...PF, 'queue', 'list'], cold),
    summary: await M([...PF, 'queue', 'summary'], fast),
    list: await M([...PF, 'queue', 'list', '--json'], fast),
    listTable: await M([...PF, 'queue', 'list'], fast),
  };
  for (let k = 0; k < n; k++) unseed(`/var/spool/postfix-b${k}`);

  log(`queue-read: seeding ${big} messages in postfix-b0`);
  const q0 = '/var/spool/postfix-b0';
  seed(q0, hexIds(big, 7), () => false);
  // The files just written are less than 2 s old: postfleet would not keep them yet.
  await settle();
  result.verify.big = compareWithPostqueue(PF, 'postfix-b0', scratch, true);
  result.verify.bigWarm = compareWithPostqueue(PF, 'postfix-b0', scratch);
  for (const [key, v] of [['cold', result.verify.big], ['warm', result.verify.bigWarm]]) {
    if (!v.identical || v.messages !== big) problem(`postfix-b0 (${key}): postfleet queue list of ${big} messages differs from postqueue -j (${v.messages} messages)`);
  }
  const slow = { runs: cfg.runsSlow, warmup: cfg.warmSlow };
  const slowCold = { ...slow, prepare: COLD };
  const list = [...PF, 'queue', 'list', '-i', 'b0', '--json'];
  const listLines = [...PF, 'queue', 'list', '-i', 'b0', '--json-lines'];
  const summaryOne = [...PF, 'queue', 'summary', '-i', 'b0'];
  result.one = {
    postqueue: await M(['postqueue', '-c', '/etc/postfix-b0', '-j'], slow),
    listCold: await M(list, slowCold),
    listLinesCold: await M(listLines, slowCold),
    summaryCold: await M(summaryOne, slowCold),
    // Warm: the warm-up run leaves the cache filled.
    list: await M(list, { ...slow, warmup: Math.max(1, slow.warmup) }),
    listLines: await M(listLines, { ...slow, warmup: Math.max(1, slow.warmup) }),
    summary: await M(summaryOne, { ...slow, warmup: Math.max(1, slow.warmup) }),
  };
  const rss = (args, coldRun) => {
    if (coldRun) sh(COLD);
    else sh(`${PF.map((a) => `'${a}'`).join(' ')} ${args} >/dev/null`);
    const r = sh(`/usr/bin/time -f %M ${PF.map((a) => `'${a}'`).join(' ')} ${args} 2>&1 >/dev/null | tail -n 1`);
    return Number(r.stdout.trim()) * 1024;
  };
  result.one.peakRss = {
    listCold: rss('queue list -i b0 --json', true),
    listLinesCold: rss('queue list -i b0 --json-lines', true),
    summaryCold: rss('queue summary -i b0', true),
    list: rss('queue list -i b0 --json', false),
    listLines: rss('queue list -i b0 --json-lines', false),
    summary: rss('queue summary -i b0', false),
  };
  result.one.peakRssPostqueue = Number(sh(`/usr/bin/time -f %M postqueue -c /etc/postfix-b0 -j 2>&1 >/dev/null | tail -n 1`).stdout.trim()) * 1024;
  result.one.cacheBytes = Number(sh(`du -sb ${CACHE} | cut -f1`).stdout.trim());
  unseed(q0);
  return result;
}

export function renderQueueReadSection(q, { fmt, cell, fx }) {
  const out = [];
  const p = (s = '') => out.push(s);
  const mb = (b) => `${(b / 1048576).toFixed(0)} MB`;
  p('## Queue summary and list');
  p();
  p(`Copies of one real deferred message and its defer log (made by Postfix). Checked before timing: postfleet's`);
  p(`messages equal \`postqueue -j\`'s field for field (${q.verify.fleetSamples.map((s) => `${s.instance} ${s.identical ? 'identical' : '**differs**'}`).join(', ')}; all ${q.big} of the large queue ${q.verify.big.identical ? 'identical' : '**differ**'} cold, ${q.verify.bigWarm?.identical ? 'identical' : '**differ**'} warm).`);
  p();
  p('postfleet keeps what it read in a cache (`/var/cache/postfleet/queue`); `postqueue -j` has none. **cold**: the cache emptied');
  p('before each run (every file read, the cache written); **warm**: the cache left by the run before, the queue unchanged');
  p('(every file and defer log stat\'ed, none read). The page cache of the operating system is warm for all.');
  p();
  p(`${q.n} instances holding ${q.messages} messages (half deferred with defer logs, half on hold), masters stopped (\`postqueue -j\` runs showq itself):`);
  p();
  p('| command | cold | vs the postqueue loop | warm | vs the postqueue loop |');
  p('|---|---|---:|---|---:|');
  const f = q.fleet;
  p(`| \`postqueue -j\` once per instance, all ${q.n} (no cache) | ${cell(f.postqueueLoop)} | 1x | | |`);
  for (const [key, what] of [['summary', '`postfleet queue summary`'], ['list', '`postfleet queue list --json`'], ['listTable', '`postfleet queue list` (table)']]) {
    const c = f[`${key}Cold`];
    const w = f[key];
    p(`| ${what} | ${c ? cell(c) : ''} | ${c ? fx(f.postqueueLoop.median / c.median) : ''} | ${cell(w)} | ${fx(f.postqueueLoop.median / w.median)} |`);
  }
  p();
  const o = q.one;
  p(`One instance holding ${q.big} deferred messages, each with its defer log (the cache: ${o.cacheBytes ? mb(o.cacheBytes) : '?'}):`);
  p();
  p('| command | cold | vs postqueue -j | peak RSS | warm | vs postqueue -j | peak RSS |');
  p('|---|---|---:|---:|---|---:|---:|');
  p(`| \`postqueue -j\` (no cache) | ${cell(o.postqueue)} | 1x | ${mb(o.peakRssPostqueue)} | | | |`);
  for (const [key, what] of [['list', '`postfleet queue list -i b0 --json`'], ['listLines', '`postfleet queue list -i b0 --json-lines`'], ['summary', '`postfleet queue summary -i b0`']]) {
    const c = o[`${key}Cold`];
    const w = o[key];
    const rc = o.peakRss[`${key}Cold`];
    p(`| ${what} | ${c ? cell(c) : ''} | ${c ? fx(o.postqueue.median / c.median) : ''} | ${rc ? mb(rc) : ''} | ${cell(w)} | ${fx(o.postqueue.median / w.median)} | ${mb(o.peakRss[key])} |`);
  }
  p();
  void fmt;
  return out;
}
