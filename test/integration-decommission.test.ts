/**
 * Decommissioning at fleet scale: destroy and deport of several names, of groups and of every
 * secondary, import of several directories, and apply's state = absent / deported — each one
 * transaction. Against the real postmulti where its single-instance semantics apply: one
 * sandbox runs postmulti -e once per instance, its twin runs postfleet once for all, and both
 * must end in the same state. Then, in one sandbox: dry runs, the JSON answer, the refusal of
 * a whole selection because of one member (each blocking instance named, nothing changed),
 * the order of the writes, and manifests applied twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefusal, treeSnapshot, twinStep } from './helpers/lifecycle.js';
import { requireIntegration, Sandbox, type RunResult } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

interface Answer {
  changed: boolean;
  dryRun: boolean;
  instances: Array<{ instance: string; action: string; changed: boolean; changes: string[] }>;
  diff: Array<{ path: string; unified: string }>;
  warnings: string[];
  failed: unknown[];
}

/**
 * strace -f output as "call path[ -> path]" lines of the calls that succeeded, in the order they
 * completed; a call another thread interrupted ("<unfinished ...>", later "<... rmdir resumed>")
 * is put together again (the removals of several instances run on libuv's threads).
 */
function tracedCalls(trace: string): string[] {
  const pending = new Map<string, string>();
  const calls: string[] = [];
  for (const line of trace.split('\n')) {
    const pid = /^\[pid\s+(\d+)\] /.exec(line)?.[1] ?? '';
    let body = line.replace(/^\[pid\s+\d+\] /, '');
    if (body.endsWith('<unfinished ...>')) {
      pending.set(pid, body.slice(0, -'<unfinished ...>'.length));
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(body);
    if (resumed) {
      body = (pending.get(pid) ?? '') + resumed[1];
      pending.delete(pid);
    }
    const m = /\b(rename|renameat2?|rmdir|unlink|unlinkat)\((.*)\) += 0$/.exec(body);
    if (m) calls.push(`${m[1]!.replace(/at2?$/, '')} ${[...m[2]!.matchAll(/"([^"]*)"/g)].map((p) => p[1]).join(' -> ')}`);
  }
  return calls;
}

const listed = async (sb: Sandbox): Promise<string> => (await sb.runOk('postconf -h multi_instance_directories alternate_config_directories')).stdout;

describe.runIf(requireIntegration())('decommissioning: postfleet once for all vs postmulti once per instance', () => {
  let ref: Sandbox; // postmulti
  let ours: Sandbox; // postfleet
  beforeAll(async () => {
    [ref, ours] = await Promise.all([Sandbox.create(), Sandbox.create()]);
  });
  afterAll(async () => {
    await Promise.all([ref?.dispose(), ours?.dispose()]);
  });

  /** postmulti -e ACTION for each instance in turn in one sandbox, one postfleet command in the other; then the same state. */
  async function step(name: string, postmulti: string, postfleet: string): Promise<RunResult> {
    const b = await twinStep(ref, ours, name, postmulti, postfleet);
    expect(b.stderr, `${name}: postfleet's stderr`).toBe('');
    return b;
  }

  const each = (action: string, names: readonly string[], extra = ''): string => names.map((n) => `postmulti -i ${n} -e ${action}${extra}`).join(' && ');

  it('deport of several names, import of several directories, destroy of a group and of several names, apply absent/deported', { timeout: budget(4 * 9) }, async () => {
    await step(
      'init and six instances',
      'postmulti -e init && for n in a b c; do postmulti -I postfix-$n -G web -e create; done && for n in d e f; do postmulti -I postfix-$n -e create; done',
      'postfleet -e init && postfleet create postfix-a postfix-b postfix-c -G web && postfleet create postfix-d postfix-e postfix-f',
    );

    // deport: names in any order, taken off the list in list order, each added to the alternates
    const deported = await step('deport of two names', each('deport', ['b', 'd']), 'postfleet deport d postfix-b');
    expect(deported.stdout).toBe(
      'deport postfix-b:\n  unregister /etc/postfix-b from /etc/postfix/main.cf (multi_instance_directories; added to alternate_config_directories)\n' +
        'deport postfix-d:\n  unregister /etc/postfix-d from /etc/postfix/main.cf (multi_instance_directories; added to alternate_config_directories)\n',
    );
    expect(await listed(ours)).toBe('/etc/postfix-a /etc/postfix-c /etc/postfix-e /etc/postfix-f\n/etc/postfix-b /etc/postfix-d\n');

    // import: several config directories, appended in the order given, dropped from the alternates
    await step(
      'import of two directories',
      'postmulti -e import config_directory=/etc/postfix-d && postmulti -e import config_directory=/etc/postfix-b',
      'postfleet import /etc/postfix-d /etc/postfix-b',
    );
    expect(await listed(ours)).toBe('/etc/postfix-a /etc/postfix-c /etc/postfix-e /etc/postfix-f /etc/postfix-d /etc/postfix-b\n\n');

    // destroy of a group: its members in list order (a, c, b), every file Postfix made for them gone
    const group = await step('destroy -g web', each('destroy', ['a', 'c', 'b']), 'postfleet destroy -g web');
    expect(group.stdout.split('\n').filter((l) => !l.startsWith('  '))).toEqual(['destroy postfix-a:', 'destroy postfix-c:', 'destroy postfix-b:', '']);
    for (const n of ['a', 'b', 'c']) for (const d of [`/etc/postfix-${n}`, `/var/spool/postfix-${n}`, `/var/lib/postfix-${n}`]) expect(await ours.exists(d), d).toBe(false);

    // several names, one of them by its config directory
    await step('destroy of two names', each('destroy', ['d', 'e']), 'postfleet destroy e /etc/postfix-d');
    expect(await listed(ours)).toBe('/etc/postfix-f\n\n');

    // import of several names (the config directory derived from each), deported again by a group
    await step('deport f', each('deport', ['f']), 'postfleet deport f');
    await step('re-create e', 'postmulti -I postfix-e -e create && postmulti -i e -e deport', 'postfleet create postfix-e && postfleet deport e');
    await step('import of two names', 'postmulti -I postfix-e -e import && postmulti -I postfix-f -G back -e import', 'postfleet import postfix-e && postfleet import postfix-f -G back');

    // apply: one absent, one deported, in one transaction; the same files as postmulti's destroy and deport
    await ours.writeFile('/etc/decommission.ini', '[postfix-e]\nstate = absent\n\n[postfix-f]\nstate = deported\n');
    const applied = await step('apply state = absent / deported', each('destroy', ['e']) + ' && ' + each('deport', ['f']), 'postfleet apply /etc/decommission.ini');
    expect(applied.stdout.split('\n').filter((l) => !l.startsWith('  '))).toEqual(['postfix-e: destroy', 'postfix-f: deport', '']);
    expect(await listed(ours)).toBe('\n/etc/postfix-f\n');
    // applied again: nothing to do, nothing touched
    const before = await treeSnapshot(ours);
    const again = await ours.run('postfleet apply /etc/decommission.ini --json');
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ changed: false, diff: [], warnings: [], failed: [] });
    expect(await treeSnapshot(ours)).toBe(before);
  });
});

describe.runIf(requireIntegration())('decommissioning: dry runs, refusals, one transaction', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk('postfleet init && postfleet create postfix-a postfix-b postfix-c -G web && postfleet create postfix-d postfix-e -G edge');
    await sb.backdate('/etc/postfix*/main.cf');
  });
  afterAll(async () => {
    await sb?.dispose();
  });

  it('--dry-run lists every instance and everything that would be removed, and changes nothing', async () => {
    const before = await treeSnapshot(sb);
    const r = await sb.run('postfleet destroy -g edge -g web --dry-run');
    expect(r.exitCode, r.stderr).toBe(0);
    const heads = r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('  '));
    expect(heads).toEqual(['would destroy postfix-a:', 'would destroy postfix-b:', 'would destroy postfix-c:', 'would destroy postfix-d:', 'would destroy postfix-e:']);
    for (const n of ['a', 'b', 'c', 'd', 'e']) {
      expect(r.stdout).toContain(`  unregister /etc/postfix-${n} from /etc/postfix/main.cf (multi_instance_directories)\n`);
      expect(r.stdout).toContain(`  rmdir /var/spool/postfix-${n}/maildrop\n  rmdir /var/spool/postfix-${n}/pid\n`);
      expect(r.stdout).toContain(`  rmdir /var/lib/postfix-${n}\n  rmdir /var/spool/postfix-${n}\n  remove /etc/postfix-${n}/master.cf\n  remove /etc/postfix-${n}/main.cf\n  rmdir /etc/postfix-${n}\n`);
    }
    const json = await sb.run('postfleet deport a postfix-d -n --json');
    expect(json.exitCode, json.stderr).toBe(0);
    const answer = JSON.parse(json.stdout) as Answer;
    expect(answer).toMatchObject({ changed: true, dryRun: true, warnings: [], failed: [] });
    expect(answer.instances.map((i) => [i.instance, i.action, i.changed])).toEqual([
      ['postfix-a', 'deport', true],
      ['postfix-d', 'deport', true],
    ]);
    expect(answer.diff.map((d) => d.path)).toEqual(['/etc/postfix/main.cf']);
    expect(answer.diff[0]!.unified).toMatch(/^\+multi_instance_directories = \/etc\/postfix-b \/etc\/postfix-c \/etc\/postfix-e\n\+alternate_config_directories = \/etc\/postfix-a \/etc\/postfix-d\n/m);
    expect(await treeSnapshot(sb)).toBe(before);
  });

  it('one enabled member refuses the whole selection; each blocking instance is named with its reason; nothing changes', { timeout: budget(16) }, async () => {
    await sb.runOk('postfleet enable postfix-b');
    await sb.backdate('/etc/postfix*/main.cf');
    const before = await treeSnapshot(sb);
    for (const cmd of ['postfleet destroy -g web', 'postfleet deport -g web', 'postfleet destroy -a', 'postfleet destroy a postfix-b c --json']) {
      const verb = cmd.split(' ')[1];
      const message = expectRefusal(await sb.run(cmd), 'postfix-b: enabled');
      expect(message, cmd).toMatch(new RegExp(`^postfleet: cannot ${verb} 1 of the \\d selected instances, nothing was changed: postfix-b: enabled$`));
      expect(await treeSnapshot(sb), `${cmd}: nothing changed`).toBe(before);
    }
    // Every reason at once: the primary, enabled, running, mail in the queue.
    await sb.runOk('postfix -c /etc/postfix-d start', { tty: true });
    await sb.runOk('umask 077; echo message > /var/spool/postfix-e/hold/ABC123; chown postfix /var/spool/postfix-e/hold/ABC123');
    try {
      const pid = (await sb.runOk('cat /var/spool/postfix-d/pid/master.pid')).stdout.trim();
      const all = await sb.run('postfleet destroy - -g web -g edge');
      expect(all.stderr).toBe(
        `postfleet: cannot destroy 4 of the 6 selected instances, nothing was changed: /etc/postfix: the primary instance; postfix-b: enabled; postfix-d: running (master pid ${pid}); postfix-e: 1 message(s) in its queue /var/spool/postfix-e\n`,
      );
      expect(all.exitCode).toBe(1);
      // deport minds no queue
      expectRefusal(await sb.run('postfleet deport -g edge -g web'), /^postfleet: cannot deport 2 of the 5 selected instances, nothing was changed: postfix-b: enabled; postfix-d: running \(master pid \d+\)$/);
      // one instance alone: postmulti's words
      expectRefusal(await sb.run('postfleet destroy e'), "postfleet: Instance '/etc/postfix-e' has 1 message(s) in its queue /var/spool/postfix-e");
    } finally {
      await sb.runOk('postfix -c /etc/postfix-d stop; rm /var/spool/postfix-e/hold/ABC123', { tty: true });
      await sb.runOk('postfleet disable b');
    }
  });

  it('bad selections name the value and change nothing', async () => {
    const before = await treeSnapshot(sb);
    const cases: Array<[string, string | RegExp]> = [
      ['postfleet destroy a nosuch', 'postfleet: No instance named nosuch'],
      ['postfleet destroy -g web -g nope', "postfleet: no instance in group 'nope'"],
      ['postfleet destroy', 'postfleet: name an instance, or select instances with --group or --all'],
      ['postfleet deport a -a', 'postfleet: give instances or --all, not both (got instance a, --all)'],
      ['postfleet destroy -a -g web', /--group/],
      ['postfleet destroy -g web --enabled', "postfleet: no enabled instance among those selected (--enabled: all 3 selected are disabled)"],
      ['postfleet import /etc/postfix-a /etc/postfix-nosuch', "postfleet: new config_directory=/etc/postfix-a is already in use by instance /etc/postfix-a, config_directory=/etc/postfix-a"],
      ['postfleet import /etc/postfix-x1 /etc/postfix-x2 --name postfix-y', 'postfleet: --name takes one instance, not 2 (/etc/postfix-x1 /etc/postfix-x2)'],
      ['printf "[postfix-a]\\nstate = gone\\n" | postfleet apply -', "postfleet: standard input [postfix-a]: state must be present, absent or deported, not 'gone'"],
    ];
    for (const [cmd, message] of cases) {
      const got = expectRefusal(await sb.run(cmd), message);
      if (typeof message === 'string') expect(got, cmd).toBe(message);
    }
    expect(await treeSnapshot(sb)).toBe(before);
  });

  it('destroys a group in one transaction: the primary main.cf written once, before any file is removed; one JSON answer', { timeout: budget(6) }, async () => {
    const r = await sb.run('strace -f -qq -e trace=rename,renameat,renameat2,rmdir,unlink,unlinkat postfleet destroy -g web --json 2>/tmp/trace');
    expect(r.exitCode, r.stderr).toBe(0);
    const answer = JSON.parse(r.stdout) as Answer;
    expect(answer).toMatchObject({ changed: true, dryRun: false, warnings: [], failed: [] });
    expect(answer.instances.map((i) => [i.instance, i.action, i.changed, i.changes.length])).toEqual([
      ['postfix-a', 'destroy', true, 20],
      ['postfix-b', 'destroy', true, 20],
      ['postfix-c', 'destroy', true, 20],
    ]);
    expect(answer.diff.map((d) => [d.path, d.unified.includes('\n+++ /dev/null\n')])).toEqual([
      ['/etc/postfix-a/main.cf', true],
      ['/etc/postfix-b/main.cf', true],
      ['/etc/postfix-c/main.cf', true],
      ['/etc/postfix/main.cf', false],
    ]);
    const calls = tracedCalls(await sb.readFile('/tmp/trace'));
    const primaryWrites = calls.filter((c) => c === 'rename /etc/postfix/main.cf.tmp -> /etc/postfix/main.cf');
    expect(primaryWrites, calls.join('\n')).toHaveLength(1);
    const removals = calls.filter((c) => /^(rmdir|unlink) \/(etc|var\/spool|var\/lib)\/postfix-[abc]/.test(c));
    expect(removals).toHaveLength(3 * 19);
    const written = calls.indexOf(primaryWrites[0]!);
    for (const c of removals) expect(calls.indexOf(c), `${c} after the primary main.cf`).toBeGreaterThan(written);
    expect(await listed(sb)).toBe('/etc/postfix-d /etc/postfix-e\n\n');
    expect((await sb.run('ls -d /etc/postfix-[abc] /var/spool/postfix-[abc] /var/lib/postfix-[abc] /etc/postfix/main.cf.tmp 2>/dev/null')).stdout).toBe('');
  });

  it('apply: state = absent / deported with the rest of the manifest in one transaction, refused whole for one that cannot go, then nothing to do', { timeout: budget(10) }, async () => {
    const manifest = '[postfix-d]\nstate = absent\n\n[postfix-n]\ngroup = new\n\n[postfix-e]\nstate = deported\n';
    await sb.writeFile('/etc/fleet.ini', manifest);
    await sb.runOk('postfleet enable e');
    await sb.backdate('/etc/postfix*/main.cf');
    const before = await treeSnapshot(sb);
    expectRefusal(await sb.run('postfleet apply /etc/fleet.ini'), 'postfleet: cannot remove 1 of the 2 instances the manifest removes, nothing was changed: postfix-e: enabled');
    // one removal alone: destroy's own words
    expectRefusal(await sb.run('printf "[postfix-n]\\n[postfix-e]\\nstate = absent\\n" | postfleet apply -'), 'postfleet: Cannot remove enabled instances: postfix-e is enabled');
    expect(await treeSnapshot(sb)).toBe(before);
    await sb.runOk('postfleet disable e');

    const dry = await sb.run('postfleet apply /etc/fleet.ini --dry-run');
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('  '))).toEqual(['postfix-d: would destroy', 'postfix-n: would create', 'postfix-e: would deport']);

    const first = await sb.run('postfleet apply /etc/fleet.ini --json');
    expect(first.exitCode, first.stderr).toBe(0);
    const answer = JSON.parse(first.stdout) as Answer;
    expect(answer.instances.map((i) => [i.instance, i.action, i.changed])).toEqual([
      ['postfix-d', 'destroy', true],
      ['postfix-n', 'create', true],
      ['postfix-e', 'deport', true],
    ]);
    expect(await listed(sb)).toBe('/etc/postfix-n\n/etc/postfix-e\n');
    expect(await sb.exists('/etc/postfix-d')).toBe(false);
    expect(await sb.exists('/etc/postfix-e/master.cf')).toBe(true);

    await sb.backdate('/etc/postfix*/main.cf');
    const settled = await treeSnapshot(sb);
    const second = await sb.run('postfleet apply /etc/fleet.ini');
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stdout).toBe('postfix-d: up to date\npostfix-n: up to date\npostfix-e: up to date\nnothing to change\n');
    expect(await treeSnapshot(sb)).toBe(settled);
  });

  it('import of several --config-directory values, in one transaction; a bad one refuses them all', async () => {
    await sb.runOk('postfleet deport n');
    await sb.backdate('/etc/postfix*/main.cf');
    const before = await treeSnapshot(sb);
    expectRefusal(await sb.run('postfleet import --config-directory /etc/postfix-e --config-directory /etc/postfix-nosuch'), "postfleet: '/etc/postfix-nosuch' lacks a main.cf file");
    expectRefusal(await sb.run('postfleet import --config-directory /etc/postfix-e --config-directory etc/x'), "postfleet: Parameter setting 'config_directory' is not an absolute path: 'etc/x'");
    expect(await treeSnapshot(sb)).toBe(before);
    const r = await sb.run('postfleet import --config-directory /etc/postfix-n --config-directory /etc/postfix-e -G back');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('  '))).toEqual(['import postfix-n:', 'import postfix-e:']);
    expect(await listed(sb)).toBe('/etc/postfix-n /etc/postfix-e\n\n');
    expect((await sb.runOk('postfleet -l -g back')).stdout).toBe('postfix-n       back            n         /etc/postfix-n\npostfix-e       back            n         /etc/postfix-e\n');
  });
});
