/**
 * postfleet queue hold / release / delete / requeue / flush by filter on real queues
 * (helpers/queue-fleet.ts: mail deferred by Postfix in three instances): each action through
 * postsuper / postqueue, checked with postqueue -j; --dry-run changes no file; an unfiltered
 * delete needs --all; bad input changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postqueueJ, QUEUE_FLEET, QUEUE_INSTANCES, type PostqueueMessage } from './helpers/queue-fleet.js';
import { requireIntegration, Sandbox } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

interface Outcome {
  instance: string;
  ids: string[];
  done: string[];
  gone: string[];
  skipped: Array<{ queue_id: string; queue_name: string; reason: string }>;
  commands: Array<{ file: string; args: string[]; input?: string }>;
  exitCode: number | null;
}
interface ActionResult {
  action: string;
  dryRun: boolean;
  changed: boolean;
  instances: Outcome[];
}

/** Every file under the instances' queue directories: path, mode, size, mtime (what any change would alter). */
const TREE = `find /var/spool/postfix-a /var/spool/postfix-b /var/spool/postfix-c -printf '%p %m %s %T@\\n' | sort`;

describe.runIf(requireIntegration())('queue actions by filter, through postsuper and postqueue', () => {
  let sb: Sandbox;
  const queues: Record<string, PostqueueMessage[]> = {};
  const refresh = async (): Promise<void> => {
    for (const name of QUEUE_INSTANCES) queues[name] = await postqueueJ(sb, name);
  };
  const act = async (args: string): Promise<ActionResult> => JSON.parse((await sb.runOk(`postfleet queue ${args} --json`)).stdout) as ActionResult;
  const idsWhere = (name: string, pred: (m: PostqueueMessage) => boolean): string[] => queues[name]!.filter(pred).map((m) => m.queue_id).sort();
  const toDomain = (domain: string) => (m: PostqueueMessage) => m.recipients.some((r) => r.address.endsWith(`@${domain}`));

  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk(QUEUE_FLEET, { timeoutMs: budget(20) });
    await refresh();
  }, budget(25));
  afterAll(async () => {
    await sb?.dispose();
  });

  it('--dry-run prints the commands and ids of every action, and changes no file', { timeout: budget(8) }, async () => {
    const before = (await sb.runOk(TREE)).stdout;
    const slowA = idsWhere('postfix-a', toDomain('slow.example'));
    const text = await sb.runOk('postfleet queue hold --to @slow.example -i a --dry-run');
    expect(text.stdout).toBe(`postfix-a: would hold ${slowA.length} messages: ${slowA.join(' ')}\n  /usr/sbin/postsuper -c /etc/postfix-a -h - (queue ids on standard input)\n`);
    for (const args of ['hold --to @slow.example', 'release --queue hold', 'delete --all', 'requeue --from alice@example.org', 'flush --to @dead.example', 'flush']) {
      const r = await act(`${args} --dry-run`);
      expect(r.dryRun, args).toBe(true);
      expect(r.changed, args).toBe(false);
      expect(r.instances.every((i) => i.done.length === 0 && i.exitCode === null), args).toBe(true);
    }
    const deleteAll = await act('delete --all --dry-run -g mta');
    expect(deleteAll.instances.map((i) => [i.instance, i.ids.sort()])).toEqual([
      ['postfix-a', idsWhere('postfix-a', () => true)],
      ['postfix-b', idsWhere('postfix-b', () => true)],
    ]);
    expect((await sb.runOk(TREE)).stdout).toBe(before);
  });

  it('hold by recipient domain: postsuper -h in each affected instance; held again, nothing to do', { timeout: budget(6) }, async () => {
    const expected = Object.fromEntries(QUEUE_INSTANCES.map((n) => [n, idsWhere(n, toDomain('slow.example'))]));
    const r = await act('hold --to @slow.example -g mta');
    expect(r.changed).toBe(true);
    expect(r.instances.map((i) => [i.instance, [...i.done].sort(), i.gone])).toEqual([
      ['postfix-a', expected['postfix-a'], []],
      ['postfix-b', expected['postfix-b'], []],
    ]);
    expect(r.instances[0]!.commands).toEqual([{ file: '/usr/sbin/postsuper', args: ['-c', '/etc/postfix-a', '-h', '-'], input: expected['postfix-a']!.map((id) => `${id}\n`).join('') }]);
    const before = { ...queues };
    await refresh();
    for (const name of ['postfix-a', 'postfix-b']) {
      expect(idsWhere(name, (m) => m.queue_name === 'hold')).toEqual(expected[name]);
      expect(idsWhere(name, (m) => m.queue_name === 'deferred')).toEqual(before[name]!.filter((m) => !expected[name]!.includes(m.queue_id)).map((m) => m.queue_id).sort());
    }
    expect(queues['postfix-c']).toEqual(before['postfix-c']);
    const again = await sb.runOk('postfleet queue hold --to @slow.example -g mta --queue deferred,hold');
    expect(again.stdout).toContain('postfix-a: nothing to hold\n');
    expect(again.stdout).toMatch(/^ {2}[0-9A-F]+ \(hold\): skipped, already on hold$/m);
  });

  it('release by sender from hold', { timeout: budget(4) }, async () => {
    const alice = idsWhere('postfix-a', (m) => m.queue_name === 'hold' && m.sender === 'alice@example.org');
    expect(alice.length).toBe(1);
    const r = await act('release --from alice@example.org -i a');
    expect(r.instances.map((i) => [i.instance, i.done])).toEqual([['postfix-a', alice]]);
    await refresh();
    expect(queues['postfix-a']!.find((m) => m.queue_id === alice[0])?.queue_name).toBe('deferred');
  });

  it('delete by recipient domain; an unfiltered delete is refused without --all and changes nothing', { timeout: budget(6) }, async () => {
    const before = (await sb.runOk(TREE)).stdout;
    const refused = await sb.run('postfleet queue delete -i a');
    expect(refused).toEqual({
      exitCode: 1,
      stdout: '',
      stderr: 'postfleet: queue delete without a message filter (--from, --to, --older, --younger, --reason, --id) deletes every message of the selected instances: give --all to mean it\n',
    });
    expect((await sb.runOk(TREE)).stdout).toBe(before);
    const dead = idsWhere('postfix-a', toDomain('dead.example'));
    const r = await act('delete --to @dead.example -i a');
    expect(r.instances[0]!.done.sort()).toEqual(dead);
    await refresh();
    expect(idsWhere('postfix-a', toDomain('dead.example'))).toEqual([]);
    // postsuper removes the defer logs with the messages.
    for (const id of dead) expect(await sb.exists(`/var/spool/postfix-a/defer/${id[0]}/${id}`)).toBe(false);
  });

  it('requeue by sender: the messages go back to maildrop (no pickup runs)', { timeout: budget(4) }, async () => {
    const bob = idsWhere('postfix-b', (m) => m.sender === 'bob@sender.example');
    const r = await act('requeue --from bob@sender.example -i b');
    expect([...r.instances[0]!.done].sort()).toEqual(bob);
    await refresh();
    expect(queues['postfix-b']!.filter((m) => m.sender === 'bob@sender.example').map((m) => [m.queue_id, m.queue_name])).toEqual(bob.map((id) => [id, 'maildrop']));
  });

  it('flush by filter: postqueue -i for each selected deferred message, on the running instance; fails where Postfix is down', { timeout: budget(8) }, async () => {
    const stopped = await sb.run('postfleet queue flush -i c --to @dead.example --json');
    expect(stopped.exitCode).toBe(1);
    expect((JSON.parse(stopped.stdout) as ActionResult).instances[0]!.done).toEqual([]);
    await sb.runOk('postfix -c /etc/postfix-c start');
    const dead = idsWhere('postfix-c', toDomain('dead.example'));
    const mtimes = async (): Promise<string> => (await sb.runOk(`cd /var/spool/postfix-c/deferred && stat -c '%n %Y' ${dead.map((id) => `*/*/${id}`).join(' ')}`)).stdout;
    const before = await mtimes();
    const r = await act('flush -i c --to @dead.example');
    expect(r.instances[0]!.commands.map((c) => c.args).sort((x, y) => (x[3]! < y[3]! ? -1 : 1))).toEqual(dead.map((id) => ['-c', '/etc/postfix-c', '-i', id]));
    expect([...r.instances[0]!.done].sort()).toEqual(dead);
    // Tried again at once: qmgr defers them anew, with a new time for the next attempt.
    const changed = await sb.run(`for i in $(seq 300); do [ "$(cd /var/spool/postfix-c/deferred && stat -c '%n %Y' ${dead.map((id) => `*/*/${id}`).join(' ')} 2>/dev/null)" != ${JSON.stringify(before)} ] && exit 0; sleep 0.1; done; exit 1`);
    expect(changed.exitCode).toBe(0);
    await sb.runOk('postfix -c /etc/postfix-c stop');
  });

  it('bad input changes nothing: unknown queue, bad duration, bad regex, not a queue id', async () => {
    const before = (await sb.runOk(TREE)).stdout;
    for (const [args, message] of [
      ['hold --queue nosuch', "unknown queue 'nosuch' (one of maildrop, active, incoming, deferred, hold, corrupt)"],
      ['delete --older yesterday', "bad duration 'yesterday' (a number and a unit s, m, h, d or w, e.g. 30m, 2h, 3d)"],
      ["release --reason '[z-a]'", "bad regular expression '[z-a]': /[z-a]/iu: Range out of order in character class"],
      ['requeue --id ../../etc/passwd', "'../../etc/passwd' is not a queue id"],
      ['flush --site "a b"', "bad site 'a b'"],
    ]) {
      expect(await sb.run(`postfleet queue ${args}`), args).toEqual({ exitCode: 1, stdout: '', stderr: `postfleet: ${message}\n` });
    }
    expect((await sb.runOk(TREE)).stdout).toBe(before);
  });
});
