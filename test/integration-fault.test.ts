/**
 * Fault isolation: broken secondaries (missing main.cf, bad multi_instance_enable, a queue
 * directory claimed twice). postmulti aborts everything; postfleet names each broken one on
 * stderr, lists / starts / runs / stops the others, and exits 1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { masterStates, scriptTags, stableOutput } from './helpers/fleet.js';
import { requireIntegration, Sandbox, shq } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

describe.runIf(requireIntegration())('fault isolation: broken secondaries', () => {
  let sb: Sandbox;
  const QUEUES = ['/var/spool/postfix', '/var/spool/postfix-a', '/var/spool/postfix-c'];
  const BROKEN: ReadonlyArray<[string, RegExp, RegExp]> = [
    // directory, postmulti's fatal error, postfleet's reason
    ['/etc/postfix-missing', /postmulti: fatal: Failed to obtain all required \/etc\/postfix-missing\/main.cf parameters/, /main\.cf: No such file or directory$/],
    ['/etc/postfix-maybe', /postmulti: fatal: Unexpected \/etc\/postfix-maybe\/main.cf entry: multi_instance_enable = maybe/, /multi_instance_enable = maybe$/],
    [
      '/etc/postfix-dupq',
      /postmulti: fatal: instance \/etc\/postfix-dupq, queue_directory=\/var\/spool\/postfix-a conflicts with instance \/etc\/postfix-a, queue_directory=\/var\/spool\/postfix-a/,
      /queue_directory=\/var\/spool\/postfix-a conflicts with instance \/etc\/postfix-a/,
    ],
  ];
  let goodRows: string;

  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk(String.raw`set -e
postfleet -e init
touch -d '-1 minute' /etc/postfix/main.cf
postfleet -I postfix-a -G mta -e create
postfleet -I postfix-c -G mta -e create
touch -d '-1 minute' /etc/postfix*/main.cf
postfleet -i a -e enable
postfleet -i c -e enable
mkdir /etc/postfix-missing /etc/postfix-maybe /etc/postfix-dupq
sed 's,postfix-a,postfix-maybe,g' /etc/postfix-a/main.cf > /etc/postfix-maybe/main.cf
postconf -c /etc/postfix-maybe -e 'multi_instance_enable = maybe'
sed 's,^multi_instance_name = .*,multi_instance_name = postfix-dupq,; s,/var/lib/postfix-a,/var/lib/postfix-dupq,' /etc/postfix-a/main.cf > /etc/postfix-dupq/main.cf
cp /etc/postfix-a/master.cf /etc/postfix-maybe/
cp /etc/postfix-a/master.cf /etc/postfix-dupq/
test "$(postconf -c /etc/postfix-dupq -h queue_directory)" = /var/spool/postfix-a
touch -d '-1 minute' /etc/postfix*/main.cf`);
    goodRows = (await sb.runOk('postmulti -l')).stdout;
    expect(goodRows.split('\n')).toHaveLength(4);
  });
  afterAll(async () => {
    await sb?.dispose();
  });

  async function setList(dirs: string): Promise<void> {
    await sb.runOk(`postconf -e ${shq(`multi_instance_directories = ${dirs}`)} && touch -d '-1 minute' /etc/postfix/main.cf`);
  }

  it.each(BROKEN)('%s: postmulti aborts everything; postfleet names it and goes on', async (dir, postmultiError, reason) => {
    await setList(`/etc/postfix-a ${dir} /etc/postfix-c`);
    const [list, start, exec] = await Promise.all([
      sb.run('postmulti -l', { tty: true }),
      sb.run('postmulti -p start', { tty: true }),
      sb.run('postmulti -x echo ran', { tty: true }),
    ]);
    for (const r of [list, start, exec]) {
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toMatch(postmultiError);
      expect(r.stdout).not.toMatch(/starting|^ran$|^postfix-a +mta/m);
    }
    expect(await masterStates(sb, QUEUES)).toEqual(Object.fromEntries(QUEUES.map((q) => [q, 'stopped'])));

    const pf = await sb.run('postfleet -l');
    expect(pf.exitCode).toBe(1);
    expect(pf.stdout).toBe(goodRows);
    const lines = pf.stderr.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^postfleet: .*${dir}: `));
    expect(lines[0]).toMatch(reason);
  });

  it('all three broken: postfleet lists, starts, runs and stops the others, and exits 1', { timeout: budget(20) }, async () => {
    await setList(`/etc/postfix-a ${BROKEN.map((b) => b[0]).join(' ')} /etc/postfix-c`);
    const warnings = (stderr: string): void => {
      const lines = stderr.split('\n').filter(Boolean);
      expect(lines).toHaveLength(BROKEN.length);
      BROKEN.forEach(([dir, , reason], k) => {
        expect(lines[k]).toMatch(new RegExp(`^postfleet: .*${dir}: `));
        expect(lines[k]).toMatch(reason);
      });
    };

    const list = await sb.run('postfleet -l');
    expect(list).toMatchObject({ exitCode: 1, stdout: goodRows });
    warnings(list.stderr);

    const start = await sb.run('postfleet -p start', { tty: true });
    expect(start.exitCode).toBe(1);
    expect(scriptTags(start.stdout)).toEqual(['postfix', 'postfix-a', 'postfix-c']);
    warnings(start.stdout.split('\n').filter((l) => !l.includes('postfix-script')).join('\n'));
    expect(await masterStates(sb, QUEUES)).toEqual(Object.fromEntries(QUEUES.map((q) => [q, 'running'])));

    const exec = await sb.run(`postfleet -x sh -c 'echo "[$multi_instance_name]"'`);
    expect(exec).toMatchObject({ exitCode: 1, stdout: '[]\n[postfix-a]\n[postfix-c]\n' });
    warnings(exec.stderr);

    const json = await sb.run('postfleet list --json');
    expect(json.exitCode).toBe(1);
    const rows = JSON.parse(json.stdout) as Array<{ configDirectory: string; error?: string; name?: string | null }>;
    expect(rows.map((r) => [r.configDirectory, r.error === undefined ? r.name : 'broken'])).toEqual([
      ['/etc/postfix', null],
      ['/etc/postfix-a', 'postfix-a'],
      ['/etc/postfix-missing', 'broken'],
      ['/etc/postfix-maybe', 'broken'],
      ['/etc/postfix-dupq', 'broken'],
      ['/etc/postfix-c', 'postfix-c'],
    ]);
    warnings(json.stderr);

    // As the wrapper: plain postfix(1) still manages the good instances.
    const status = await sb.run('postfix status', { tty: true });
    expect(status.exitCode).toBe(1);
    expect(stableOutput(status.stdout)).toContain('postfix-c/postfix-script: the Postfix mail system is running: PID: N\n');
    const stop = await sb.run('postfix stop', { tty: true });
    expect(stop.exitCode).toBe(1);
    expect(scriptTags(stableOutput(stop.stdout))).toEqual(['postfix-c', 'postfix-a', 'postfix']);
    expect(await masterStates(sb, QUEUES)).toEqual(Object.fromEntries(QUEUES.map((q) => [q, 'stopped'])));
  });
});
