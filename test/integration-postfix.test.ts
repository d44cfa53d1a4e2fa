/**
 * -p with real masters, differential against the real postmulti: the same command sequences
 * run by postmulti, by postfleet and by postfleet -P 2 on the same fleet (FLEET_FIXTURE) must
 * print the same (terminal) messages, exit the same and leave the same masters running.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET, FLEET_FIXTURE, stableOutput, masterStates, scriptTags } from './helpers/fleet.js';
import { requireIntegration, Sandbox, shjoin } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

interface Step {
  readonly command: string;
  readonly exitCode: number;
  /** What a terminal showed, PIDs masked. */
  readonly output: string;
  readonly masters: Record<string, 'running' | 'stopped'>;
  /** Disabled instances whose (removed) flush directory is back: `postfix check` ran there. */
  readonly checked: string[];
}

const QUEUES = FLEET.map((m) => m.queue);
const DISABLED_QUEUES = FLEET.filter((m) => !m.enabled).map((m) => m.queue);
const ENABLED_TAGS = FLEET.filter((m) => m.enabled).map((m) => m.tag);
const allMasters = (state: 'running' | 'stopped'): Record<string, string> => Object.fromEntries(QUEUES.map((q) => [q, state]));
const unique = (items: readonly string[]): string[] => [...new Set(items)];
const enabledRunning = (): Record<string, string> => Object.fromEntries(FLEET.map((m) => [m.queue, m.enabled ? 'running' : 'stopped']));

/**
 * A differential's timeout: three runs of the sequence (postmulti, postfleet, postfleet -P 2).
 * A start or check runs postfix-script's checks on every selected instance (seconds each,
 * the primary's the longest); the other commands take a moment per instance.
 */
const differentialBudget = (steps: ReadonlyArray<readonly string[]>): number =>
  budget(3 * steps.reduce((sum, step) => sum + (step.some((w) => w === 'start' || w === 'check') ? 8 : 2), 0));

describe.runIf(requireIntegration())('-p with real masters: postfleet vs postmulti', () => {
  let sb: Sandbox;

  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk(FLEET_FIXTURE);
    // Group-writable files make postfix-script's check-warn (run by start and check) print
    // several lines for an instance, so that grouping by instance shows.
    const files = '/etc/postfix-a/gw1 /etc/postfix-a/gw2 /etc/postfix-anon/gw1 /srv/pf-x/gw1';
    await sb.runOk(`set -e; touch ${files}; chmod g+w ${files}`);
  });
  afterAll(async () => {
    await sb?.dispose();
  });

  /** Runs each step as `PROG STEP…` on a terminal and records what happened. */
  async function run(prog: readonly string[], steps: ReadonlyArray<readonly string[]>): Promise<Step[]> {
    await sb.runOk(`rm -rf ${DISABLED_QUEUES.map((q) => `${q}/flush`).join(' ')}`);
    const out: Step[] = [];
    for (const step of steps) {
      const r = await sb.run(shjoin([...prog, ...step]), { tty: true });
      const checked = (await sb.run(`for q in ${shjoin(DISABLED_QUEUES)}; do [ -d "$q/flush" ] && echo "$q"; done; true`)).stdout;
      out.push({
        command: step.join(' '),
        exitCode: r.exitCode,
        output: stableOutput(r.stdout),
        masters: await masterStates(sb, QUEUES),
        checked: checked.split('\n').filter(Boolean),
      });
    }
    // Every sequence ends with everything stopped, so the next starts from the same state.
    expect(await masterStates(sb, QUEUES)).toEqual(allMasters('stopped'));
    return out;
  }

  /** The same sequence under postmulti, postfleet and postfleet -P 2; postmulti's result. */
  async function differential(steps: ReadonlyArray<readonly string[]>): Promise<Step[]> {
    const pm = await run(['postmulti'], steps);
    const pf = await run(['postfleet'], steps);
    expect(pf).toEqual(pm);
    const parallel = await run(['postfleet', '-P', '2'], steps);
    expect(parallel).toEqual(pm);
    return pm;
  }

  const wholeFleet = [['-p', 'start'], ['-p', 'status'], ['-p', 'reload'], ['-p', 'flush'], ['-p', 'stop'], ['-p', 'status']];
  it('start, status, reload, flush, stop, status, stop on the whole fleet', { timeout: differentialBudget(wholeFleet) }, async () => {
    const pm = await differential(wholeFleet);

    const [start, status, reload, flush, stop, statusAfter] = pm as [Step, Step, Step, Step, Step, Step];
    // start: the enabled instances' masters, in list order; `check` (not start) on the disabled ones.
    expect(start.exitCode).toBe(0);
    expect(start.masters).toEqual(enabledRunning());
    expect(start.checked).toEqual(DISABLED_QUEUES);
    expect(unique(scriptTags(start.output))).toEqual(['postfix', 'postfix-a', 'anon', 'postfix-verylongname-x', 'pfx']);
    expect(start.output).toMatch(/^postfix-a\/postfix-script: starting the Postfix mail system$/m);
    expect(start.output).not.toMatch(/^(postfix-b|pfx|b)\/postfix-script: starting/m);
    expect(start.output).toMatch(/^pfx\/postfix-script: warning: group or other writable: \/srv\/pf-x\/\.\/gw1$/m);
    // status: every instance, exit 1 because some are stopped.
    expect(status.exitCode).toBe(1);
    expect(scriptTags(status.output)).toEqual(FLEET.map((m) => m.tag));
    expect(status.output).toMatch(/^pfx\/postfix-script: the Postfix mail system is not running$/m);
    expect(status.output).toMatch(/^anon\/postfix-script: the Postfix mail system is running: PID: N$/m);
    // reload and flush: enabled instances only.
    expect(reload.exitCode).toBe(0);
    expect(scriptTags(reload.output)).toEqual(ENABLED_TAGS);
    expect(reload.masters).toEqual(enabledRunning());
    expect(flush.exitCode).toBe(0);
    expect(flush.masters).toEqual(enabledRunning());
    // stop: enabled instances, in reverse order.
    expect(stop.exitCode).toBe(0);
    expect(scriptTags(stop.output)).toEqual([...ENABLED_TAGS].reverse());
    expect(stop.masters).toEqual(allMasters('stopped'));
    expect(statusAfter.exitCode).toBe(1);
    expect(statusAfter.output.match(/the Postfix mail system is not running/g)).toHaveLength(FLEET.length);
  });

  const selections = [
    ['-i', 'a', '-p', 'start'],
    ['-p', 'start'], // postfix-a is already running: its start fails, the others start
    ['-g', 'mta', '-p', 'stop'],
    ['-g', 'out', '-p', 'start'], // both disabled: check only
    ['-i', 'verylongname-x', '-p', 'status'],
    ['-p', 'stop'], // postfix-a is not running
  ];
  it('selections and partial states', { timeout: differentialBudget(selections) }, async () => {
    const pm = await differential(selections);
    const [one, all, mtaStop, outStart, vlStatus, stop] = pm as [Step, Step, Step, Step, Step, Step];
    expect(one).toMatchObject({ exitCode: 0, masters: { ...allMasters('stopped'), '/var/spool/postfix-a': 'running' }, checked: [] });
    expect(all.exitCode).toBe(1);
    expect(all.output).toMatch(/^postfix-a\/postfix-script: fatal: the Postfix mail system is already running$/m);
    expect(all.masters).toEqual(enabledRunning());
    expect(mtaStop).toMatchObject({ exitCode: 0, masters: { ...enabledRunning(), '/var/spool/postfix-a': 'stopped' } });
    expect(scriptTags(mtaStop.output)).toEqual(['postfix-a']);
    expect(outStart).toMatchObject({ exitCode: 0, masters: mtaStop.masters });
    expect(vlStatus).toMatchObject({ exitCode: 0, output: 'postfix-verylongname-x/postfix-script: the Postfix mail system is running: PID: N\n' });
    expect(stop.exitCode).toBe(1);
    expect(scriptTags(stop.output)).toEqual([...ENABLED_TAGS].reverse());
    expect(stop.output).toMatch(/^postfix-a\/postfix-script: fatal: the Postfix mail system is not running$/m);
  });

  it('command classes come from the primary main.cf', { timeout: differentialBudget([['-p', 'status'], ['-p', 'check']]) }, async () => {
    // status becomes a control command (skips disabled instances), check a stop command
    // (reverse order, skips disabled instances).
    await sb.runOk(
      "postconf -e 'postmulti_control_commands = reload flush status' 'postmulti_stop_commands = stop abort drain quick-stop check' && touch -d '-1 minute' /etc/postfix/main.cf",
    );
    try {
      const pm = await differential([['-p', 'status'], ['-p', 'check']]);
      const [status, check] = pm as [Step, Step];
      expect(status.exitCode).toBe(1);
      expect(scriptTags(status.output)).toEqual(ENABLED_TAGS);
      expect(check.exitCode).toBe(0);
      // check-warn complains about anon's file, then postfix-a's two, and not about pf-x (skipped).
      expect(scriptTags(check.output)).toEqual(['anon', 'postfix-a', 'postfix-a']);
      expect(check.checked).toEqual([]);
    } finally {
      await sb.runOk("postconf -X postmulti_control_commands postmulti_stop_commands && touch -d '-1 minute' /etc/postfix/main.cf");
    }
  });

  it('-P runs instances side by side and still shows each one’s output whole, in list order', { timeout: budget(6) }, async () => {
    // With BARRIER set, each instance's command waits until all of them have started: only
    // if they run side by side does any of them get past it (one at a time, the first would
    // wait out its 120 s and fail). postmulti runs them one by one, without the barrier.
    const script =
      'echo "$multi_instance_name: one"; ' +
      'if [ -n "$BARRIER" ]; then mkdir -p "$BARRIER"; : > "$BARRIER/$$"; ' +
      'i=0; while [ "$(ls "$BARRIER" | wc -l)" -lt "$N" ]; do i=$((i+1)); [ $i -le 2400 ] || exit 9; sleep 0.05; done; fi; ' +
      'echo "$multi_instance_name: oops" >&2; echo "$multi_instance_name: two"; test "$multi_instance_name" != b';
    const count = String(FLEET.length);
    const [pm, pf] = await Promise.all([
      sb.exec(['postmulti', '-x', 'sh', '-c', script], { env: { N: count } }),
      sb.exec(['postfleet', '-P', count, '-x', 'sh', '-c', script], { env: { N: count, BARRIER: '/var/lib/postfleet-test-barrier' } }),
    ]);
    const names = FLEET.map((m) => (m.name === '-' ? '' : m.name));
    expect(pm).toEqual({
      stdout: names.map((n) => `${n}: one\n${n}: two\n`).join(''),
      stderr: names.map((n) => `${n}: oops\n`).join(''),
      exitCode: 1, // instance "b" fails
    });
    expect(pf).toEqual(pm);

    // A command that cannot be run says so on stderr, as postmulti's child does (on a terminal).
    const [pmMissing, pfMissing] = await Promise.all([
      sb.exec(['postmulti', '-x', '-g', 'mta', 'no-such-command'], { tty: true }),
      sb.exec(['postfleet', '-P', '2', '-x', '-g', 'mta', 'no-such-command']),
    ]);
    expect(pmMissing.exitCode).toBe(1);
    expect(pfMissing).toEqual({ stdout: '', stderr: pmMissing.stdout.replaceAll('postmulti', 'postfleet'), exitCode: 1 });
  });
});
