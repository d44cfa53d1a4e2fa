/**
 * The queue read cache against real queues: after every change Postfix's own tools (or a
 * delivery, or a defer log appended to) make, `postfleet queue list` equals postqueue -j of
 * the instance field for field — the cache never answers with what the files no longer say.
 * That the warm listings do come from the cache is shown by forging it: what a cache file
 * says is believed while the files' stats match, unless it is not root's own, or is writable
 * by others, or the cache is turned off (POSTFLEET_CACHE_DIR=). The fixture's queues are small:
 * POSTFLEET_QUEUE_CACHE_MIN=0 has them cached.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deferredIds, postqueueJ, QUEUE_FLEET, QUEUE_INSTANCES } from './helpers/queue-fleet.js';
import { requireIntegration, Sandbox, shq } from './helpers/sandbox.js';
import { budget, waitFor } from './helpers/timing.js';

interface Listed {
  instance: string;
  queue_id: string;
  queue_name: string;
  sender: string;
  forced_expire: boolean;
  recipients: Array<{ address: string; delay_reason?: string }>;
}

const CACHE = '/var/cache/postfleet/queue';
const QA = '/var/spool/postfix-a';

describe.runIf(requireIntegration())('the queue read cache never answers with what the queue files no longer say', () => {
  let sb: Sandbox;
  let a: string[] = [];

  /** postfleet queue list of every instance, by instance; queues this small are cached only with a minimum of 0. */
  const list = async (env: Record<string, string> = {}): Promise<Map<string, Listed[]>> => {
    const out = JSON.parse((await sb.runOk('postfleet queue list --json', { env: { POSTFLEET_QUEUE_CACHE_MIN: '0', ...env } })).stdout) as { messages: Listed[] };
    const by = new Map<string, Listed[]>(QUEUE_INSTANCES.map((i) => [i, []]));
    for (const m of out.messages) by.get(m.instance)!.push(m);
    return by;
  };

  /** Every field of every message of every instance equals postqueue -j's; the listing, for more checks. */
  const expectPostqueue = async (env: Record<string, string> = {}): Promise<Map<string, Listed[]>> => {
    const listed = await list(env);
    for (const name of QUEUE_INSTANCES) {
      const ours = listed
        .get(name)!
        .map(({ instance: _i, ...m }) => m)
        .sort((x, y) => (x.queue_id < y.queue_id ? -1 : 1));
      expect(ours, name).toEqual(await postqueueJ(sb, name));
    }
    return listed;
  };

  const message = (listed: Map<string, Listed[]>, id: string): Listed | undefined => listed.get('postfix-a')!.find((m) => m.queue_id === id);

  /** Until every queue file and defer log changed more than 2 s ago: the cache may keep them all. */
  const settled = async (): Promise<void> => {
    const newest = Number((await sb.runOk(`find /var/spool/postfix-[abc] -type f -printf '%C@\\n' | sort -n | tail -n 1`)).stdout.trim());
    await waitFor('the queue files to be 2 s old', () => Date.now() / 1000 > newest + 2.2, { intervalMs: 100 });
  };

  /** A listing that fills the cache, then one from it. */
  const warm = async (): Promise<Map<string, Listed[]>> => {
    await settled();
    await list();
    return expectPostqueue();
  };

  /** The cache files rewritten: `from` replaced by `to` (of the same length) wherever it is. */
  const forge = async (from: string, to: string): Promise<void> => {
    await sb.runOk(String.raw`
set -e
export F=${shq(from)} T=${shq(to)}
for f in ${CACHE}/*.bin; do perl -0777 -pi -e 's/\Q$ENV{F}\E/$ENV{T}/g' "$f"; chmod 600 "$f"; done
grep -lqF "$T" ${CACHE}/*.bin`);
  };

  /** The sender postfleet lists for postfix-a's first message from alice. */
  const aliceSender = async (env: Record<string, string> = {}): Promise<string | undefined> =>
    (await list(env)).get('postfix-a')!.find((m) => m.sender === 'alice@example.org' || m.sender === 'mallo@example.org')?.sender;

  /** Rewrites bytes of a queue file keeping its size, mode, owner and mtime: in place, or as a new file renamed over it. */
  const rewrite = async (path: string, from: string, to: string, how: 'in place' | 'replaced'): Promise<void> => {
    expect(to).toHaveLength(from.length);
    const script = String.raw`
const fs = require('fs');
const [path, from, to, how] = process.argv.slice(1);
const st = fs.statSync(path);
const bytes = fs.readFileSync(path, 'latin1');
if (!bytes.includes(from)) throw new Error(from + ' not in ' + path);
const changed = Buffer.from(bytes.replaceAll(from, to), 'latin1');
if (how === 'in place') {
  const fd = fs.openSync(path, 'r+');
  fs.writeSync(fd, changed, 0, changed.length, 0);
  fs.closeSync(fd);
  fs.utimesSync(path, st.atime, st.mtime);
} else {
  fs.writeFileSync(path + '.new', changed, { mode: st.mode & 0o7777 });
  fs.chownSync(path + '.new', st.uid, st.gid);
  fs.chmodSync(path + '.new', st.mode & 0o7777);
  fs.utimesSync(path + '.new', st.atime, st.mtime);
  fs.renameSync(path + '.new', path);
}
const now = fs.statSync(path);
if (now.size !== st.size || now.mtimeMs !== st.mtimeMs || now.mode !== st.mode) throw new Error('size, mtime or mode changed');
`;
    await sb.runOk(`node -e ${shq(script)} ${shq(path)} ${shq(from)} ${shq(to)} ${shq(how)}`);
  };
  const fileOf = async (id: string): Promise<string> => (await sb.runOk(`find ${QA} -type f -name ${id} -path '*/deferred/*'`)).stdout.trim();

  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk(QUEUE_FLEET, { timeoutMs: budget(20) });
    a = await deferredIds(sb, 'postfix-a');
  }, budget(30));
  afterAll(async () => {
    await sb?.dispose();
  });

  it('a warm listing comes from the cache (0600 files of root) and equals postqueue -j', { timeout: budget(12) }, async () => {
    await warm();
    const files = (await sb.runOk(`stat -c '%a %U %n' ${CACHE} ${CACHE}/*.bin`)).stdout.trim().split('\n');
    expect(files[0]).toBe(`700 root ${CACHE}`);
    expect(files.length - 1).toBeGreaterThanOrEqual(QUEUE_INSTANCES.length);
    for (const f of files.slice(1)) expect(f).toMatch(/^600 root \/var\/cache\/postfleet\/queue\/[0-9a-f]{24}-\d+-\d+\.bin$/);
    await forge('alice@example.org', 'mallo@example.org');
    expect(await aliceSender()).toBe('mallo@example.org');
    await sb.runOk(`rm -r ${CACHE}`);
    expect(await aliceSender()).toBe('alice@example.org');
    // By default, queues of fewer than 500 messages are not cached.
    await sb.runOk(`rm -r ${CACHE} && postfleet queue list --json >/dev/null`);
    expect(await sb.exists(CACHE)).toBe(false);
  });

  it('postsuper -e (a mode bit), -h and -H (moves): listed as postqueue -j lists them', { timeout: budget(14) }, async () => {
    await warm();
    await sb.runOk(`postsuper -c /etc/postfix-a -e ${a[1]} && postsuper -c /etc/postfix-a -h ${a[2]}`);
    let listed = await expectPostqueue();
    expect(message(listed, a[1]!)?.forced_expire).toBe(true);
    expect(message(listed, a[2]!)?.queue_name).toBe('hold');
    await warm();
    await sb.runOk(`postsuper -c /etc/postfix-a -H ${a[2]}`);
    listed = await expectPostqueue();
    expect(message(listed, a[2]!)?.queue_name).toBe('deferred');
  });

  it('a defer log appended to, a message removed (postsuper -d) or delivered (its file and log gone)', { timeout: budget(12) }, async () => {
    const before = (await warm()).get('postfix-a')!;
    const id = (sender: string): string => before.find((m) => m.sender === sender && m.queue_name === 'deferred')!.queue_id;
    const [carol, bob, bounce] = [id('carol@example.org'), id('bob@sender.example'), id('MAILER-DAEMON')];
    await sb.runOk(String.raw`
set -e
printf 'recipient=late@appended.example\nreason=appended later\n\n' >> "$(find ${QA}/defer -type f -name ${carol})"
postsuper -c /etc/postfix-a -d ${bob}
rm "$(find ${QA}/deferred -type f -name ${bounce})" "$(find ${QA}/defer -type f -name ${bounce})"
`);
    const listed = await expectPostqueue();
    expect(message(listed, carol)?.recipients).toContainEqual({ address: 'late@appended.example', delay_reason: 'appended later' });
    expect(message(listed, bob)).toBeUndefined();
    expect(message(listed, bounce)).toBeUndefined();
  });

  it('a queue file rewritten with the same size, mode and mtime, in place or replaced; and again within the same second', { timeout: budget(16) }, async () => {
    const listed = await warm();
    const ids = [...listed.get('postfix-a')!].filter((m) => m.queue_name === 'deferred' && m.recipients.some((r) => r.address.endsWith('@slow.example'))).map((m) => m.queue_id);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    const [first, second] = [await fileOf(ids[0]!), await fileOf(ids[1]!)];
    await rewrite(first, '@slow.example', '@snow.example', 'in place');
    await rewrite(second, '@slow.example', '@snow.example', 'replaced');
    let after = await expectPostqueue();
    for (const id of ids.slice(0, 2)) expect(message(after, id)?.recipients.map((r) => r.address).join(' ')).toContain('@snow.example');
    // Changed again right after the listing that saw the first change (ctimes less than 2 s old: not kept).
    await rewrite(first, '@snow.example', '@stow.example', 'in place');
    after = await expectPostqueue();
    expect(message(after, ids[0]!)?.recipients.map((r) => r.address).join(' ')).toContain('@stow.example');
    await warm();
  });

  it('a cache file that is not root’s own or that others may write is not believed; nor any with POSTFLEET_CACHE_DIR=', { timeout: budget(16) }, async () => {
    for (const tamper of [`chmod 606 ${CACHE}/*.bin`, `chmod 620 ${CACHE}/*.bin`, `chown nobody ${CACHE}/*.bin`]) {
      await warm();
      await forge('alice@example.org', 'mallo@example.org');
      await sb.runOk(tamper);
      expect(await aliceSender(), tamper).toBe('alice@example.org');
      await expectPostqueue();
    }
    // Turned off: not read, not written.
    await warm();
    await forge('alice@example.org', 'mallo@example.org');
    const sums = (await sb.runOk(`stat -c '%i %Y %s' ${CACHE}/*.bin`)).stdout;
    expect(await aliceSender({ POSTFLEET_CACHE_DIR: '' })).toBe('alice@example.org');
    await expectPostqueue({ POSTFLEET_CACHE_DIR: '' });
    expect((await sb.runOk(`stat -c '%i %Y %s' ${CACHE}/*.bin`)).stdout).toBe(sums);
    await sb.runOk(`rm -r ${CACHE}`);
    await list({ POSTFLEET_CACHE_DIR: '' });
    expect(await sb.exists(CACHE)).toBe(false);
  });
});
