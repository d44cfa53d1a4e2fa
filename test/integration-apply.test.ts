/**
 * apply: a manifest is made true on a real machine, a second run changes
 * nothing and says so, --dry-run and a bad manifest leave every file as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeSnapshot } from './helpers/lifecycle.js';
import { requireIntegration, Sandbox } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

const MANIFEST = `; the fleet
[postfix-out]
group = mta
enabled = yes
template = null-client
set.relayhost = [relay.example.com]

[postfix-in]
group = mta
set.myhostname = in.example.com
`;

describe.runIf(requireIntegration())('apply', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk('postfleet init');
    await sb.writeFile('/etc/fleet.ini', MANIFEST);
  });
  afterAll(async () => {
    await sb?.dispose();
  });

  it('--dry-run shows the plan and changes nothing', async () => {
    const before = await treeSnapshot(sb);
    const r = await sb.run('postfleet apply /etc/fleet.ini --dry-run');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('postfix-out: would create');
    expect(r.stdout).toContain('postfix-in: would create');
    expect(await treeSnapshot(sb)).toBe(before);
  });

  it('creates what is missing, then a second run changes nothing', async () => {
    const first = await sb.run('postfleet apply /etc/fleet.ini --json');
    expect(first.exitCode, first.stderr).toBe(0);
    const outcomes = JSON.parse(first.stdout) as Array<{ instance: string; created: boolean; changed: boolean }>;
    expect(outcomes.map((o) => [o.instance, o.created, o.changed])).toEqual([
      ['postfix-out', true, true],
      ['postfix-in', true, true],
    ]);
    const list = await sb.runOk('postfleet -l');
    expect(list.stdout).toBe(
      '-               -               y         /etc/postfix\n' +
        'postfix-out     mta             y         /etc/postfix-out\n' +
        'postfix-in      mta             n         /etc/postfix-in\n',
    );
    await sb.backdate('/etc/postfix-*/main.cf');
    const values = await sb.runOk('postconf -c /etc/postfix-out -h relayhost inet_interfaces && postconf -c /etc/postfix-in -h myhostname');
    expect(values.stdout).toBe('[relay.example.com]\nloopback-only\nin.example.com\n');

    const before = await treeSnapshot(sb);
    const second = await sb.run('postfleet apply /etc/fleet.ini');
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stdout).toBe('postfix-out: up to date\npostfix-in: up to date\nnothing to change\n');
    expect(await treeSnapshot(sb)).toBe(before);
  });

  it('brings existing instances in line: group, enabled, parameters', async () => {
    await sb.writeFile('/etc/fleet.ini', MANIFEST.replace(/group = mta/g, 'group = edge').replace('enabled = yes', 'enabled = no').replace('in.example.com', 'mx.example.com'));
    const r = await sb.run('postfleet apply /etc/fleet.ini');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('postfix-out: update');
    expect(r.stdout).toContain('edit /etc/postfix-in/main.cf: myhostname = mx.example.com');
    const list = await sb.runOk('postfleet -l');
    expect(list.stdout).toContain('postfix-out     edge            n         /etc/postfix-out\n');
    expect(list.stdout).toContain('postfix-in      edge            n         /etc/postfix-in\n');
    expect((await sb.runOk('postfleet apply /etc/fleet.ini')).stdout).toContain('nothing to change');
  });

  // five manifests, each: written, two snapshots and a run (123 s was too little with two suites at once)
  it('refuses a manifest with an unknown key, a duplicate instance or an unknown template, changing nothing', { timeout: budget(5 * 3) }, async () => {
    const cases: Array<[string, RegExp]> = [
      ['[postfix-x]\nbogus = 1\n', /unknown key 'bogus'/],
      ['[postfix-x]\ngroup = a\n[postfix-x]\n', /duplicate instance \[postfix-x\]/],
      ['[postfix-x]\ntemplate = nope\n', /unknown template 'nope'/],
      ['[postfix-x]\ntemplate = null-client\n', /needs --set relayhost=VALUE/],
      // new instances are planned together: one that clashes with another refuses them all
      ['[postfix-x]\n[postfix-y]\nqueue_directory = /var/spool/postfix-x\n', /queue_directory=\/var\/spool\/postfix-x/],
    ];
    for (const [text, message] of cases) {
      await sb.writeFile('/etc/bad.ini', text);
      const before = await treeSnapshot(sb);
      const r = await sb.run('postfleet apply /etc/bad.ini');
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(await treeSnapshot(sb)).toBe(before);
    }
  });

  it('create of several names: one transaction, appended in order; single-instance flags refused', { timeout: budget(16) }, async () => {
    const before = await treeSnapshot(sb);
    const dry = await sb.run('postfleet create postfix-s1 postfix-s2 --group multi --dry-run');
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^would create postfix-s1:\n[^]*would create postfix-s2:\n[^]*multi_instance_directories \+= \/etc\/postfix-s2\n$/);
    const refused: Array<[string, string]> = [
      ['postfleet create postfix-s1 postfix-s2 --first', 'postfleet: --first takes one instance, not 2 (postfix-s1 postfix-s2)\n'],
      ['postfleet create postfix-s1 postfix-s2 --queue-directory /var/spool/s', 'postfleet: --queue-directory takes one instance, not 2 (postfix-s1 postfix-s2)\n'],
      ['postfleet create postfix-s1 s2', "postfleet: New instance name must start with 'postfix-': 's2'\n"],
      ['postfleet create postfix-s1 postfix-s1', 'postfleet: new config_directory=/etc/postfix-s1 is already in use by instance /etc/postfix-s1, config_directory=/etc/postfix-s1\n'],
    ];
    for (const [command, error] of refused) {
      const r = await sb.run(command);
      expect(r.exitCode, command).not.toBe(0);
      expect(r.stderr, command).toBe(error);
    }
    expect(await treeSnapshot(sb)).toBe(before);

    const made = await sb.run('postfleet create postfix-s1 postfix-s2 postfix-s3 --group multi --json');
    expect(made.exitCode, made.stderr).toBe(0);
    expect((JSON.parse(made.stdout) as Array<{ instance: string; action: string }>).map((r) => `${r.action} ${r.instance}`)).toEqual(['create postfix-s1', 'create postfix-s2', 'create postfix-s3']);
    const dirs = (await sb.runOk('postconf -h multi_instance_directories')).stdout.trim().split(/\s+/);
    expect(dirs.slice(-3)).toEqual(['/etc/postfix-s1', '/etc/postfix-s2', '/etc/postfix-s3']);
    expect((await sb.runOk('postmulti -l -g multi')).stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[2])).toEqual(['n', 'n', 'n']);
  });

  it('makes new instances in one transaction: many at once, and a failure midway undoes them all', { timeout: budget(16) }, async () => {
    const many = Array.from({ length: 30 }, (_, k) => `[postfix-m${k}]\ngroup = many\nenabled = ${k % 2 ? 'yes' : 'no'}\n`).join('\n');
    await sb.writeFile('/etc/many.ini', many);
    const made = await sb.run('postfleet apply /etc/many.ini --json');
    expect(made.exitCode, made.stderr).toBe(0);
    const outcomes = JSON.parse(made.stdout) as Array<{ instance: string; created: boolean; changes: string[] }>;
    expect(outcomes.map((o) => o.instance)).toEqual(Array.from({ length: 30 }, (_, k) => `postfix-m${k}`));
    expect(outcomes.every((o) => o.created && o.changes.includes(`edit /etc/postfix/main.cf: multi_instance_directories += /etc/${o.instance}`))).toBe(true);
    // registered in manifest order, after the instances there were, each complete and as asked
    const list = (await sb.runOk('postmulti -l -g many')).stdout.trim().split('\n');
    expect(list.map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual(Array.from({ length: 30 }, (_, k) => `postfix-m${k} many ${k % 2 ? 'y' : 'n'}`));
    const dirs = (await sb.runOk('postconf -h multi_instance_directories')).stdout.trim().split(/\s+/);
    expect(dirs.slice(-30)).toEqual(Array.from({ length: 30 }, (_, k) => `/etc/postfix-m${k}`));
    expect(dirs).toHaveLength(35);
    await sb.backdate('/etc/postfix-m*/main.cf');
    expect((await sb.runOk('postfix -c /etc/postfix-m29 check && echo ok')).stdout).toBe('ok\n');

    // mkdir of the second new instance's data directory fails (its parent is a file): the
    // first one's directories and files, already made, are removed again; nothing registered.
    await sb.writeFile('/etc/failing.ini', '[postfix-f1]\n\n[postfix-f2]\ndata_directory = /etc/postfix/main.cf/f2\n');
    // Directories made and removed again leave their parents with a new mtime, nothing else.
    const withoutDirectoryTimes = (tree: string): string =>
      tree
        .split('\n')
        .map((l) => l.replace(/^(d \S+ \S+ \S+) \S+ /, '$1 '))
        .sort()
        .join('\n');
    const before = withoutDirectoryTimes(await treeSnapshot(sb));
    const r = await sb.run('postfleet apply /etc/failing.ini');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/^postfleet: [^\n]*\/etc\/postfix\/main.cf\/f2[^\n]*\n$/);
    expect(withoutDirectoryTimes(await treeSnapshot(sb))).toBe(before);
    expect(await sb.run('ls -d /etc/postfix-f1 /var/spool/postfix-f1 /var/lib/postfix-f1')).toMatchObject({ stdout: '' });
  });
});
