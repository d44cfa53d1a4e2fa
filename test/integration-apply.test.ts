/**
 * apply: a manifest is made true on a real machine, a second run changes
 * nothing and says so, --dry-run and a bad manifest leave every file as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeSnapshot } from './helpers/lifecycle.js';
import { requireIntegration, Sandbox } from './helpers/sandbox.js';

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

  it('refuses a manifest with an unknown key, a duplicate instance or an unknown template, changing nothing', async () => {
    const cases: Array<[string, RegExp]> = [
      ['[postfix-x]\nbogus = 1\n', /unknown key 'bogus'/],
      ['[postfix-x]\ngroup = a\n[postfix-x]\n', /duplicate instance \[postfix-x\]/],
      ['[postfix-x]\ntemplate = nope\n', /unknown template 'nope'/],
      ['[postfix-x]\ntemplate = null-client\n', /needs --set relayhost=VALUE/],
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
});
