/**
 * Crash safety: postfleet create and destroy killed with SIGKILL at random moments. After
 * every kill the primary main.cf is complete and parseable and lists only complete
 * instances (a half-made or half-removed instance is simply not listed); a following
 * create of the same name succeeds (importing what is complete, completing what is not) and
 * leaves no debris.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireIntegration, Sandbox } from './helpers/sandbox.js';
import { budget, seededRandom } from './helpers/timing.js';

const ROUNDS = 15;

describe.runIf(requireIntegration())('life-cycle: kill -9 at random points', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk('postfleet init && postfleet create postfix-keep --group stable');
  });
  afterAll(async () => {
    await sb?.dispose();
  });

  /** How long `postfleet ARGS` takes to run to completion here, in ms (timed inside the sandbox). */
  async function timedRun(args: string): Promise<number> {
    const r = await sb.runOk(`s=$(date +%s%N); postfleet ${args} >/dev/null || exit 1; e=$(date +%s%N); echo $(( (e - s) / 1000000 ))`);
    return Number(r.stdout.trim());
  }

  /** Runs `postfleet ARGS`, SIGKILLs it after `delayMs` unless it is done; its exit status. */
  async function killedRun(args: string, delayMs: number): Promise<number> {
    const r = await sb.runOk(`postfleet ${args} >/dev/null 2>&1 & pid=$!; sleep ${(delayMs / 1000).toFixed(3)}; kill -9 $pid 2>/dev/null; wait $pid; echo $?`);
    return Number(r.stdout.trim());
  }

  /**
   * The invariants after any kill; returns whether postfix-c is listed. Back-dates main.cf
   * files so that postconf does not pause.
   */
  async function expectConsistent(when: string): Promise<boolean> {
    const r = await sb.runOk(String.raw`shopt -s nullglob
touch -d '-1 minute' /etc/postfix*/main.cf
err=$(postconf -c /etc/postfix -n 2>&1 >/dev/null); echo "postconf $? $(printf %s "$err" | wc -c)"
echo "wrapper $(postconf -h multi_instance_wrapper | cut -c1-1)$(postconf -h multi_instance_enable) $(postconf -h myhostname)"
for d in $(postconf -h multi_instance_directories); do echo "listed $d $([ -f $d/main.cf ] && echo main)+$([ -f $d/master.cf ] && echo master)"; done
err=$(postfleet -l 2>&1 >/dev/null); echo "list $? $(printf %s "$err" | wc -c)"`);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0], `${when}: postconf -n of the primary`).toBe('postconf 0 0');
    expect(lines[1], `${when}: the primary main.cf is whole`).toBe('wrapper /yes sandbox.postfleet.test');
    const listed = lines.filter((l) => l.startsWith('listed '));
    for (const l of listed) expect(l, `${when}: a listed instance is complete`).toMatch(/ main\+master$/);
    expect(listed.map((l) => l.split(' ')[1]), when).toContain('/etc/postfix-keep');
    expect(lines.at(-1), `${when}: postfleet -l`).toBe('list 0 0');
    return listed.some((l) => l.startsWith('listed /etc/postfix-c '));
  }

  /** No temporary file of postfleet's, and no main.cf.tmp, once a command has completed. */
  async function expectNoDebris(when: string): Promise<void> {
    const r = await sb.run(`find /etc/postfix /etc/postfix-c /etc/postfix-keep -maxdepth 1 \\( -name '.postfleet*' -o -name 'main.cf.tmp' \\) -print 2>/dev/null; true`);
    expect(r.stdout, when).toBe('');
  }

  /** The file system calls that change names (strace), as "call path[ -> path]" lines. */
  async function traced(args: string): Promise<string[]> {
    const r = await sb.run(`strace -f -qq -e trace=rename,renameat,renameat2,rmdir,unlink,unlinkat,mkdir,mkdirat postfleet ${args} 2>&1 >/dev/null`);
    expect(r.exitCode, r.stdout).toBe(0);
    const calls: string[] = [];
    for (const line of r.stdout.split('\n')) {
      const m = /\b(rename|renameat2?|rmdir|unlink|unlinkat|mkdir|mkdirat)\((.*)\) += (-?\d+)/.exec(line);
      if (!m || m[3] !== '0') continue;
      const paths = [...m[2]!.matchAll(/"([^"]*)"/g)].map((p) => p[1]);
      calls.push(`${m[1]!.replace(/at2?$/, '')} ${paths.join(' -> ')}`);
    }
    return calls;
  }

  it('orders its writes so that a crash at any point is harmless', { timeout: budget(4) }, async () => {
    // create: the instance's files first, master.cf after main.cf, the primary main.cf last
    const create = await traced('create postfix-o');
    const renames = create.filter((c) => c.startsWith('rename '));
    expect(renames).toEqual([
      expect.stringMatching(/^rename \/etc\/postfix-o\/\.postfleet-\d+-\d+\.tmp -> \/etc\/postfix-o\/main\.cf$/),
      expect.stringMatching(/^rename \/etc\/postfix-o\/\.postfleet-\d+-\d+\.tmp -> \/etc\/postfix-o\/master\.cf$/),
      'rename /etc/postfix/main.cf.tmp -> /etc/postfix/main.cf',
    ]);
    expect(create.findIndex((c) => c === 'mkdir /var/spool/postfix-o/maildrop')).toBeLessThan(create.indexOf('rename /etc/postfix/main.cf.tmp -> /etc/postfix/main.cf'));

    // destroy: the primary main.cf first (the instance leaves the list), then the files
    const destroy = await traced('destroy o');
    const primary = destroy.indexOf('rename /etc/postfix/main.cf.tmp -> /etc/postfix/main.cf');
    expect(primary, destroy.join('\n')).toBeGreaterThanOrEqual(0);
    const removals = destroy.filter((c) => /^(rmdir|unlink) \/(etc|var\/spool|var\/lib)\/postfix-o/.test(c));
    expect(removals).toContain('unlink /etc/postfix-o/master.cf');
    expect(removals).toContain('rmdir /var/spool/postfix-o/maildrop');
    for (const r of removals) expect(destroy.indexOf(r), `${r} after the primary main.cf`).toBeGreaterThan(primary);
    expect(await expectConsistent('after the traced create and destroy')).toBe(false);
  });

  it('completes what a killed create left: its temporary file, a main.cf without master.cf, no queue', { timeout: budget(4) }, async () => {
    await sb.runOk('mkdir -p /etc/postfix-h /var/spool/postfix-h && echo partial > /etc/postfix-h/main.cf && echo junk > /etc/postfix-h/.postfleet-4242-1700000000000.tmp');
    const r = await sb.run('postfleet create postfix-h');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('  remove /etc/postfix-h/.postfleet-4242-1700000000000.tmp\n');
    expect(r.stdout).toContain('  write /etc/postfix-h/main.cf');
    expect((await sb.runOk('ls -A /etc/postfix-h /var/spool/postfix-h | tr "\\n" " "')).stdout).toBe(
      '/etc/postfix-h: main.cf master.cf  /var/spool/postfix-h: active bounce corrupt defer deferred flush hold incoming maildrop pid private public saved trace ',
    );
    expect(await sb.readFile('/etc/postfix-h/main.cf')).toMatch(/^multi_instance_name = postfix-h$/m);
    expect(await expectConsistent('after completing a half-made instance')).toBe(false);
    expect((await sb.runOk('postconf -h multi_instance_directories')).stdout).toBe('/etc/postfix-keep /etc/postfix-h\n');
    expect((await sb.run('postfleet destroy h')).exitCode).toBe(0);
  });

  // A round is up to eight runs of postfleet (killed or not, and the listings that check).
  it(`${ROUNDS} rounds of create and destroy, each killed at a random moment`, { timeout: budget(8 * ROUNDS + 4) }, async () => {
    const log: string[] = [];
    let listed = await expectConsistent('start');
    // Kill moments spread over a whole run, however long a run takes on this machine (most
    // of it is Node starting up when the machine is busy); chosen by a seeded generator.
    const createMs = await timedRun('create postfix-c --group crash');
    const destroyMs = await timedRun('destroy c');
    const random = seededRandom();
    log.push(`uninterrupted: create ${createMs} ms, destroy ${destroyMs} ms; seed ${random.seed}`);
    expect(await expectConsistent('after an uninterrupted create and destroy')).toBe(false);
    for (let round = 1; round <= ROUNDS; round++) {
      // from a state where postfix-c is not listed (its files may be anything a kill left)
      if (listed) {
        const r = await sb.run('postfleet destroy c');
        expect(r.exitCode, `round ${round}: destroy to start over: ${r.stderr}`).toBe(0);
        listed = await expectConsistent(`round ${round}: after a full destroy`);
        expect(listed).toBe(false);
      }

      // create, killed (compat or modern)
      const createArgs = round % 2 === 0 ? 'create postfix-c --group crash' : '-I postfix-c -G crash -e create';
      const createDelay = random.below(createMs + 1);
      const createStatus = await killedRun(createArgs, createDelay);
      listed = await expectConsistent(`round ${round}: create killed after ${createDelay} ms (exit ${createStatus})`);
      const createOutcome = createStatus === 0 ? 'completed' : listed ? 'killed after registering' : 'killed before registering';

      // the same create again completes (or imports) what the killed one left
      if (!listed) {
        const r = await sb.run(`postfleet ${createArgs}`);
        expect(r.exitCode, `round ${round}: create after the kill: ${r.stderr}`).toBe(0);
        listed = await expectConsistent(`round ${round}: after the repeated create`);
        expect(listed).toBe(true);
      }
      await expectNoDebris(`round ${round}: after a completed create`);
      expect((await sb.runOk('postconf -c /etc/postfix-c -h multi_instance_name multi_instance_group multi_instance_enable')).stdout).toBe('postfix-c\ncrash\nno\n');
      const queue = await sb.runOk('ls /var/spool/postfix-c | tr "\\n" " "; stat -c "%a %U" /var/lib/postfix-c /var/spool/postfix-c/maildrop | tr "\\n" " "');
      expect(queue.stdout, `round ${round}: the instance's directories are all there`).toBe(
        'active bounce corrupt defer deferred flush hold incoming maildrop pid private public saved trace 700 postfix 730 postfix ',
      );

      // destroy, killed
      const destroyArgs = round % 2 === 0 ? 'destroy c' : '-i postfix-c -e destroy';
      const destroyDelay = random.below(destroyMs + 1);
      const destroyStatus = await killedRun(destroyArgs, destroyDelay);
      listed = await expectConsistent(`round ${round}: destroy killed after ${destroyDelay} ms (exit ${destroyStatus})`);
      const destroyOutcome = destroyStatus === 0 ? 'completed' : listed ? 'killed before deregistering' : 'killed after deregistering';
      log.push(`round ${round}: create +${createDelay}ms ${createOutcome}; destroy +${destroyDelay}ms ${destroyOutcome}`);
    }
    console.log(log.join('\n'));

    // and finally a clean slate: create and destroy run to completion
    if (listed) expect((await sb.run('postfleet destroy c')).exitCode).toBe(0);
    const create = await sb.run('postfleet create postfix-c');
    expect(create.exitCode, create.stderr).toBe(0);
    const destroy = await sb.run('postfleet destroy c');
    expect(destroy.exitCode, destroy.stderr).toBe(0);
    expect(await expectConsistent('end')).toBe(false);
    await expectNoDebris('end');
    for (const gone of ['/etc/postfix-c', '/var/spool/postfix-c', '/var/lib/postfix-c']) expect(await sb.exists(gone), gone).toBe(false);
  });
});
