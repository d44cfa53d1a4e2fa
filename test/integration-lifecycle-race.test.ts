/**
 * Race-free provisioning: concurrent postfleet creates (modern and compat), and creates
 * concurrent with an administrator's `postconf -e`, all end up registered and complete,
 * with no debris in Postfix's directories. The real postmulti, for contrast, loses
 * instances in the same race (logged, not asserted).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireIntegration, Sandbox, type RunResult } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, k) => k + 1);

/** Exit statuses printed as "rc NAME STATUS" lines by the race scripts. */
function statuses(stdout: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const r = /^rc (\S+) (\d+)$/.exec(line);
    if (r) m.set(r[1]!, Number(r[2]));
  }
  return m;
}

describe.runIf(requireIntegration())('life-cycle: concurrent creates', () => {
  let sb: Sandbox;
  let ref: Sandbox;
  /** postmulti's race, started first and left running: it mostly sleeps (Postfix's settle pauses). */
  let postmultiRace: Promise<RunResult>;
  beforeAll(async () => {
    [sb, ref] = await Promise.all([Sandbox.create(), Sandbox.create()]);
    await Promise.all([sb.runOk('postfleet init'), ref.runOk('postmulti -e init')]);
    await Promise.all([sb.backdate('/etc/postfix/main.cf'), ref.backdate('/etc/postfix/main.cf')]);
    const script = range(20)
      .map((k) => `(postmulti -I postfix-p${k} -e create >/dev/null 2>&1; echo "rc p${k} $?") &`)
      .join('\n');
    postmultiRace = ref.runOk(`${script}\nwait`);
    postmultiRace.catch(() => undefined);
  });
  afterAll(async () => {
    await Promise.all([sb?.dispose(), ref?.dispose()]);
  });

  /** The instance list, and what is on disk, checked for completeness and debris. */
  async function expectFleet(names: readonly string[]): Promise<void> {
    const listed = (await sb.runOk('postconf -h multi_instance_directories')).stdout.trim().split(/\s+/).filter(Boolean);
    expect([...listed].sort()).toEqual(names.map((n) => `/etc/${n}`).sort());
    expect(new Set(listed).size).toBe(listed.length);
    // complete: main.cf and master.cf, named as created; nothing half-made, nothing unlisted
    const r = await sb.runOk(String.raw`shopt -s nullglob
for d in /etc/postfix-*; do printf '%s %s %s %s\n' "$d" "$([ -f $d/main.cf ] && echo main)" "$([ -f $d/master.cf ] && echo master)" "$(postconf -c $d -h multi_instance_name 2>&1)"; done
echo dirs /var/spool/postfix-* /var/lib/postfix-*`);
    const lines = r.stdout.trim().split('\n');
    const dirs = lines.pop()!.split(' ').slice(1);
    expect(lines.sort()).toEqual(names.map((n) => `/etc/${n} main master ${n}`).sort());
    expect(dirs.sort()).toEqual(names.flatMap((n) => [`/var/spool/${n}`, `/var/lib/${n}`]).sort());
    // no temporary or lock files left anywhere in Postfix's directories
    const debris = await sb.runOk(`find /etc/postfix* /var/spool/postfix* /var/lib/postfix* \\( -name '*.tmp' -o -name '.postfleet*' -o -name '.tmp' \\) -print`);
    expect(debris.stdout).toBe('');
    const list = await sb.run('postfleet -l');
    expect(list.stderr).toBe('');
    expect(list.stdout.trim().split('\n')).toHaveLength(names.length + 1);
  }

  it('20 modern and 20 compat creates at once: all 40 registered and complete', { timeout: budget(40 + 6) }, async () => {
    const script = range(20)
      .map((k) => `(postfleet create postfix-r${k} --group race >/dev/null 2>&1; echo "rc r${k} $?") &\n(postfleet -I postfix-s${k} -G race -e create 2>&1; echo "rc s${k} $?") &`)
      .join('\n');
    const r = await sb.runOk(`${script}\nwait`);
    const rc = statuses(r.stdout);
    expect(rc.size, r.stdout).toBe(40);
    for (const [name, status] of rc) expect(status, `${name}: ${r.stdout}`).toBe(0);
    const names = range(20).flatMap((k) => [`postfix-r${k}`, `postfix-s${k}`]);
    await sb.backdate('/etc/postfix*/main.cf');
    await expectFleet(names);
    // what the creates made is a working instance
    const check = await sb.run('postfix -c /etc/postfix-r7 check && postfix -c /etc/postfix-s13 check', { tty: true });
    expect(check.exitCode, check.stdout).toBe(0);
  });

  it('creates racing with an administrator’s postconf -e: every setting and every instance survives', { timeout: budget(10 + 10) }, async () => {
    const before = range(20).flatMap((k) => [`postfix-r${k}`, `postfix-s${k}`]);
    // two loops of postconf -e spread over the time the creates take
    const admin = (tag: string): string =>
      `(for k in $(seq 1 25); do postconf -e "admin_${tag}_$k = value $k" 2>/dev/null || echo "postconf failed $k"; sleep 0.04; done; echo "rc admin${tag} 0") &`;
    const creates = range(10).map((k) => `(postfleet create postfix-m${k} >/dev/null 2>&1; echo "rc m${k} $?") &`);
    const r = await sb.runOk([admin('a'), ...creates, admin('b'), 'wait'].join('\n'));
    expect(r.stdout).not.toContain('postconf failed');
    const rc = statuses(r.stdout);
    expect(rc.size, r.stdout).toBe(12);
    for (const [name, status] of rc) expect(status, `${name}: ${r.stdout}`).toBe(0);

    await sb.backdate('/etc/postfix*/main.cf');
    const settings = (await sb.runOk('grep ^admin_ /etc/postfix/main.cf')).stdout.trim().split('\n');
    expect(settings.sort()).toEqual(['a', 'b'].flatMap((t) => range(25).map((k) => `admin_${t}_${k} = value ${k}`)).sort());
    await expectFleet([...before, ...range(10).map((k) => `postfix-m${k}`)]);
  });

  it('concurrent creates of one name: one wins, the others are refused naming it', { timeout: budget(8) }, async () => {
    const script = range(6)
      .map((k) => `(out=$(postfleet create postfix-same 2>&1 >/dev/null); echo "rc t${k} $?"; echo "err t${k} $out") &`)
      .join('\n');
    const r = await sb.runOk(`${script}\nwait`);
    const rc = statuses(r.stdout);
    expect(rc.size, r.stdout).toBe(6);
    expect([...rc.values()].sort(), r.stdout).toEqual([0, 1, 1, 1, 1, 1]);
    const errors = r.stdout.split('\n').filter((l) => /^err t\d+ ./.test(l));
    expect(errors).toHaveLength(5);
    for (const e of errors) expect(e).toMatch(/^err t\d+ postfleet: new config_directory=\/etc\/postfix-same is already in use by instance \/etc\/postfix-same, config_directory=\/etc\/postfix-same$/);
    await sb.backdate('/etc/postfix*/main.cf');
    const listed = (await sb.runOk('postconf -h multi_instance_directories')).stdout.trim().split(/\s+/);
    expect(listed.filter((d) => d === '/etc/postfix-same')).toHaveLength(1);
    expect((await sb.runOk('ls -A /etc/postfix-same')).stdout).toBe('main.cf\nmaster.cf\n');
  });

  // (postmulti's race started in beforeAll and has been running since)
  it('for contrast: 20 concurrent postmulti -e create', { timeout: budget(20) }, async () => {
    const r = await postmultiRace;
    await ref.backdate('/etc/postfix*/main.cf');
    const listed = (await ref.runOk('postconf -h multi_instance_directories')).stdout.trim().split(/\s+/).filter(Boolean);
    const made = (await ref.runOk('shopt -s nullglob; for d in /etc/postfix-*; do [ -f $d/master.cf ] && echo $d; done; true')).stdout.trim().split('\n').filter(Boolean);
    const ok = [...statuses(r.stdout).values()].filter((s) => s === 0).length;
    console.log(
      `postmulti race: ${ok}/20 creates exited 0, ${made.length} instances made, ${new Set(listed).size} registered in multi_instance_directories` +
        ` (${made.length - new Set(listed).size} made but not registered)`,
    );
    expect(made.length).toBeGreaterThan(0);
  });
});
