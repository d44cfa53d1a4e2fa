/**
 * Life-cycle mode against the real postmulti: enable, disable, assign, deport, import and
 * destroy, one sandbox driven by `postmulti -e …`, its twin by postfleet (compat `-e` and
 * the modern commands), compared after every step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twinStep } from './helpers/lifecycle.js';
import { requireIntegration, Sandbox, type RunResult } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

describe.runIf(requireIntegration())('life-cycle: managing instances, postfleet vs postmulti', () => {
  let ref: Sandbox; // postmulti
  let ours: Sandbox; // postfleet
  beforeAll(async () => {
    [ref, ours] = await Promise.all([Sandbox.create(), Sandbox.create()]);
  });
  afterAll(async () => {
    await Promise.all([ref?.dispose(), ours?.dispose()]);
  });

  /** One step: each tool in its own sandbox, then both must be in the same state. */
  async function step(name: string, postmulti: string, postfleet: string): Promise<RunResult> {
    const b = await twinStep(ref, ours, name, postmulti, postfleet);
    // compat mode is silent on success, as postmulti is
    if (!/postfleet [a-z]/.test(postfleet)) expect(b, `${name}: postfleet compat output`).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    return b;
  }

  const directories = async (): Promise<string> => (await ours.runOk('postconf -h multi_instance_directories')).stdout.trim();
  const alternates = async (): Promise<string> => (await ours.runOk('postconf -h alternate_config_directories')).stdout.trim();

  // 20 steps, each: postmulti and postfleet, then both states (a listing by each tool)
  it('enable, disable, assign, deport, import, destroy', { timeout: budget(4 * 20) }, async () => {
    await step(
      'init and two creates',
      'postmulti -e init && postmulti -I postfix-out -G mta -e create && postmulti -I postfix-b -G mta -e create',
      'postfleet -e init && postfleet -I postfix-out -G mta -e create && postfleet create postfix-b --group mta',
    );

    // enable / disable
    const enabled = await step('enable', 'postmulti -i out -e enable', 'postfleet enable out');
    expect(enabled.stdout).toBe('enable postfix-out:\n  edit /etc/postfix-out/main.cf: multi_instance_enable = yes\n');
    expect((await ours.runOk('postconf -c /etc/postfix-out -h multi_instance_enable')).stdout).toBe('yes\n');
    await step('disable', 'postmulti -i postfix-out -e disable', 'postfleet -i postfix-out -e disable');
    expect((await ours.runOk('postconf -c /etc/postfix-out -h multi_instance_enable')).stdout).toBe('no\n');
    // several at once (postfleet extra): the files postmulti's per-instance loop leaves
    await step('enable -g mta', 'postmulti -i out -e enable && postmulti -i b -e enable', 'postfleet enable -g mta');
    await step('disable of two names', 'postmulti -i out -e disable && postmulti -i b -e disable', 'postfleet disable b out');
    await step('enable --all', 'postmulti -i out -e enable && postmulti -i b -e enable', 'postfleet enable --all');
    await step('disable --all', 'postmulti -i out -e disable && postmulti -i b -e disable', 'postfleet disable -a');

    // assign: rename, clear the group, make nameless, no-op
    await step('assign -I postfix-new', 'postmulti -i out -e assign -I postfix-new', 'postfleet -i out -e assign -I postfix-new');
    await step('assign -G -', 'postmulti -i new -e assign -G -', 'postfleet assign new --group -');
    expect((await ours.runOk('postconf -c /etc/postfix-out -h multi_instance_name multi_instance_group')).stdout).toBe('postfix-new\n\n');
    await step('assign -I - -G grp', 'postmulti -i postfix-new -e assign -I - -G grp', 'postfleet -i postfix-new -e assign -I - -G grp');
    const noop = await step('assign without change', 'postmulti -i /etc/postfix-out -e assign -G grp', 'postfleet assign /etc/postfix-out --group grp');
    expect(noop.stdout).toBe('assign /etc/postfix-out: nothing to change\n');

    // deport: leaves the list, joins alternate_config_directories; files stay
    const deported = await step('deport', 'postmulti -i b -e deport', 'postfleet deport b');
    expect(deported.stdout).toBe('deport postfix-b:\n  unregister /etc/postfix-b from /etc/postfix/main.cf (multi_instance_directories; added to alternate_config_directories)\n');
    expect(await directories()).toBe('/etc/postfix-out');
    expect(await alternates()).toBe('/etc/postfix-b');
    expect(await ours.exists('/etc/postfix-b/master.cf')).toBe(true);

    // import the deported instance under a new name and group
    await step(
      'import with -I/-G renaming',
      'postmulti -I postfix-c -G imported -e import config_directory=/etc/postfix-b',
      'postfleet import --config-directory /etc/postfix-b --name postfix-c --group imported',
    );
    expect(await directories()).toBe('/etc/postfix-out /etc/postfix-b');
    expect(await alternates()).toBe('');

    // deport again, import back by name alone (config_directory derived from -I)
    await step('deport again', 'postmulti -i c -e deport', 'postfleet -i c -e deport');
    await step('import -I postfix-b', 'postmulti -I postfix-b -e import', 'postfleet -I postfix-b -e import');
    expect((await ours.runOk('postconf -c /etc/postfix-b -h multi_instance_name multi_instance_group')).stdout).toBe('postfix-b\nimported\n');

    // create where main.cf and master.cf already are: an import (the files are kept)
    await step('deport a third time', 'postmulti -i b -e deport', 'postfleet deport b');
    const again = await step('create over a complete instance', 'postmulti -I postfix-b -G again -e create', 'postfleet create postfix-b --group again');
    expect(again.stdout).not.toContain('write /etc/postfix-b/main.cf');
    expect(again.stdout).toContain('edit /etc/postfix-b/main.cf: multi_instance_group = again');
    expect(await directories()).toBe('/etc/postfix-out /etc/postfix-b');

    // destroy: a nameless instance by its directory, then one by name (modern)
    await step('destroy nameless', 'postmulti -i /etc/postfix-out -e destroy', 'postfleet -i /etc/postfix-out -e destroy');
    for (const gone of ['/etc/postfix-out', '/var/spool/postfix-out', '/var/lib/postfix-out']) expect(await ours.exists(gone), gone).toBe(false);
    const destroyed = await step('destroy by name', 'postmulti -i b -e destroy', 'postfleet destroy b');
    expect(destroyed.stdout).toContain('remove /etc/postfix-b/master.cf');
    expect(destroyed.stdout).toContain('rmdir /var/spool/postfix-b/maildrop');
    for (const gone of ['/etc/postfix-b', '/var/spool/postfix-b', '/var/lib/postfix-b']) expect(await ours.exists(gone), gone).toBe(false);
    expect(await directories()).toBe('');
  });
});
