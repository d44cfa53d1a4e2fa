/**
 * enable / disable of several instances at once (a postfleet extra): names, --group, --all.
 * Bad input changes nothing; a broken instance that --all selects is reported and skipped
 * while the others are changed; the result equals what one postmulti -e per instance leaves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeSnapshot } from './helpers/lifecycle.js';
import { requireIntegration, Sandbox } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

const enabledColumn = (listing: string): string[] => listing.trim().split('\n').map((l) => l.split(/\s+/).slice(0, 3).join(' '));

describe.runIf(requireIntegration())('enable / disable of several instances', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk(
      'postfleet init && postfleet create postfix-a -G mta && postfleet create postfix-b -G mta && postfleet create postfix-c -G edge && postfleet create postfix-d',
    );
  });
  afterAll(async () => {
    await sb?.dispose();
  });

  it('bad input names the value and changes nothing', async () => {
    const before = await treeSnapshot(sb);
    const cases: Array<[string, RegExp]> = [
      ['postfleet enable a nosuch', /^postfleet: No instance named nosuch\n$/],
      ['postfleet enable -g nope', /^postfleet: no instance in group 'nope'\n$/],
      ['postfleet enable a -g mta', /^postfleet: give instances, --group or --all, not several of them \(got instance a, --group mta\)\n$/],
      ['postfleet disable -a -g mta', /^postfleet: [^\n]*--group[^\n]*\n$/],
      ['postfleet enable', /^postfleet: name an instance, or select instances with --group or --all\n$/],
      ['postfleet enable a --bogus', /^postfleet: Nonexistent flag: --bogus\n$/],
    ];
    for (const [command, error] of cases) {
      const r = await sb.run(command);
      expect(r.exitCode, command).not.toBe(0);
      expect(r.stdout, command).toBe('');
      expect(r.stderr, command).toMatch(error);
    }
    expect(await treeSnapshot(sb)).toBe(before);
  });

  it('--dry-run lists each instance and changes nothing', async () => {
    const before = await treeSnapshot(sb);
    const r = await sb.run('postfleet enable a c b --dry-run');
    expect(r.exitCode, r.stderr).toBe(0);
    // list order, not argument order
    expect(r.stdout).toBe(
      'would enable postfix-a:\n  edit /etc/postfix-a/main.cf: multi_instance_enable = yes\n' +
        'would enable postfix-b:\n  edit /etc/postfix-b/main.cf: multi_instance_enable = yes\n' +
        'would enable postfix-c:\n  edit /etc/postfix-c/main.cf: multi_instance_enable = yes\n',
    );
    expect(await treeSnapshot(sb)).toBe(before);
  });

  it('names, a group, all: every selected main.cf edited, the others untouched', { timeout: budget(16) }, async () => {
    const untouched = await sb.runOk('cat /etc/postfix-c/main.cf /etc/postfix-d/main.cf');
    const group = await sb.run('postfleet enable -g mta --json');
    expect(group.exitCode, group.stderr).toBe(0);
    const outcome = JSON.parse(group.stdout) as { changed: boolean; instances: Array<{ instance: string; changed: boolean }>; failed: unknown[] };
    expect(outcome.changed).toBe(true);
    expect(outcome.instances.map((r) => [r.instance, r.changed])).toEqual([
      ['postfix-a', true],
      ['postfix-b', true],
    ]);
    expect(outcome.failed).toEqual([]);
    expect((await sb.runOk('cat /etc/postfix-c/main.cf /etc/postfix-d/main.cf')).stdout).toBe(untouched.stdout);
    await sb.backdate('/etc/postfix*/main.cf');
    expect((await sb.runOk('postconf -c /etc/postfix-a -h multi_instance_enable; postconf -c /etc/postfix-b -h multi_instance_enable')).stdout).toBe('yes\nyes\n');

    // Names: each once, whatever the repetition; one already enabled is no change.
    const names = await sb.run('postfleet enable d a postfix-d');
    expect(names.exitCode, names.stderr).toBe(0);
    expect(names.stdout).toBe('enable postfix-a: nothing to change\nenable postfix-d:\n  edit /etc/postfix-d/main.cf: multi_instance_enable = yes\n');

    // --all: every secondary; the primary keeps the multi_instance_enable = yes of init.
    const all = await sb.run('postfleet disable --all');
    expect(all.exitCode, all.stderr).toBe(0);
    expect(enabledColumn((await sb.runOk('postfleet -l')).stdout)).toEqual(['- - y', 'postfix-a mta n', 'postfix-b mta n', 'postfix-c edge n', 'postfix-d - n']);
    await sb.runOk('postfleet enable -a');
    expect(enabledColumn((await sb.runOk('postfleet -l')).stdout)).toEqual(['- - y', 'postfix-a mta y', 'postfix-b mta y', 'postfix-c edge y', 'postfix-d - y']);
    // What is left is what postconf -e would leave: the setting replaced where it stands.
    await sb.backdate('/etc/postfix*/main.cf');
    for (const d of ['/etc/postfix', '/etc/postfix-a', '/etc/postfix-d']) {
      expect((await sb.runOk(`postconf -c ${d} -h multi_instance_enable`)).stdout).toBe('yes\n');
      expect((await sb.runOk(`grep -c '^multi_instance_enable' ${d}/main.cf`)).stdout).toBe('1\n');
    }
    expect(await sb.run('ls /etc/postfix*/main.cf.tmp /etc/postfix*/*.postfleet* 2>/dev/null')).toMatchObject({ stdout: '' });
  });

  it('--all skips a broken instance, reports it, changes the others, exits 1', async () => {
    await sb.runOk('postfleet disable -g mta && cp -p /etc/postfix-b/main.cf /etc/postfix-b/main.cf.saved && echo "multi_instance_enable = maybe" >> /etc/postfix-b/main.cf');
    try {
      const brokenBefore = await sb.readFile('/etc/postfix-b/main.cf');
      const r = await sb.run('postfleet disable --all --json');
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/^postfleet: skipping instance \/etc\/postfix-b: [^\n]*maybe[^\n]*\n/);
      const outcome = JSON.parse(r.stdout) as { instances: Array<{ instance: string | null }>; failed: Array<{ configDirectory: string }> };
      expect(outcome.instances.map((x) => x.instance)).toEqual(['postfix-a', 'postfix-c', 'postfix-d']);
      expect(outcome.failed.map((f) => f.configDirectory)).toEqual(['/etc/postfix-b']);
      expect(await sb.readFile('/etc/postfix-b/main.cf')).toBe(brokenBefore);
      expect(enabledColumn((await sb.run('postfleet -l -g edge')).stdout)).toEqual(['postfix-c edge n']);
      // Named, a broken instance is refused outright and nothing changes.
      const before = await treeSnapshot(sb);
      const named = await sb.run('postfleet enable a /etc/postfix-b');
      expect(named.exitCode).toBe(1);
      expect(named.stderr).toMatch(/^postfleet: instance \/etc\/postfix-b is broken: [^\n]*\n$/);
      expect(await treeSnapshot(sb)).toBe(before);
    } finally {
      await sb.runOk('mv /etc/postfix-b/main.cf.saved /etc/postfix-b/main.cf');
    }
  });
});
