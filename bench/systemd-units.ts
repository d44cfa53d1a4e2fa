/**
 * `systemctl start postfix` and `systemctl stop postfix` of a fleet of enabled instances,
 * under a real systemd (test/helpers/booted.ts: this machine's OS booted by systemd-nspawn on a
 * private overlay), side by side in one booted system: first under Debian's postfix@ units
 * (Debian's generator, postmulti), then, after installing the package, under postfleet's
 * postfleet@ units. Same fleet, same boot, rounds interleaved per manager is not possible (the
 * package replaces Debian's units), so each manager's rounds run back to back.
 *
 *   npm run build && node scripts/deb.mjs --out bench/work && \
 *     npx vite-node bench/systemd-units.ts -- [--instances=50] [--rounds=3] [--deb=FILE] [--out=FILE]
 *
 * After every start: the exit status, how many masters run and in which units, which units
 * failed; after every stop: that no master runs. A stop is timed until the last master is gone
 * (systemctl stop postfix returns before its instances are stopped, under either manager). Writes a JSON record (--out, default
 * bench/work/systemd-units.json) and prints a table for bench/RESULTS.md.
 */
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BootedHost, IO_INSIDE } from '../test/helpers/booted.js';

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const N = Number(arg('instances', '50'));
const ROUNDS = Number(arg('rounds', '3'));
const ROOT = path.resolve(import.meta.dirname, '..');
const debFile = arg('deb', path.join(ROOT, 'bench', 'work', readdirSync(path.join(ROOT, 'bench', 'work')).find((f) => f.endsWith('.deb')) ?? 'postfleet.deb'));
const out = arg('out', path.join(ROOT, 'bench', 'work', 'systemd-units.json'));

interface Round {
  readonly manager: 'debian' | 'postfleet';
  readonly round: number;
  readonly startMs: number;
  readonly startExit: number;
  readonly running: number;
  readonly inOwnUnits: number;
  readonly failed: readonly string[];
  readonly stopMs: number;
  readonly stopExit: number;
  readonly leftRunning: number;
}

async function timed(host: BootedHost, command: string): Promise<{ ms: number; exit: number }> {
  // Timed inside, by the booted system's own clock: nsenter's start-up is not counted.
  const r = await host.run(`s=$(date +%s%N); ( ${command} ) >/dev/null 2>&1; e=$?; echo "$e $(( ($(date +%s%N) - s) / 1000000 ))"`, { timeoutMs: 900_000 });
  const [exit = '1', ms = 'NaN'] = r.stdout.trim().split(' ');
  return { ms: Number(ms), exit: Number(exit) };
}

/** Masters running and how many of them in the unit family `prefix`. */
async function census(host: BootedHost, prefix: string): Promise<{ running: number; inOwnUnits: number; failed: string[] }> {
  const r = await host.runOk(String.raw`
n=0; own=0
for p in $(pgrep -x master); do n=$((n+1)); grep -q "^[0-9]*:name=systemd:.*/${prefix}@" /proc/$p/cgroup && own=$((own+1)); done
echo "$n $own"
systemctl list-units --failed --plain --no-legend 'postfix*' 'postfleet*' | awk '{print $1}'`);
  const [counts = '', ...failed] = r.stdout.trim().split('\n');
  const [running = '0', inOwnUnits = '0'] = counts.split(' ');
  return { running: Number(running), inOwnUnits: Number(inOwnUnits), failed: failed.filter(Boolean) };
}

async function rounds(host: BootedHost, manager: Round['manager']): Promise<Round[]> {
  const done: Round[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    await host.runOk('systemctl reset-failed; sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true');
    const start = await timed(host, 'systemctl start postfix');
    const seen = await census(host, manager === 'debian' ? 'postfix' : 'postfleet');
    // systemctl returns once postfix.service is stopped: the instances (ordered Before= it, so
    // stopped after it) are still stopping then, under either manager. The time is until the
    // last master is gone.
    const stop = await timed(host, 'systemctl stop postfix && for k in $(seq 6000); do pgrep -x master >/dev/null || exit 0; sleep 0.02; done; exit 1');
    const left = await census(host, manager === 'debian' ? 'postfix' : 'postfleet');
    const r: Round = { manager, round, startMs: start.ms, startExit: start.exit, ...seen, stopMs: stop.ms, stopExit: stop.exit, leftRunning: left.running };
    console.log(JSON.stringify(r));
    done.push(r);
  }
  return done;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const host = await BootedHost.create();
try {
  await host.boot();
  copyFileSync(debFile, path.join(host.io, 'postfleet.deb'));
  copyFileSync(path.join(ROOT, 'bench', 'mkfleet.sh'), path.join(host.io, 'mkfleet.sh'));
  // A fleet of N enabled secondaries behind the primary, run the Debian way.
  await host.runOk(`set -e; postmulti -e init; bash ${IO_INSIDE}/mkfleet.sh ${N} yes >/dev/null; touch -d '-1 minute' /etc/postfix*/main.cf; systemctl daemon-reload`, { timeoutMs: 900_000 });
  const load = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const before = load();
  const debian = await rounds(host, 'debian');
  await host.runOk(`POSTFLEET_ADOPT=no dpkg -i ${IO_INSIDE}/postfleet.deb >/dev/null && systemctl daemon-reload`);
  const postfleet = await rounds(host, 'postfleet');
  const record = { instances: N + 1, rounds: ROUNDS, cores: os.availableParallelism(), load: { before, after: load() }, debian, postfleet };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
  const row = (rs: readonly Round[], name: string): string =>
    `| ${name} | ${(median(rs.map((r) => r.startMs)) / 1000).toFixed(1)} s [${rs.map((r) => (r.startMs / 1000).toFixed(1)).join(', ')}] | ${(median(rs.map((r) => r.stopMs)) / 1000).toFixed(1)} s [${rs.map((r) => (r.stopMs / 1000).toFixed(1)).join(', ')}] | ${rs.map((r) => `${r.running}/${N + 1}`).join(', ')} | ${rs.map((r) => r.failed.length).join(', ')} |`;
  console.log(`\n${N + 1} enabled instances, ${os.availableParallelism()} cores, load before ${before}, after ${record.load.after}\n`);
  console.log('| units | systemctl start postfix (median [rounds]) | systemctl stop postfix | masters running after start | failed units |');
  console.log('|---|---|---|---|---|');
  console.log(row(debian, "Debian's postfix@"));
  console.log(row(postfleet, "postfleet's postfleet@"));
  const speedup = median(debian.map((r) => r.startMs)) / median(postfleet.map((r) => r.startMs));
  console.log(`\nstart: postfleet's units ${speedup.toFixed(1)}x faster; stop: ${(median(debian.map((r) => r.stopMs)) / median(postfleet.map((r) => r.stopMs))).toFixed(1)}x`);
} finally {
  await host.dispose();
}
