/**
 * What a command says when its change fails, and what it leaves, with faults injected into
 * the real system calls by strace: a directory sync that fails after the primary main.cf's
 * rename undoes the whole change (and says so); an undo that cannot write names the file and
 * the reason, keeps the file as reported, and the command exits non-zero.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefusal, fullTmpfs, treeSnapshot, withoutDirectoryTimes } from './helpers/lifecycle.js';
import { budget } from './helpers/timing.js';
import { requireIntegration, Sandbox } from './helpers/sandbox.js';

/** strace that makes system calls of `path` fail with EIO (`when`: strace's count, per thread: one libuv thread makes it the process's). */
const failing = (calls: string, path: string, when = ''): string =>
  `UV_THREADPOOL_SIZE=1 strace -f -qq -o /dev/null -e trace=${calls} -e inject=${calls}:error=EIO${when} -P ${path}`;

describe.runIf(requireIntegration())('undo on a real fault', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk('postfleet init && postfleet create postfix-a postfix-b');
    // Every main.cf already written once inside the sandbox (its copy in the overlay), back-dated.
    await sb.backdate('/etc/postfix*/main.cf');
  }, budget(6));
  afterAll(async () => {
    await sb?.dispose();
  });

  it('a failed directory sync after the primary main.cf is renamed: the whole change is undone, and the error says so', async () => {
    const before = withoutDirectoryTimes(await treeSnapshot(sb));
    const r = await sb.run(`${failing('fsync', '/etc/postfix', ':when=1')} postfleet config set -i - -i a -i b smtpd_banner=undo-banner`);
    expectRefusal(r, /^postfleet: cannot sync directory \/etc\/postfix: Input\/output error: the change was undone$/);
    expect(withoutDirectoryTimes(await treeSnapshot(sb))).toBe(before);
    for (const dir of ['/etc/postfix', '/etc/postfix-a', '/etc/postfix-b']) expect(await sb.readFile(`${dir}/main.cf`)).not.toContain('undo-banner');
  });

  it('an undo that cannot write: the file and the reason are named, the file keeps the change as said, exit 1', async () => {
    // postfix-b's config directory is a full file system: its edit fails after postfix-a's is done,
    // and the undo of postfix-a's (its second rename of main.cf.tmp) fails with EIO.
    await sb.runOk(fullTmpfs('/etc/postfix-b'));
    const before = await sb.readFile('/etc/postfix-a/main.cf');
    const r = await sb.run(`${failing('rename', '/etc/postfix-a/main.cf.tmp', ':when=2')} postfleet config set -i a -i b smtpd_banner=undo-banner`);
    expectRefusal(
      r,
      /^postfleet: cannot write \/etc\/postfix-b\/main\.cf\.tmp: No space left on device; undo incomplete: \/etc\/postfix-a\/main\.cf: cannot rename \/etc\/postfix-a\/main\.cf\.tmp to \/etc\/postfix-a\/main\.cf: Input\/output error$/,
    );
    expect(await sb.readFile('/etc/postfix-a/main.cf')).toBe(before.replace(/^smtpd_banner = .*$/m, 'smtpd_banner = undo-banner'));
    expect(await sb.readFile('/etc/postfix-b/main.cf')).not.toContain('undo-banner');
    expect(await sb.exists('/etc/postfix-a/main.cf.tmp')).toBe(false);
  });
});
