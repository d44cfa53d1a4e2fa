/**
 * postfleet.fleet.queue driven by the real ansible-playbook (connection: local) inside a
 * sandbox holding real deferred mail in three instances (helpers/queue-fleet.ts): list as
 * info, matching postqueue -j; hold in check mode reports the messages and changes no file;
 * hold, then the same again (nothing left to do); release, requeue and delete by filter;
 * an unfiltered delete refused.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnsibleInSandbox, buildCollection, requireAnsible, type BuiltCollection, type PlaybookResult } from './helpers/ansible.js';
import { postqueueJ, QUEUE_FLEET, type PostqueueMessage } from './helpers/queue-fleet.js';
import { requireIntegration, Sandbox } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

const RUN = requireIntegration() && requireAnsible();

interface QueueResult {
  changed: boolean;
  failed?: boolean;
  msg?: string;
  messages?: Array<PostqueueMessage & { instance: string }>;
  instances: Array<{ instance: string; ids?: string[]; done?: string[]; skipped?: Array<{ queue_id: string; reason: string }> }>;
}

/** Tasks of the postfleet.fleet.queue module, each registered as rN, saved to FILE (in check mode too). */
function playbook(file: string, tasks: ReadonlyArray<Record<string, unknown>>): string {
  const body = tasks
    .map((args, k) => `    - postfleet.fleet.queue: ${JSON.stringify(args)}\n      register: r${k}\n      ignore_errors: true`)
    .join('\n');
  const vars = tasks.map((_, k) => `'r${k}': r${k}`).join(', ');
  return `- hosts: all
  tasks:
${body}
    - ansible.builtin.copy:
        content: "{{ { ${vars} } | to_nice_json }}"
        dest: "{{ results }}/${file}"
      check_mode: false
      diff: false
      changed_when: false
`;
}

const TREE = `find /var/spool/postfix-a /var/spool/postfix-b /var/spool/postfix-c -printf '%p %m %s %T@\\n' | sort`;

describe.runIf(RUN)('ansible: postfleet.fleet.queue on real queues', { timeout: budget(40) }, () => {
  let sb: Sandbox;
  let coll: BuiltCollection;
  let an: AnsibleInSandbox;
  const run = async (name: string, tasks: ReadonlyArray<Record<string, unknown>>, check = false): Promise<{ play: PlaybookResult; r: Record<string, QueueResult> }> => {
    await an.write(name, playbook(`${name}.json`, tasks));
    const play = await an.playbook(name, { check, extraArgs: ['-e', `results=${an.resultsDir()}`] });
    expect(play.recap.localhost?.unreachable, `${play.stdout}\n${play.stderr}`).toBe(0);
    const r = JSON.parse(await readFile(path.join(an.resultsDir(), `${name}.json`), 'utf8')) as Record<string, QueueResult>;
    return { play, r };
  };

  beforeAll(async () => {
    [coll, sb] = await Promise.all([buildCollection(), Sandbox.create()]);
    an = await AnsibleInSandbox.create(sb, coll);
    await sb.runOk(QUEUE_FLEET, { timeoutMs: budget(20) });
  }, budget(30));
  afterAll(async () => {
    await sb?.dispose();
    coll?.dispose();
  });

  it('list: the messages as postqueue -j shows them, plus instance; filters select', async () => {
    const { r } = await run('list.yml', [{}, { recipient: ['@slow.example'], group: 'mta', queue: ['deferred'] }]);
    expect(r.r0!.changed).toBe(false);
    const a = await postqueueJ(sb, 'postfix-a');
    const listed = r.r0!.messages!.filter((m) => m.instance === 'postfix-a').map(({ instance: _i, ...m }) => m);
    expect(listed.sort((x, y) => (x.queue_id < y.queue_id ? -1 : 1))).toEqual(a);
    expect(r.r1!.messages!.map((m) => m.instance).sort()).toEqual(['postfix-a', 'postfix-a', 'postfix-b', 'postfix-b']);
  });

  it('check mode reports what hold would do and changes no file; hold, then nothing is left to hold', async () => {
    const before = (await sb.runOk(TREE)).stdout;
    const slow = (await postqueueJ(sb, 'postfix-a')).filter((m) => m.recipients.some((x) => x.address.endsWith('@slow.example'))).map((m) => m.queue_id).sort();
    const dry = await run('hold-check.yml', [{ action: 'hold', recipient: ['@slow.example'], name: 'a' }], true);
    expect(dry.r.r0).toMatchObject({ changed: true });
    expect(dry.r.r0!.instances[0]!.ids!.sort()).toEqual(slow);
    expect(dry.r.r0!.instances[0]!.done).toEqual([]);
    expect((await sb.runOk(TREE)).stdout).toBe(before);

    const { play, r } = await run('hold.yml', [
      { action: 'hold', recipient: ['@slow.example'], name: 'a' },
      { action: 'hold', recipient: ['@slow.example'], name: 'a', queue: ['deferred', 'hold'] },
    ]);
    expect(play.recap.localhost).toMatchObject({ changed: 1, failed: 0 });
    expect(r.r0!.instances[0]!.done!.sort()).toEqual(slow);
    expect(r.r1).toMatchObject({ changed: false });
    expect(r.r1!.instances[0]!.skipped!.map((s) => s.reason)).toEqual(slow.map(() => 'already on hold'));
    expect((await postqueueJ(sb, 'postfix-a')).filter((m) => m.queue_name === 'hold').map((m) => m.queue_id).sort()).toEqual(slow);
  });

  it('release, requeue and delete by filter; an unfiltered delete is refused before postfleet runs', async () => {
    const { play, r } = await run('more.yml', [
      { action: 'release', sender: ['carol@example.org'], name: 'a' },
      { action: 'requeue', sender: ['bob@*'], group: 'relay' },
      { action: 'delete', recipient: ['@dead.example'], older: '1s', group: 'mta' },
      { action: 'delete', group: 'mta' },
    ]);
    expect(play.recap.localhost).toMatchObject({ changed: 3, failed: 0, ignored: 1 });
    expect(r.r0!.instances[0]!.done).toHaveLength(1);
    expect(r.r1!.instances.map((i) => [i.instance, i.done!.length])).toEqual([['postfix-c', 1]]);
    expect(r.r2!.instances.map((i) => [i.instance, i.done!.length])).toEqual([
      ['postfix-a', 2],
      ['postfix-b', 2],
    ]);
    expect(r.r3).toMatchObject({ failed: true, msg: expect.stringMatching(/^action=delete without a message filter/) });
    const a = await postqueueJ(sb, 'postfix-a');
    expect(a.filter((m) => m.sender === 'carol@example.org').map((m) => m.queue_name)).toEqual(['deferred']);
    expect(a.filter((m) => m.recipients.some((x) => x.address.endsWith('@dead.example')))).toEqual([]);
    expect((await postqueueJ(sb, 'postfix-c')).filter((m) => m.sender === 'bob@sender.example').map((m) => m.queue_name)).toEqual(['maildrop']);
  });
});
