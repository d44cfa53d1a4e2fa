/**
 * apply: a manifest is made true on a real machine, a second run changes
 * nothing and says so, --dry-run and a bad manifest leave every file as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeSnapshot, withoutDirectoryTimes } from './helpers/lifecycle.js';
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
    const report = JSON.parse(first.stdout) as { changed: boolean; instances: Array<{ instance: string; action: string; changed: boolean }> };
    expect(report.changed).toBe(true);
    expect(report.instances.map((o) => [o.instance, o.action, o.changed])).toEqual([
      ['postfix-out', 'create', true],
      ['postfix-in', 'create', true],
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
    // the manifest from standard input, as a caller (Ansible) gives it: one answer, changed false
    const again = await sb.run('postfleet apply - --json < /etc/fleet.ini');
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ changed: false, dryRun: false, diff: [], failed: [] });
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

  it('prints the check errors that new instances add (a shared maillog_file), with --dry-run too', async () => {
    await sb.writeFile('/etc/shared.ini', '[postfix-l1]\nset.maillog_file = /var/log/shared.log\n\n[postfix-l2]\nset.maillog_file = /var/log/shared.log\n');
    for (const flags of ['--dry-run --json', '--json']) {
      const r = await sb.run(`postfleet apply /etc/shared.ini ${flags}`);
      expect(r.exitCode, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { changed: boolean; problems: Array<{ severity: string; instances: string[]; message: string }> };
      expect(report.changed).toBe(true);
      expect(report.problems.length, r.stderr).toBeGreaterThan(0);
      expect(report.problems.every((p) => p.severity === 'error')).toBe(true);
      expect(report.problems.some((p) => p.instances.includes('postfix-l1') && p.instances.includes('postfix-l2') && p.message.includes('/var/log/shared.log'))).toBe(true);
      expect(r.stderr).toMatch(/^postfleet: warning: check: .*\/var\/log\/shared\.log/m);
    }
    // applied, nothing is added any more
    const again = JSON.parse((await sb.runOk('postfleet apply /etc/shared.ini --json')).stdout) as { changed: boolean; problems: unknown[] };
    expect(again).toMatchObject({ changed: false, problems: [] });
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
    expect(dry.stdout).toMatch(/^would create postfix-s1:\n[^]*would create postfix-s2:\n[^]*register \/etc\/postfix-s2 in \/etc\/postfix\/main\.cf \(multi_instance_directories\)\n$/);
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
    expect((JSON.parse(made.stdout) as { instances: Array<{ instance: string; action: string }> }).instances.map((r) => `${r.action} ${r.instance}`)).toEqual(['create postfix-s1', 'create postfix-s2', 'create postfix-s3']);
    const dirs = (await sb.runOk('postconf -h multi_instance_directories')).stdout.trim().split(/\s+/);
    expect(dirs.slice(-3)).toEqual(['/etc/postfix-s1', '/etc/postfix-s2', '/etc/postfix-s3']);
    expect((await sb.runOk('postmulti -l -g multi')).stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[2])).toEqual(['n', 'n', 'n']);
  });

  it('makes new instances in one transaction: many at once, and a failure midway undoes them all', { timeout: budget(16) }, async () => {
    const many = Array.from({ length: 30 }, (_, k) => `[postfix-m${k}]\ngroup = many\nenabled = ${k % 2 ? 'yes' : 'no'}\n`).join('\n');
    await sb.writeFile('/etc/many.ini', many);
    const made = await sb.run('postfleet apply /etc/many.ini --json');
    expect(made.exitCode, made.stderr).toBe(0);
    const report = JSON.parse(made.stdout) as { changed: boolean; instances: Array<{ instance: string; action: string; changes: string[] }> };
    expect(report.changed).toBe(true);
    expect(report.instances.map((o) => o.instance)).toEqual(Array.from({ length: 30 }, (_, k) => `postfix-m${k}`));
    expect(report.instances.every((o) => o.action === 'create' && o.changes.includes(`register /etc/${o.instance} in /etc/postfix/main.cf (multi_instance_directories)`))).toBe(true);
    // registered in manifest order, after the instances there were, each complete and as asked
    const list = (await sb.runOk('postmulti -l -g many')).stdout.trim().split('\n');
    expect(list.map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual(Array.from({ length: 30 }, (_, k) => `postfix-m${k} many ${k % 2 ? 'y' : 'n'}`));
    const dirs = (await sb.runOk('postconf -h multi_instance_directories')).stdout.trim().split(/\s+/);
    expect(dirs.slice(-30)).toEqual(Array.from({ length: 30 }, (_, k) => `/etc/postfix-m${k}`));
    expect(dirs).toHaveLength(37);
    await sb.backdate('/etc/postfix-m*/main.cf');
    expect((await sb.runOk('postfix -c /etc/postfix-m29 check && echo ok')).stdout).toBe('ok\n');

    // mkdir of the second new instance's data directory fails (its parent is a file): the
    // first one's directories and files, already made, are removed again; nothing registered.
    await sb.writeFile('/etc/failing.ini', '[postfix-f1]\n\n[postfix-f2]\ndata_directory = /etc/postfix/main.cf/f2\n');
    const before = withoutDirectoryTimes(await treeSnapshot(sb));
    const r = await sb.run('postfleet apply /etc/failing.ini');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/^postfleet: [^\n]*\/etc\/postfix\/main.cf\/f2[^\n]*\n$/);
    expect(withoutDirectoryTimes(await treeSnapshot(sb))).toBe(before);
    expect(await sb.run('ls -d /etc/postfix-f1 /var/spool/postfix-f1 /var/lib/postfix-f1')).toMatchObject({ stdout: '' });
  });
});
