/**
 * The collection's roll-out options, run by the real ansible-playbook against real Postfix
 * instances listening on loopback (a sandbox with its own network namespace): the manifest
 * module rolls a good change through and the task reports each instance's batch and outcome;
 * a breaking change fails the task where the roll-out stopped, with the first batch rolled
 * back and the others untouched; the postfix module passes rolling and batch through.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnsibleInSandbox, buildCollection, requireAnsible, type BuiltCollection, type PlaybookResult } from './helpers/ansible.js';
import { listeningFleet } from './helpers/listeners.js';
import { requireIntegration, Sandbox } from './helpers/sandbox.js';

const RUN = requireIntegration() && requireAnsible();

interface Member {
  instance: string;
  batch: number | null;
  outcome: string;
  carriesChange: boolean | null;
}
interface TaskResult {
  changed: boolean;
  failed?: boolean;
  msg?: string;
  instances: Member[];
  rollout: { completed: boolean; batches: number; batchSize: number; stopped: { batch: number; reason: string } | null; instances: Member[] };
  diff?: Array<{ prepared: string }>;
}

const rolled = (name: string, banner: string, extra: string): string => `
- hosts: all
  tasks:
    - name: a banner, rolled out
      postfleet.fleet.manifest:
        content:
          postfix-a:
            settings: { smtpd_banner: '${banner}' }
          postfix-b:
            settings: { smtpd_banner: '${banner}' }
          postfix-c:
            settings: { smtpd_banner: '${banner}' }
        rolling: true
${extra}      register: result
      ignore_errors: true
    - ansible.builtin.copy:
        content: "{{ result | to_nice_json }}"
        dest: "{{ results }}/${name}.json"
      changed_when: false
`;

describe.runIf(RUN)('ansible: roll-outs', { timeout: 900_000 }, () => {
  let sb: Sandbox;
  let coll: BuiltCollection;
  let an: AnsibleInSandbox;
  const play = (name: string, opts: Parameters<AnsibleInSandbox['playbook']>[1] = {}): Promise<PlaybookResult> =>
    an.playbook(name, { ...opts, extraArgs: ['-e', `results=${an.resultsDir()}`, ...(opts.extraArgs ?? [])] });
  const saved = async (name: string): Promise<TaskResult> => JSON.parse(await readFile(path.join(an.resultsDir(), `${name}.json`), 'utf8')) as TaskResult;
  const show = (r: PlaybookResult): string => `exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`;

  beforeAll(async () => {
    [coll, sb] = await Promise.all([buildCollection(), Sandbox.create({ network: 'private' })]);
    an = await AnsibleInSandbox.create(sb, coll);
    await sb.runOk(listeningFleet([
      { name: 'postfix-a', port: 2501 },
      { name: 'postfix-b', port: 2502 },
      { name: 'postfix-c', port: 2503 },
    ]));
  }, 300_000);
  afterAll(async () => {
    await sb?.dispose();
    coll?.dispose();
  });

  it('manifest with rolling and batch: every instance done and carrying the change; --diff shows the main.cf lines', async () => {
    await an.write('good.yml', rolled('good', '$myhostname ESMTP by ansible', '        batch: "2"\n'));
    const r = await play('good.yml', { extraArgs: ['--diff'] });
    expect(r.exitCode, show(r)).toBe(0);
    const res = await saved('good');
    expect([res.changed, res.failed ?? false, res.rollout.completed, res.rollout.batchSize, res.rollout.batches]).toEqual([true, false, true, 2, 2]);
    expect(res.instances.map((i) => [i.instance, i.batch, i.outcome, i.carriesChange])).toEqual([
      ['postfix-a', 1, 'done', true],
      ['postfix-b', 1, 'done', true],
      ['postfix-c', 2, 'done', true],
    ]);
    expect(res.diff?.map((d) => d.prepared.split('\n')[0])).toEqual(['--- before: /etc/postfix-a/main.cf', '--- before: /etc/postfix-b/main.cf', '--- before: /etc/postfix-c/main.cf']);
    expect(r.stdout).toContain('+smtpd_banner = $myhostname ESMTP by ansible');
    const probe = JSON.parse((await sb.runOk('postfleet probe -g mta --json')).stdout) as { instances: Array<{ services: Array<{ replies: { greeting: string } }> }> };
    expect(probe.instances.map((p) => p.services[0]!.replies.greeting)).toEqual(['220 a.example ESMTP by ansible', '220 b.example ESMTP by ansible', '220 c.example ESMTP by ansible']);
  });

  it('a breaking change fails the task where the roll-out stopped: the first batch rolled back, the others untouched', async () => {
    const before = (await sb.runOk('md5sum /etc/postfix-[abc]/main.cf')).stdout;
    await an.write('bad.yml', rolled('bad', '$myhostname ESMTP broken', '        max_failed: 0\n').replace("smtpd_banner: '$myhostname ESMTP broken'", "smtpd_client_restrictions: 'no_such_restriction'"));
    const r = await play('bad.yml');
    expect(r.recap.localhost, show(r)).toMatchObject({ failed: 0, ignored: 1 });
    const res = await saved('bad');
    expect(res.failed).toBe(true);
    expect(res.msg).toBe('roll-out stopped at batch 1 of 3: 1 of 1 instance of batch 1 failed: postfix-a');
    expect(res.changed).toBe(false);
    expect(res.instances.map((i) => [i.instance, i.outcome, i.carriesChange])).toEqual([
      ['postfix-a', 'rolled back', false],
      ['postfix-b', 'not reached', false],
      ['postfix-c', 'not reached', false],
    ]);
    expect((await sb.runOk('md5sum /etc/postfix-[abc]/main.cf')).stdout).toBe(before);
  });

  it('postfix with rolling: reloaded batch by batch, the report returned', async () => {
    await an.write(
      'reload.yml',
      `
- hosts: all
  tasks:
    - postfleet.fleet.postfix:
        group: mta
        state: reloaded
        rolling: true
        batch: 50%
        probe_timeout: 20s
      register: result
    - ansible.builtin.copy:
        content: "{{ result | to_nice_json }}"
        dest: "{{ results }}/reload.json"
      changed_when: false
`,
    );
    const r = await play('reload.yml');
    expect(r.exitCode, show(r)).toBe(0);
    const res = await saved('reload');
    expect(res.changed).toBe(true);
    expect([res.rollout.completed, res.rollout.batchSize, res.rollout.batches]).toEqual([true, 1, 3]);
    expect(res.rollout.instances.map((i) => [i.instance, i.batch, i.outcome])).toEqual([
      ['postfix-a', 1, 'done'],
      ['postfix-b', 2, 'done'],
      ['postfix-c', 3, 'done'],
    ]);
  });
});
