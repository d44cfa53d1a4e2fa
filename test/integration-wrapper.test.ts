/**
 * postfleet as postfix(1)'s multi_instance_wrapper (differential against postmulti in that
 * role), and the modern postfix/status commands with real masters.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { masterStates, scriptTags, stableOutput } from './helpers/fleet.js';
import { REPO_ROOT, requireIntegration, Sandbox, shq } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

const POSTFLEET_WRAPPER = `${realpathSync(process.execPath)} ${realpathSync(path.join(REPO_ROOT, 'bin', 'run.js'))} -p --`;

interface Step {
  readonly command: string;
  readonly exitCode: number;
  readonly output: string;
  readonly masters: Record<string, 'running' | 'stopped'>;
}

describe.runIf(requireIntegration())('wrapper role: plain postfix(1) runs every instance through postfleet', () => {
  let sb: Sandbox;
  const QUEUES = ['/var/spool/postfix', '/var/spool/postfix-a', '/var/spool/postfix-b', '/var/spool/postfix-c'];
  const running = (...queues: string[]): Record<string, string> => Object.fromEntries(QUEUES.map((q) => [q, queues.includes(q) ? 'running' : 'stopped']));
  let commandDirectory: string;

  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk(String.raw`set -e
postfleet -e init
touch -d '-1 minute' /etc/postfix/main.cf
postfleet -I postfix-a -G mta -e create
postfleet -I postfix-b -G mta -e create
postfleet -I postfix-c -e create
touch -d '-1 minute' /etc/postfix*/main.cf
postfleet -i a -e enable
postfleet -i postfix-c -e enable
touch -d '-1 minute' /etc/postfix*/main.cf`);
    commandDirectory = (await sb.runOk('postconf -h command_directory')).stdout.trim();
  });
  afterAll(async () => {
    await sb?.dispose();
  });

  async function setWrapper(value: string): Promise<void> {
    await sb.runOk(`postconf -e ${shq(`multi_instance_wrapper = ${value}`)} && touch -d '-1 minute' /etc/postfix/main.cf`);
  }

  async function run(steps: readonly string[]): Promise<Step[]> {
    const out: Step[] = [];
    for (const step of steps) {
      const r = await sb.run(`postfix ${step}`, { tty: true });
      out.push({ command: step, exitCode: r.exitCode, output: stableOutput(r.stdout), masters: await masterStates(sb, QUEUES) });
    }
    return out;
  }

  it('postfleet -e init makes postfleet the wrapper; the fleet is as postmulti sees it', async () => {
    expect(await sb.run('postconf -h multi_instance_wrapper multi_instance_enable')).toEqual({
      stdout: `${POSTFLEET_WRAPPER}\nyes\n`,
      stderr: '',
      exitCode: 0,
    });
    const [pm, pf] = await Promise.all([sb.run('postmulti -l'), sb.run('postfleet -l')]);
    expect(pm.stdout).toBe(
      ['-               -               y         /etc/postfix', 'postfix-a       mta             y         /etc/postfix-a',
        'postfix-b       mta             n         /etc/postfix-b', 'postfix-c       -               y         /etc/postfix-c', ''].join('\n'),
    );
    expect(pf).toEqual(pm);
  });

  // three runs of six steps; a start runs postfix-script's checks on four instances
  it('start, status, reload, stop, status, stop: the same as with postmulti as the wrapper', { timeout: budget(3 * 12) }, async () => {
    const steps = ['start', 'status', 'reload', 'stop', 'status', 'stop'];
    const pf = await run(steps);
    await setWrapper(POSTFLEET_WRAPPER.replace(/ -p --$/, ' -P 2 -p --'));
    const parallel = await run(steps);
    await setWrapper('${command_directory}/postmulti -p --');
    const pm = await run(steps);
    await setWrapper(POSTFLEET_WRAPPER);

    const [start, status, reload, stop, statusAfter, stopAgain] = pm as [Step, Step, Step, Step, Step, Step];
    expect(start).toMatchObject({ exitCode: 0, masters: running('/var/spool/postfix', '/var/spool/postfix-a', '/var/spool/postfix-c') });
    expect(scriptTags(start.output)).toEqual(['postfix', 'postfix-a', 'postfix-c']);
    expect(status.exitCode).toBe(1); // postfix-b is not running
    expect(scriptTags(status.output)).toEqual(['postfix', 'postfix-a', 'postfix-b', 'postfix-c']);
    expect(reload).toMatchObject({ exitCode: 0, masters: start.masters });
    expect(scriptTags(reload.output)).toEqual(['postfix', 'postfix-a', 'postfix-c']);
    expect(stop).toMatchObject({ exitCode: 0, masters: running() });
    expect(scriptTags(stop.output)).toEqual(['postfix-c', 'postfix-a', 'postfix']);
    expect(statusAfter.exitCode).toBe(1);
    expect(stopAgain.exitCode).toBe(1);
    expect(stopAgain.output.match(/fatal: the Postfix mail system is not running/g)).toHaveLength(3);

    expect(pf).toEqual(pm);
    expect(parallel).toEqual(pm);
  });

  it('postfix start --json, status --json (pid, queue counts), postfix stop --json', { timeout: budget(30) }, async () => {
    const start = await sb.run('postfleet postfix start --json');
    expect(start.exitCode).toBe(0);
    const results = JSON.parse(start.stdout) as Array<Record<string, unknown>>;
    expect(results).toEqual(
      (
        [
          ['-', '/etc/postfix', 'start', 'postfix'],
          ['postfix-a', '/etc/postfix-a', 'start', 'postfix-a'],
          ['postfix-b', '/etc/postfix-b', 'check', undefined],
          ['postfix-c', '/etc/postfix-c', 'start', 'postfix-c'],
        ] as const
      ).map(([instance, dir, verb, tag]) => ({
        instance,
        configDirectory: dir,
        command: [`${commandDirectory}/postfix`, '--', verb],
        exitCode: 0,
        durationMs: expect.any(Number) as number,
        output: tag === undefined ? '' : `${tag}/postfix-script: starting the Postfix mail system\n`,
        // A start is a fast start (native checks, then quick-start); a disabled instance's check is Postfix's.
        ...(tag === undefined ? {} : { checkMs: expect.any(Number) as number, startPath: 'fast' }),
      })),
    );
    expect(await masterStates(sb, QUEUES)).toEqual(running('/var/spool/postfix', '/var/spool/postfix-a', '/var/spool/postfix-c'));

    // Messages of a stopped instance: a held and a deferred one.
    await sb.runOk('set -e; cd /var/spool/postfix-b; mkdir -p deferred/A; echo x > hold/ABCDEF; echo x > deferred/A/ABCDEF');
    try {
      const status = await sb.run('postfleet status --json');
      expect(status.exitCode).toBe(0);
      const rows = JSON.parse(status.stdout) as Array<{ instance: string; running: boolean; pid: number | null; enabled: boolean; queues: Record<string, number | null> }>;
      const pids = await sb.runOk('for q in /var/spool/postfix /var/spool/postfix-a /var/spool/postfix-c; do tr -d " \\n" < $q/pid/master.pid; echo; done');
      const [p0, pa, pc] = pids.stdout.trim().split('\n').map(Number);
      const empty = { incoming: 0, active: 0, deferred: 0, hold: 0, maildrop: 0, corrupt: 0 };
      expect(rows.map((r) => ({ instance: r.instance, enabled: r.enabled, running: r.running, pid: r.pid, queues: r.queues }))).toEqual([
        { instance: '-', enabled: true, running: true, pid: p0, queues: empty },
        { instance: 'postfix-a', enabled: true, running: true, pid: pa, queues: empty },
        { instance: 'postfix-b', enabled: false, running: false, pid: null, queues: { ...empty, hold: 1, deferred: 1 } },
        { instance: 'postfix-c', enabled: true, running: true, pid: pc, queues: empty },
      ]);
      for (const pid of [p0, pa, pc]) expect((await sb.run(`cat /proc/${pid}/comm`)).stdout).toBe('master\n');

      const table = await sb.run('postfleet status -g mta');
      expect(table.exitCode).toBe(0);
      expect(table.stdout.trimEnd().split('\n').map((l) => l.trim().split(/ +/))).toEqual([
        ['INSTANCE', 'ENABLED', 'RUNNING', 'PID', 'INCOMING', 'ACTIVE', 'DEFERRED', 'HOLD', 'MAILDROP', 'CORRUPT'],
        ['postfix-a', 'yes', 'yes', String(pa), '0', '0', '0', '0', '0', '0'],
        ['postfix-b', 'no', 'no', '-', '0', '0', '1', '1', '0', '0'],
      ]);
      expect(await sb.run('postfleet status -g nomatch --json')).toMatchObject({ stdout: '', stderr: "postfleet: no instance in group 'nomatch'\n", exitCode: 1 });
    } finally {
      await sb.runOk('rm -rf /var/spool/postfix-b/deferred/A /var/spool/postfix-b/hold/ABCDEF');
    }

    const stop = await sb.run('postfleet postfix stop --json');
    expect(stop.exitCode).toBe(0);
    const stopped = JSON.parse(stop.stdout) as Array<{ instance: string; command: string[]; output: string }>;
    expect(stopped.map((r) => [r.instance, r.command.at(-1)])).toEqual([
      ['postfix-c', 'stop'],
      ['postfix-a', 'stop'],
      ['-', 'stop'],
    ]);
    for (const r of stopped) expect(r.output).toMatch(/postfix-script: stopping the Postfix mail system\n/);
    expect(await masterStates(sb, QUEUES)).toEqual(running());

    // Plain lines (script(1) gives a terminal of unknown width): each instance, what was
    // actually run on it, then its messages.
    const plain = await sb.run('postfleet postfix start -g mta', { tty: true });
    expect(plain.exitCode).toBe(0);
    expect(plain.stdout).toMatch(
      /^postfix-a: start: ok, [\d.]+ s\n {2}postfix-a\/postfix-script: starting the Postfix mail system\npostfix-b: check: ok, [\d.]+ s\n$/,
    );
    expect((await sb.run('postfleet postfix stop -i a')).exitCode).toBe(0);

    // A failed instance makes the exit status 1; the plain rendering says which.
    const again = await sb.run('postfleet postfix stop -i a');
    expect(again.exitCode).toBe(1);
    expect(again.stdout).toMatch(/^postfix-a: stop: failed \(exit 1\)/);
  });
});
