// The queue phase: `postfleet metrics` (native queue reading: counts and oldest arrival of
// every queue of every instance, plus the fleet check) on N instances holding M queued
// messages, side by side with the only alternative a user has, `postqueue -j` once per
// instance. postqueue needs each instance's master running (it asks showq): K masters are
// started (no inet listener: the instances keep create's master_service_disable = inet), the
// loop over them is timed, and its per-instance cost is reported with the extrapolation to N
// marked as such.
import { chownSync, copyFileSync, mkdirSync, statSync, utimesSync } from 'node:fs';
import { capture, log, sh } from './util.js';

/**
 * One real queue file (made by sendmail in postfix-b0 while it is stopped), copied so that
 * every instance holds `per` messages, half deferred (in their hash directory), half on hold.
 */
export function seedQueues(n, per) {
  sh(String.raw`
set -eu
q0=/var/spool/postfix-b0
postconf -c /etc/postfix-b0 -e 'authorized_submit_users = static:anyone'
rm -f $q0/maildrop/*
printf 'Subject: bench\n\nbody\n' | MAIL_CONFIG=/etc/postfix-b0 sendmail -f a@bench.test b@bench.test
mv "$(ls $q0/maildrop/* | head -n 1)" /tmp/bench-queue-file
`);
  // Copies made here rather than by a shell loop: 10 000 files in a second, not minutes.
  const { uid, gid } = statSync('/var/spool/postfix-b0/hold');
  const dayAhead = new Date(Date.now() + 86_400_000);
  for (let k = 0; k < n; k++) {
    const q = `/var/spool/postfix-b${k}`;
    mkdirSync(`${q}/deferred/B`, { recursive: true });
    chownSync(`${q}/deferred/B`, uid, gid);
    for (let m = 0; m < per; m++) {
      // Valid short queue IDs (hex), deferred ones in their hash directory with the next
      // attempt a day ahead (as qmgr leaves them), so that running masters leave them be.
      const id = `B${m.toString(16).toUpperCase().padStart(5, '0')}`;
      const file = m % 2 ? `${q}/hold/${id}` : `${q}/deferred/B/${id}`;
      copyFileSync('/tmp/bench-queue-file', file);
      chownSync(file, uid, gid);
      if (!(m % 2)) utimesSync(file, dayAhead, dayAhead);
    }
  }
}

export function unseedQueues(n) {
  sh(String.raw`for ((k = 0; k < ${n}; k++)); do q=/var/spool/postfix-b$k; rm -rf $q/deferred/* $q/hold/* $q/maildrop/*; done`, { allowFail: true });
}

export async function queuePhase({ cfg, PF, M, mkfleet, requireStopped, problem, backdate, settle }) {
  const n = cfg.queueN;
  const per = cfg.queuePer;
  const k = cfg.postqueueK;
  mkfleet(n, false);
  await requireStopped('queue');
  log(`queue: seeding ${n * per} messages in ${n} instances`);
  seedQueues(n, per);
  backdate();
  await settle();

  // Verify: the metrics add up to what was seeded.
  const out = capture([...PF, 'metrics']);
  let seeded = 0;
  for (const m of out.stdout.matchAll(/^postfleet_queue_messages\{postfix_instance="postfix-b\d+"[^}]*\} (\d+)$/gm)) seeded += Number(m[1]);
  const verify = { exit: out.code, messagesSeen: seeded, messagesSeeded: n * per };
  if (seeded !== n * per) problem(`postfleet metrics counted ${seeded} messages, ${n * per} were seeded`);

  const result = {
    n,
    messages: n * per,
    verify,
    metrics: await M([...PF, 'metrics'], { runs: cfg.runsFast, warmup: cfg.warmFast, ignoreFailure: true }),
    status: await M([...PF, 'status'], { runs: cfg.runsFast, warmup: cfg.warmFast, ignoreFailure: true }),
  };

  // postqueue -j per instance, on K running instances.
  const dirs = Array.from({ length: k }, (_, i) => `/etc/postfix-b${i}`);
  sh(dirs.map((d) => `postfix -c ${d} start >/dev/null 2>&1`).join('\n'));
  const loop = ['bash', '-c', `for d in ${dirs.join(' ')}; do postqueue -c "$d" -j >/dev/null; done`];
  const check = capture(['bash', '-c', `postqueue -c ${dirs[0]} -j | wc -l`]);
  const pqLines = Number(check.stdout.trim());
  if (pqLines !== per) problem(`postqueue -j on postfix-b0 listed ${pqLines} messages, ${per} were seeded`);
  const pq = await M(loop, { runs: cfg.runsSlow, warmup: cfg.warmSlow, ignoreFailure: true });
  sh(dirs.map((d) => `postfix -c ${d} stop >/dev/null 2>&1`).join('\n'), { allowFail: true });
  result.postqueue = {
    k,
    linesOnB0: pqLines,
    loop: pq,
    perInstanceSeconds: pq.median / k,
    extrapolatedSeconds: (pq.median / k) * n,
  };
  unseedQueues(n);
  return result;
}

export function renderQueueSection(q, { fmt, cell, fx }) {
  const out = [];
  const p = (s = '') => out.push(s);
  p('## Queue metrics');
  p();
  p(`${q.n} instances holding ${q.messages} messages (half deferred in their hash directory, half on hold), all masters`);
  p(`stopped for postfleet. postfleet counted ${q.verify.messagesSeen} of them.`);
  p();
  p('| command | time |');
  p('|---|---|');
  p(`| \`postfleet metrics\` (counts and oldest arrival of every queue, plus the fleet check) | ${cell(q.metrics)} |`);
  p(`| \`postfleet status\` (counts only) | ${cell(q.status)} |`);
  if (q.postqueue) {
    const pq = q.postqueue;
    p(`| \`postqueue -j\` once per instance, ${pq.k} running instances | ${cell(pq.loop)} |`);
    p(`| the same per instance | ${fmt(pq.perInstanceSeconds)} |`);
    p(`| **extrapolated** to ${q.n} instances (per-instance cost × ${q.n}; not measured: it needs ${q.n} running masters) | ${fmt(pq.extrapolatedSeconds)} = ${fx(pq.extrapolatedSeconds / q.metrics.median)} \`postfleet metrics\` |`);
  }
  p();
  return out;
}
