/**
 * Life-cycle mode against the real postmulti: init and create (names, groups, explicit
 * paths, placement, shared parameters), one sandbox driven by `postmulti -e …`, its twin by
 * postfleet (compat `-e` and the modern commands), compared after every step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSameState, lifecycleState, POSTFLEET_WRAPPER } from './helpers/lifecycle.js';
import { requireIntegration, Sandbox, type RunResult } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

describe.runIf(requireIntegration())('life-cycle: init and create, postfleet vs postmulti', () => {
  let ref: Sandbox; // postmulti
  let ours: Sandbox; // postfleet
  beforeAll(async () => {
    [ref, ours] = await Promise.all([Sandbox.create(), Sandbox.create()]);
  });
  afterAll(async () => {
    await Promise.all([ref?.dispose(), ours?.dispose()]);
  });

  /** Deliberate differences in the trees, from the step that introduced them on. */
  const knownTreeDifferences: Array<readonly [string, string]> = [];

  /** One step: each tool in its own sandbox, then both must be in the same state. */
  async function step(
    name: string,
    postmulti: string,
    postfleet: string,
    opts: { compat?: boolean; treeDifferences?: ReadonlyArray<readonly [string, string]> } = {},
  ): Promise<[RunResult, RunResult]> {
    const [a, b] = await Promise.all([ref.run(postmulti, { tty: true }), ours.run(postfleet)]);
    expect(a.exitCode, `${name}: postmulti: ${a.stdout}`).toBe(0);
    expect(b.exitCode, `${name}: postfleet: ${b.stderr}`).toBe(0);
    // postmulti is silent on success; so is postfleet in compat mode.
    expect(a.stdout, `${name}: postmulti output`).toBe('');
    if (opts.compat) expect(b, `${name}: postfleet compat output`).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    const [sa, sb] = await Promise.all([lifecycleState(ref), lifecycleState(ours)]);
    knownTreeDifferences.push(...(opts.treeDifferences ?? []));
    expectSameState(sa, sb, name, { treeDifferences: knownTreeDifferences });
    return [a, b];
  }

  it('init, then create with names, groups, explicit paths and every placement', { timeout: budget(4 * 6 + 8) }, async () => {
    await step('init', 'postmulti -e init', 'postfleet -e init', { compat: true });
    expect((await ours.run('postconf -h multi_instance_wrapper multi_instance_enable')).stdout).toBe(`${POSTFLEET_WRAPPER}\nyes\n`);

    await step('create -I postfix-out -G mta', 'postmulti -I postfix-out -G mta -e create', 'postfleet -I postfix-out -G mta -e create', { compat: true });

    // -i: before the named instance (modern: --before)
    const [, modern] = await step('create -I postfix-in -i out', 'postmulti -I postfix-in -G mta -i out -e create', 'postfleet create postfix-in --group mta --before out');
    expect(modern.stdout).toContain('create postfix-in:');
    expect(modern.stdout).toContain('mkdir /etc/postfix-in (mode 0755)');
    expect(modern.stdout).toContain('register /etc/postfix-in in /etc/postfix/main.cf (multi_instance_directories, before /etc/postfix-out)');

    // explicit private directories, with parents that do not exist yet (only paths under
    // the sandbox's overlays: anything else would be the host's)
    await step(
      'create with config/queue/data_directory= arguments',
      'postmulti -I postfix-x -G edge -e create config_directory=/etc/postfix-sub/x queue_directory=/var/spool/postfix-sub/x/ data_directory=/var/lib/postfix-sub/x',
      'postfleet -I postfix-x -G edge -e create config_directory=/etc/postfix-sub/x queue_directory=/var/spool/postfix-sub/x/ data_directory=/var/lib/postfix-sub/x',
      {
        compat: true,
        // postmulti-script makes the data directory with `umask 077; mkdir -p`, so a parent
        // it has to make is 0700 root, which the postfix user cannot search (tlsmgr, verify
        // and postscreen could not reach their caches). postfleet makes parents 0755.
        treeDifferences: [['drwx------ root:root /var/lib/postfix-sub', 'drwxr-xr-x root:root /var/lib/postfix-sub']],
      },
    );

    // -a: first of the secondaries (modern: --first)
    await step('create -a', 'postmulti -I postfix-first -a -e create', 'postfleet create postfix-first --first');
    // -g: before the first member of the group
    await step('create -g edge', 'postmulti -I postfix-g2 -G edge -g edge -e create', 'postfleet -I postfix-g2 -G edge -g edge -e create', { compat: true });

    const order = (await ours.runOk('postconf -h multi_instance_directories')).stdout.trim().split(/\s+/);
    expect(order).toEqual(['/etc/postfix-first', '/etc/postfix-in', '/etc/postfix-out', '/etc/postfix-g2', '/etc/postfix-sub/x']);
    // Every instance is usable: postfix check passes on each (what postmulti -e create leaves).
    const check = await ours.run('postfleet -p check');
    expect(check.exitCode, check.stderr).toBe(0);
  });
});

describe.runIf(requireIntegration())('life-cycle: a primary that sets shared parameters explicitly', () => {
  let ref: Sandbox;
  let ours: Sandbox;
  beforeAll(async () => {
    [ref, ours] = await Promise.all([Sandbox.create(), Sandbox.create()]);
  });
  afterAll(async () => {
    await Promise.all([ref?.dispose(), ours?.dispose()]);
  });

  it('copies mail_owner, sendmail_path, setgid_group into the new main.cf and comments out the rest', { timeout: budget(8) }, async () => {
    const extra = 'mail_owner = postfix\nsendmail_path = /usr/sbin/sendmail\nsetgid_group = postdrop\nmailq_path = /usr/bin/mailq\n';
    await Promise.all([ref, ours].map(async (sb) => sb.writeFile('/etc/postfix/main.cf', (await sb.readFile('/etc/postfix/main.cf')) + extra)));
    const [a, b] = await Promise.all([
      ref.run('postmulti -e init && postmulti -I postfix-s -G shared -e create', { tty: true }),
      ours.run('postfleet init && postfleet create postfix-s --group shared'),
    ]);
    expect(a.exitCode, a.stdout).toBe(0);
    expect(b.exitCode, b.stderr).toBe(0);
    const [sa, sb] = await Promise.all([lifecycleState(ref), lifecycleState(ours)]);
    expectSameState(sa, sb, 'create with shared parameters');

    const main = sb.files['/etc/postfix-s/main.cf'] ?? '';
    expect(main).toMatch(/^mail_owner = postfix$/m);
    expect(main).toMatch(/^sendmail_path = \/usr\/sbin\/sendmail$/m);
    expect(main).toMatch(/^setgid_group = postdrop$/m);
    expect(main).toMatch(/^mailq_path = \/usr\/bin\/mailq$/m);
    // the others are commented out, not copied
    expect(main).toMatch(/^#command_directory = /m);
    expect(main).not.toMatch(/^command_directory = /m);
    expect(main).toMatch(/^#daemon_directory = /m);
  });
});
