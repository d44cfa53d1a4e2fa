/**
 * Whole or nothing on a real fault: the primary's config directory (or an instance's) is a
 * small tmpfs filled to the last block inside the sandbox, so the final write fails with
 * ENOSPC after the instances' steps are done. Every command must then fail with one line
 * naming the file and leave the tree as it was: create, create of several, apply (new
 * instances and an edit of an existing one), destroy, and enable of several.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefusal, fullTmpfs, treeSnapshot, withoutDirectoryTimes } from './helpers/lifecycle.js';
import { budget } from './helpers/timing.js';
import { requireIntegration, Sandbox } from './helpers/sandbox.js';

describe.runIf(requireIntegration())('whole or nothing: a full file system', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk('postfleet init && postfleet create postfix-a postfix-b');
    await sb.runOk(fullTmpfs('/etc/postfix'));
    await sb.runOk(fullTmpfs('/etc/postfix-b'));
  }, budget(8));
  afterAll(async () => {
    await sb?.dispose();
  });

  async function refusedWithTreeUnchanged(command: string, file: string): Promise<void> {
    const before = withoutDirectoryTimes(await treeSnapshot(sb));
    const r = await sb.run(command);
    expectRefusal(r, new RegExp(`^postfleet: cannot write ${file.replace(/[./]/g, '\\$&')}: no space left on device$`, 'i'));
    expect(withoutDirectoryTimes(await treeSnapshot(sb)), `${command} left the tree changed`).toBe(before);
  }

  it('create: the new instance’s directories and files are removed again', async () => {
    await refusedWithTreeUnchanged('postfleet create postfix-full', '/etc/postfix/main.cf.tmp');
    expect(await sb.exists('/var/spool/postfix-full')).toBe(false);
  });

  it('create of several, and its postmulti form', async () => {
    await refusedWithTreeUnchanged('postfleet create postfix-x postfix-y postfix-z --group g', '/etc/postfix/main.cf.tmp');
    const before = withoutDirectoryTimes(await treeSnapshot(sb));
    const compat = await sb.run('postfleet -I postfix-full -e create');
    expect(compat.exitCode).toBe(1);
    expect(compat.stderr).toMatch(/^postfleet: fatal: cannot write \/etc\/postfix\/main\.cf\.tmp: no space left on device\n$/i);
    expect(withoutDirectoryTimes(await treeSnapshot(sb))).toBe(before);
  });

  it('apply: new instances removed and the edit of an existing one undone', async () => {
    await sb.writeFile('/etc/fleet.ini', '[postfix-a]\nset.myhostname = a.example\nenabled = yes\n\n[postfix-new]\ngroup = g\nenabled = yes\n');
    await refusedWithTreeUnchanged('postfleet apply /etc/fleet.ini', '/etc/postfix/main.cf.tmp');
    expect(await sb.readFile('/etc/postfix-a/main.cf')).not.toContain('a.example');
  });

  it('destroy: unregistered last, so nothing is removed', async () => {
    await refusedWithTreeUnchanged('postfleet destroy postfix-a', '/etc/postfix/main.cf.tmp');
    expect(await sb.exists('/etc/postfix-a/main.cf')).toBe(true);
  });

  it('an instance on the full file system: the other instances’ edits are undone', async () => {
    await refusedWithTreeUnchanged('postfleet enable postfix-a postfix-b', '/etc/postfix-b/main.cf.tmp');
    await sb.writeFile('/etc/fleet.ini', '[postfix-a]\nset.myhostname = a.example\n\n[postfix-b]\nset.myhostname = b.example\n');
    await refusedWithTreeUnchanged('postfleet apply /etc/fleet.ini', '/etc/postfix-b/main.cf.tmp');
  });
});

describe.runIf(requireIntegration())('whole or nothing: a signal', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk('postfleet init && postfleet create postfix-a');
  }, budget(8));
  afterAll(async () => {
    await sb?.dispose();
  });

  it('SIGTERM while waiting for the primary’s lock: nothing is made, exit 143, one line', async () => {
    const before = withoutDirectoryTimes(await treeSnapshot(sb));
    // Another editor holds Postfix's main.cf lock; postfleet create waits for it (its flock(1)
    // child is the sign), is sent SIGTERM there, and gets the lock only once the holder goes.
    const r = await sb.run(String.raw`
exec 9>/etc/postfix/main.cf.tmp && chmod 600 /etc/postfix/main.cf.tmp && flock -x 9
postfleet create postfix-sig postfix-sig2 >/dev/null 2>/var/lib/sig.err 9>&- & pf=$!
until pgrep -f 'flock --exclusive 3' >/dev/null; do kill -0 $pf || break; sleep 0.05; done
kill -TERM $pf
exec 9>&-
wait $pf; echo "exit $?"
`);
    expect(r.stdout).toBe('exit 143\n');
    expect(await sb.readFile('/var/lib/sig.err')).toBe('postfleet: interrupted by SIGTERM: nothing was changed\n');
    await sb.runOk('rm /var/lib/sig.err');
    expect(withoutDirectoryTimes(await treeSnapshot(sb))).toBe(before);
  });
});
