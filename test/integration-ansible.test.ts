/**
 * The collection postfleet.fleet driven by the real ansible-playbook (connection: local)
 * inside a sandbox with the real Postfix: a fleet is created, a second run changes nothing,
 * --check after the playbook changed reports the change and leaves every file byte-identical,
 * --diff shows the main.cf lines, the postfix module starts and stops masters only when
 * needed, and state: absent refuses an enabled instance with postfleet's reason, and with
 * force removes it without touching a message queued elsewhere; the manifest module's
 * state: absent / deported removes instances in one transaction, once.
 *
 * The tests of this file build on each other, in order (one sandbox, one fleet).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnsibleInSandbox, buildCollection, requireAnsible, type BuiltCollection, type PlaybookResult } from './helpers/ansible.js';
import { treeSnapshot } from './helpers/lifecycle.js';
import { requireIntegration, Sandbox, shq } from './helpers/sandbox.js';

const RUN = requireIntegration() && requireAnsible();

/** A task that saves what earlier tasks registered, also in check mode, changing nothing the recap counts. */
function saveTask(file: string, vars: readonly string[]): string {
  return `
    - name: save what the modules returned
      ansible.builtin.copy:
        content: "{{ { ${vars.map((v) => `'${v}': ${v}`).join(', ')} } | to_nice_json }}"
        dest: "{{ results }}/${file}"
      check_mode: false
      diff: false
      changed_when: false
`;
}

const FLEET_V1 = `
- hosts: all
  tasks:
    - name: the fleet
      postfleet.fleet.manifest:
        content:
          postfix-out:
            group: mta
            enabled: true
            template: null-client
            settings:
              relayhost: '[relay.example.com]:587'
          postfix-in:
            group: mta
            settings:
              myhostname: in.example.com
              authorized_submit_users: root
      register: fleet
    - name: one more instance
      postfleet.fleet.instance:
        name: postfix-extra
        group: edge
        settings:
          smtpd_banner: '$myhostname ESMTP; extra # not a comment'
      register: extra
${saveTask('fleet.json', ['fleet', 'extra'])}`;

/** The playbook changed: postfix-in renamed host and enabled, a new instance, a new banner. */
const FLEET_V2 = FLEET_V1.replace('myhostname: in.example.com', 'myhostname: mx.example.com')
  .replace(/( {10}postfix-in:\n {12}group: mta\n)/, '$1            enabled: true\n')
  .replace('      register: fleet', '          postfix-new:\n            group: edge\n      register: fleet')
  .replace('ESMTP; extra', 'ESMTP; renamed');

/**
 * treeSnapshot() without the queue and data directories of instances whose master runs:
 * a running master touches its own files (fifos, pid) whenever it likes.
 */
async function snapshotBesides(sb: Sandbox, running: readonly string[]): Promise<string> {
  const prune = running.flatMap((n) => [`/var/spool/${n}`, `/var/lib/${n}`]).map((d) => `-path ${shq(d)} -prune -o`).join(' ');
  const r = await sb.runOk(String.raw`
shopt -s nullglob
find /etc /var/spool /var/lib -xdev ${prune} -printf '%y %M %u:%g %s %T@ %p
' | LC_ALL=C sort
find /etc/postfix* /var/spool/postfix* /var/lib/postfix* -xdev ${prune} -type f -print0 | LC_ALL=C sort -z | xargs -0 -r md5sum
`);
  return r.stdout;
}

/** Whether a process lives (a zombie does not count). */
async function alive(sb: Sandbox, pid: number): Promise<boolean> {
  const r = await sb.run(`awk '{ print $3 }' /proc/${pid}/stat 2>/dev/null`);
  return r.stdout.trim() !== '' && r.stdout.trim() !== 'Z';
}

interface ModuleResult {
  changed: boolean;
  failed?: boolean;
  msg?: string;
  instances: Array<{ instance: string; action: string; changed: boolean; changes: string[] }>;
  diff?: unknown;
}

// Each test runs ansible-playbook two or three times (5-60 s each on an idle machine; far more with suites side by side).
describe.runIf(RUN)('ansible: postfleet.fleet on one host', { timeout: 900_000 }, () => {
  let sb: Sandbox;
  let coll: BuiltCollection;
  let an: AnsibleInSandbox;

  const play = async (name: string, opts: Parameters<AnsibleInSandbox['playbook']>[1] = {}): Promise<PlaybookResult> =>
    an.playbook(name, { ...opts, extraArgs: ['-e', `results=${an.resultsDir()}`, ...(opts.extraArgs ?? [])] });
  const saved = async <T = Record<string, ModuleResult>>(file: string): Promise<T> =>
    JSON.parse(await readFile(path.join(an.resultsDir(), file), 'utf8')) as T;
  const show = (r: PlaybookResult): string => `exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`;

  beforeAll(async () => {
    [coll, sb] = await Promise.all([buildCollection(), Sandbox.create()]);
    an = await AnsibleInSandbox.create(sb, coll);
    await sb.runOk('postfleet init');
    await sb.backdate('/etc/postfix/main.cf');
    await an.write('fleet.yml', FLEET_V1);
  }, 300_000);
  afterAll(async () => {
    await sb?.dispose();
    coll?.dispose();
  });

  it('a first run creates the fleet, a second run changes nothing', async () => {
    const first = await play('fleet.yml');
    expect(first.exitCode, show(first)).toBe(0);
    expect(first.recap.localhost).toMatchObject({ changed: 2, failed: 0 });
    const r = await saved('fleet.json');
    expect(r.fleet!.changed).toBe(true);
    expect(r.fleet!.instances.map((i) => [i.instance, i.changed])).toEqual([
      ['postfix-out', true],
      ['postfix-in', true],
    ]);
    expect(r.extra!.changed).toBe(true);
    expect((await sb.runOk('postfleet -l')).stdout).toBe(
      '-               -               y         /etc/postfix\n' +
        'postfix-out     mta             y         /etc/postfix-out\n' +
        'postfix-in      mta             n         /etc/postfix-in\n' +
        'postfix-extra   edge            n         /etc/postfix-extra\n',
    );
    await sb.backdate('/etc/postfix*/main.cf');
    const values = await sb.runOk(
      'postconf -c /etc/postfix-out -h relayhost && postconf -c /etc/postfix-in -h myhostname && postconf -c /etc/postfix-extra -h smtpd_banner',
    );
    expect(values.stdout).toBe('[relay.example.com]:587\nin.example.com\n$myhostname ESMTP; extra # not a comment\n');

    const before = await treeSnapshot(sb);
    const second = await play('fleet.yml');
    expect(second.exitCode, show(second)).toBe(0);
    expect(second.recap.localhost).toMatchObject({ changed: 0, failed: 0 });
    const again = await saved('fleet.json');
    expect(again.fleet!.changed).toBe(false);
    expect(again.fleet!.instances.map((i) => [i.instance, i.changed])).toEqual([
      ['postfix-out', false],
      ['postfix-in', false],
    ]);
    expect(again.extra!.changed).toBe(false);
    expect(await treeSnapshot(sb)).toBe(before);
  });

  it('--check after the playbook changed reports the change, with the main.cf lines, and leaves every file byte-identical', async () => {
    await an.write('fleet.yml', FLEET_V2);
    const before = await treeSnapshot(sb);
    const r = await play('fleet.yml', { check: true, diff: true });
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.recap.localhost).toMatchObject({ changed: 2, failed: 0 });
    expect(await treeSnapshot(sb)).toBe(before);

    const s = await saved('fleet.json');
    expect(s.fleet!.changed).toBe(true);
    expect(s.fleet!.instances.map((i) => [i.instance, i.changed])).toEqual([
      ['postfix-out', false],
      ['postfix-in', true],
      ['postfix-new', true],
    ]);
    expect(s.fleet!.instances[1]!.changes).toEqual(expect.arrayContaining([expect.stringContaining('myhostname = mx.example.com')]));
    expect(s.extra!.changed).toBe(true);
    // The diff of ansible-playbook --diff: each main.cf with its header, lines - and +.
    expect(r.stdout).toContain('--- before: /etc/postfix-in/main.cf');
    expect(r.stdout).toContain('+++ after: /etc/postfix-in/main.cf');
    expect(r.stdout).toMatch(/^-myhostname = in\.example\.com$/m);
    expect(r.stdout).toMatch(/^\+myhostname = mx\.example\.com$/m);
    // A new instance is disabled by postfix's default (no line): enabling adds one.
    expect(r.stdout).not.toMatch(/^-multi_instance_enable/m);
    expect(r.stdout).toMatch(/^\+multi_instance_enable = yes$/m);
    expect(r.stdout).toContain('+++ after: /etc/postfix-new/main.cf');
    expect(r.stdout).toMatch(/^\+smtpd_banner = \$myhostname ESMTP; renamed # not a comment$/m);
  });

  it('--diff shows the main.cf lines of a real run, which makes the change; then nothing is left to change', async () => {
    const r = await play('fleet.yml', { diff: true });
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.recap.localhost).toMatchObject({ changed: 2, failed: 0 });
    expect(r.stdout).toMatch(/^-myhostname = in\.example\.com$/m);
    expect(r.stdout).toMatch(/^\+myhostname = mx\.example\.com$/m);
    await sb.backdate('/etc/postfix*/main.cf');
    expect((await sb.runOk('postconf -c /etc/postfix-in -h myhostname multi_instance_enable')).stdout).toBe('mx.example.com\nyes\n');
    expect((await sb.runOk('postfleet -l -i postfix-new')).stdout).toBe('postfix-new     edge            n         /etc/postfix-new\n');

    const before = await treeSnapshot(sb);
    const again = await play('fleet.yml', { diff: true });
    expect(again.exitCode, show(again)).toBe(0);
    expect(again.recap.localhost).toMatchObject({ changed: 0, failed: 0 });
    expect(again.stdout).not.toContain('--- before');
    expect(await treeSnapshot(sb)).toBe(before);
  });

  it('postfleet.fleet.postfix starts only what is stopped, and info reports the masters', async () => {
    await an.write(
      'start.yml',
      `
- hosts: all
  tasks:
    - postfleet.fleet.postfix:
        name: postfix-out
        state: started
      register: start
    - postfleet.fleet.info:
        group: mta
      register: info
${saveTask('start.json', ['start', 'info', 'postfleet_instances'])}`,
    );
    const first = await play('start.yml');
    expect(first.exitCode, show(first)).toBe(0);
    expect(first.recap.localhost).toMatchObject({ changed: 1, failed: 0 });
    type Master = { running: boolean; pid: number | null };
    const s = await saved<{
      start: { changed: boolean; instances: Array<{ instance: string; before: Master; after: Master; changed: boolean }> };
      info: { changed: boolean; instances: Array<{ instance: string; running: boolean; pid: number | null; enabled: boolean }> };
      postfleet_instances: unknown[];
    }>('start.json');
    const out = s.start.instances[0]!;
    expect(out).toMatchObject({ instance: 'postfix-out', changed: true, before: { running: false, pid: null }, after: { running: true } });
    const status = JSON.parse((await sb.runOk('postfleet status -g mta --json')).stdout) as Array<{ instance: string; running: boolean; pid: number | null }>;
    expect(status.map((x) => [x.instance, x.running, x.pid])).toEqual([
      ['postfix-out', true, out.after.pid],
      ['postfix-in', false, null],
    ]);
    expect(s.info.changed).toBe(false);
    expect(s.info.instances.map((x) => [x.instance, x.enabled, x.running, x.pid])).toEqual([
      ['postfix-out', true, true, out.after.pid],
      ['postfix-in', true, false, null],
    ]);
    expect(s.postfleet_instances).toEqual(s.info.instances);

    const second = await play('start.yml');
    expect(second.exitCode, show(second)).toBe(0);
    expect(second.recap.localhost).toMatchObject({ changed: 0, failed: 0 });
    const s2 = await saved<{ start: { instances: Array<{ after: Master }> } }>('start.json');
    expect(s2.start.instances[0]!.after.pid).toBe(out.after.pid);
  });

  it("a postfleet failure fails the task with postfleet's one-line message and changes nothing; src applies a manifest file on the host", async () => {
    const direct = await sb.run("printf '[postfix-bad]\\ntemplate = no-such-template\\n' | postfleet apply -");
    expect(direct.exitCode).not.toBe(0);
    const reason = direct.stderr.trim();
    expect(reason).toMatch(/^postfleet: .*no-such-template/);
    expect(reason.split('\n')).toHaveLength(1);
    await sb.writeFile('/etc/postfleet/fleet.ini', '[postfix-out]\ngroup = mta\nenabled = yes\nset.relayhost = [relay.example.com]:587\n\n[postfix-new]\ngroup = edge\n');
    await an.write(
      'misc.yml',
      `
- hosts: all
  tasks:
    - postfleet.fleet.instance:
        name: postfix-bad
        template: no-such-template
      register: bad
      ignore_errors: true
    - postfleet.fleet.manifest:
        src: /etc/postfleet/fleet.ini
      register: src
${saveTask('misc.json', ['bad', 'src'])}`,
    );
    const before = await snapshotBesides(sb, ['postfix-out']);
    const r = await play('misc.yml');
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.recap.localhost).toMatchObject({ changed: 0, failed: 0, ignored: 1 });
    const s = await saved('misc.json');
    expect(s.bad).toMatchObject({ failed: true, changed: false, msg: reason });
    expect(s.src).toMatchObject({ changed: false });
    expect(s.src!.instances.map((i) => [i.instance, i.changed])).toEqual([
      ['postfix-out', false],
      ['postfix-new', false],
    ]);
    expect(await snapshotBesides(sb, ['postfix-out'])).toBe(before);
  });

  it('state: absent refuses an enabled instance with postfleet\'s own reason, and force refuses one holding mail', async () => {
    // What postfleet itself says (and changes nothing doing so).
    const direct = await sb.run('postfleet destroy postfix-out');
    expect(direct.exitCode).not.toBe(0);
    const reason = direct.stderr.trim();
    expect(reason).toMatch(/^postfleet: .*postfix-out/);

    // A message in postfix-in's queue (enabled, stopped), submitted by the real sendmail.
    await sb.runOk('printf "Subject: keep me\\n\\nqueued\\n" | MAIL_CONFIG=/etc/postfix-in sendmail -f root root');
    const queued = (await sb.runOk('cd /var/spool/postfix-in && find maildrop -type f | xargs md5sum')).stdout;
    expect(queued.trim().split('\n')).toHaveLength(1);

    await an.write(
      'absent.yml',
      `
- hosts: all
  tasks:
    - postfleet.fleet.instance:
        name: "{{ target }}"
        state: absent
        force: "{{ force | default(false) | bool }}"
`,
    );
    const before = await snapshotBesides(sb, ['postfix-out']);
    const refused = await play('absent.yml', { extraArgs: ['-e', 'target=postfix-out'] });
    expect(refused.exitCode, show(refused)).not.toBe(0);
    expect(refused.recap.localhost).toMatchObject({ changed: 0, failed: 1 });
    expect(refused.stdout).toContain(`"msg": ${JSON.stringify(reason)}`);

    const holding = await play('absent.yml', { extraArgs: ['-e', 'target=postfix-in', '-e', 'force=true'] });
    expect(holding.exitCode, show(holding)).not.toBe(0);
    expect(holding.recap.localhost).toMatchObject({ changed: 0, failed: 1 });
    expect(holding.stdout).toContain('postfix-in holds 1 queued message(s) in /var/spool/postfix-in; force never deletes mail');
    expect(await snapshotBesides(sb, ['postfix-out'])).toBe(before);
  });

  it('force: true stops, disables and destroys a running instance, and leaves the mail queued elsewhere alone', async () => {
    const queued = (await sb.runOk('cd /var/spool/postfix-in && find maildrop -type f | xargs md5sum')).stdout;
    const pid = Number((await sb.runOk('cat /var/spool/postfix-out/pid/master.pid')).stdout.trim());
    expect(pid).toBeGreaterThan(1);

    // --check: says what it would do, changes nothing, and the master still runs.
    const beforeCheck = await snapshotBesides(sb, ['postfix-out']);
    const check = await play('absent.yml', { check: true, diff: true, extraArgs: ['-e', 'target=postfix-out', '-e', 'force=true'] });
    expect(check.exitCode, show(check)).toBe(0);
    expect(check.recap.localhost).toMatchObject({ changed: 1, failed: 0 });
    expect(check.stdout).toMatch(/^-multi_instance_enable = yes$/m);
    expect(await snapshotBesides(sb, ['postfix-out'])).toBe(beforeCheck);
    expect(Number((await sb.runOk('cat /var/spool/postfix-out/pid/master.pid')).stdout.trim())).toBe(pid);
    expect(await alive(sb, pid)).toBe(true);

    const r = await play('absent.yml', { diff: true, extraArgs: ['-e', 'target=postfix-out', '-e', 'force=true'] });
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.recap.localhost).toMatchObject({ changed: 1, failed: 0 });
    expect(r.stdout).toMatch(/^-multi_instance_directories = .*\/etc\/postfix-out/m);
    expect((await sb.runOk('postfleet -l')).stdout).not.toContain('postfix-out');
    expect(await sb.exists('/etc/postfix-out')).toBe(false);
    // What the stopped master left (pid file, sockets, lock) is not Postfix's queue: destroy
    // leaves it, and the task passes postfleet's warnings on.
    expect((await sb.runOk('cd /var/spool/postfix-out && find . -mindepth 1 -maxdepth 1 | LC_ALL=C sort')).stdout).toBe('./pid\n./private\n./public\n');
    expect(await sb.exists('/var/spool/postfix-out/maildrop')).toBe(false);
    // (ansible-playbook wraps warnings at 80 columns)
    expect((r.stdout + r.stderr).replace(/\s+/g, ' ')).toContain('[WARNING]: /var/spool/postfix-out: please verify contents and remove by hand');
    expect(await alive(sb, pid)).toBe(false);
    // The message queued in postfix-in: same file, same bytes, still counted.
    expect((await sb.runOk('cd /var/spool/postfix-in && find maildrop -type f | xargs md5sum')).stdout).toBe(queued);
    const status = JSON.parse((await sb.runOk('postfleet status -i postfix-in --json')).stdout) as Array<{ queues: Record<string, number> }>;
    expect(status[0]!.queues.maildrop).toBe(1);

    const again = await play('absent.yml', { extraArgs: ['-e', 'target=postfix-out', '-e', 'force=true'] });
    expect(again.exitCode, show(again)).toBe(0);
    expect(again.recap.localhost).toMatchObject({ changed: 0, failed: 0 });
  });

  it('the manifest module passes state through: absent and deported in one transaction; --check changes nothing; a second run changes nothing', async () => {
    await an.write(
      'decom.yml',
      `
- hosts: all
  tasks:
    - postfleet.fleet.manifest:
        content:
          postfix-extra:
            state: absent
          postfix-new:
            state: deported
      register: decom
${saveTask('decom.json', ['decom'])}`,
    );
    await sb.backdate('/etc/postfix*/main.cf');
    const before = await snapshotBesides(sb, []);
    const check = await play('decom.yml', { check: true, diff: true });
    expect(check.exitCode, show(check)).toBe(0);
    expect(check.recap.localhost).toMatchObject({ changed: 1, failed: 0 });
    expect(check.stdout).toMatch(/^\+alternate_config_directories = .*\/etc\/postfix-new/m);
    expect(await snapshotBesides(sb, [])).toBe(before);

    const r = await play('decom.yml');
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.recap.localhost).toMatchObject({ changed: 1, failed: 0 });
    const s = await saved('decom.json');
    expect(s.decom!.instances.map((i) => [i.instance, i.action, i.changed])).toEqual([
      ['postfix-extra', 'destroy', true],
      ['postfix-new', 'deport', true],
    ]);
    expect((await sb.runOk('postfleet -l')).stdout).not.toMatch(/postfix-(extra|new)/);
    expect(await sb.exists('/etc/postfix-extra')).toBe(false);
    expect(await sb.exists('/etc/postfix-new/master.cf')).toBe(true);
    expect((await sb.runOk('postconf -h alternate_config_directories')).stdout).toContain('/etc/postfix-new');

    const settled = await snapshotBesides(sb, []);
    const again = await play('decom.yml');
    expect(again.exitCode, show(again)).toBe(0);
    expect(again.recap.localhost).toMatchObject({ changed: 0, failed: 0 });
    expect(await snapshotBesides(sb, [])).toBe(settled);
  });
});
