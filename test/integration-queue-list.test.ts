/**
 * postfleet queue list / summary against postqueue -j on the same real queues: mail deferred
 * by Postfix in three instances (helpers/queue-fleet.ts), then held, expired, dropped into
 * maildrop while stopped, copied into active and incoming, plus files that are truncated,
 * garbage, a symlink out of the queue, and a corrupt file. Every field of every message must
 * equal what postqueue -j (showq) prints for that instance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deferredIds, postqueueJ, QUEUE_FLEET, QUEUE_INSTANCES, QUEUE_MESSAGES, type PostqueueMessage } from './helpers/queue-fleet.js';
import { requireIntegration, Sandbox } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

interface Listed extends PostqueueMessage {
  instance: string;
}
interface ListResult {
  messages: Listed[];
  instances: Array<{ instance: string; messages: number; error?: string }>;
  problems: Array<{ instance: string; path: string; problem: string }>;
}

describe.runIf(requireIntegration())('queue list and summary read what postqueue -j reads', () => {
  let sb: Sandbox;
  /** postfix-a's deferred ids, sorted, as the fixture left them. */
  let a: string[] = [];
  let list: ListResult;

  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk(QUEUE_FLEET, { timeoutMs: budget(20) });
    a = await deferredIds(sb, 'postfix-a');
    const b = await deferredIds(sb, 'postfix-b');
    const qa = '/var/spool/postfix-a';
    await sb.runOk(String.raw`
set -e
# Held, and force-expired (postsuper -e sets the group execute bit), by Postfix's own tool.
postsuper -c /etc/postfix-a -h ${a[0]}
postsuper -c /etc/postfix-b -h ${b[1]}
postsuper -c /etc/postfix-a -e ${a[1]}
# Dropped into maildrop while the instance is stopped (no pickup).
printf 'Subject: late\n\nbody\n' | MAIL_CONFIG=/etc/postfix-a sendmail -f late@example.org one@late.example two@late.example
# A message in active and one in incoming (copies under new ids), as a running qmgr has them.
# Copies of the one to x@dead.example, found by its content: which message a random queue id
# makes a[0], a[1] or a[2] varies from run to run.
src=$(grep -rlF x@dead.example ${qa}/deferred ${qa}/hold | head -n 1)
cp -p "$src" ${qa}/active/AC71234567
cp -p "$src" ${qa}/incoming/1C01234567
# A truncated file, garbage on hold, a symlink out of the queue, a corrupt file, a stray name.
# (in hold when it is a[0], as its random queue id may sort)
long=$(grep -rl llllllllll ${qa}/deferred ${qa}/hold | head -n 1)
cut=$(( $(grep -abo llllllllll "$long" | head -n 1 | cut -d: -f1) + 10 ))
mkdir -p ${qa}/deferred/F && chown postfix ${qa}/deferred/F
head -c $cut "$long" > ${qa}/deferred/F/F00D123456
printf 'garbage' > ${qa}/hold/BAD0123456
# Owned by postfix, mode 0700, as Postfix leaves a complete queue file (showq reads as postfix).
chown postfix ${qa}/deferred/F/F00D123456 ${qa}/hold/BAD0123456 && chmod 700 ${qa}/deferred/F/F00D123456 ${qa}/hold/BAD0123456
printf 'S\003x@y' > /etc/outside-queue && chmod 700 /etc/outside-queue
ln -s /etc/outside-queue ${qa}/hold/DEAD123456
printf 'not a queue file' > ${qa}/corrupt/C0FFEE1234
touch ${qa}/hold/.tmp-stray
`);
    list = JSON.parse((await sb.runOk('postfleet queue list --json')).stdout) as ListResult;
  }, budget(30));
  afterAll(async () => {
    await sb?.dispose();
  });

  it.each(QUEUE_INSTANCES)('%s: every field of every message equals postqueue -j', async (name) => {
    const expected = await postqueueJ(sb, name);
    const ours = list.messages
      .filter((m) => m.instance === name && m.queue_name !== 'corrupt')
      .map(({ instance: _i, ...m }) => m)
      .sort((x, y) => (x.queue_id < y.queue_id ? -1 : 1));
    // The fixture's messages are all there, and more in postfix-a.
    expect(expected.length).toBeGreaterThanOrEqual(QUEUE_MESSAGES.length);
    expect(ours).toEqual(expected);
  });

  it('the fixture covers what it should: held, expired, maildrop, active, incoming, partial, reasons, 8-bit', () => {
    const a0 = list.messages.filter((m) => m.instance === 'postfix-a');
    const queues = new Set(a0.map((m) => m.queue_name));
    expect([...queues].sort()).toEqual(['active', 'corrupt', 'deferred', 'hold', 'incoming', 'maildrop']);
    expect(a0.find((m) => m.queue_id === a[0])?.queue_name).toBe('hold');
    expect(a0.find((m) => m.queue_id === a[1])?.forced_expire).toBe(true);
    // Cut in the middle of its only recipient record: the sender is shown, no recipient.
    expect(a0.find((m) => m.queue_id === 'F00D123456')).toMatchObject({ sender: 'bob@sender.example', recipients: [] });
    const reasons = new Set(a0.flatMap((m) => m.recipients.map((r) => r.delay_reason)));
    expect(reasons).toEqual(new Set([undefined, 'slow host said: try later', 'connection timed out', 'relay unavailable']));
    const addresses = list.messages.flatMap((m) => m.recipients.map((r) => `${m.instance} ${r.address}`));
    expect(addresses).toContain('postfix-a dörte@bücher.example');
    // Without SMTPUTF8 each byte of a UTF-8 character is a '?' (and the UTF-8 recipient bounced).
    expect(addresses).toContain('postfix-b c1??31m@esc.example');
    expect(addresses).toContain('postfix-a "odd local"@example.com');
    expect(addresses).toContain('postfix-a c1\u009b31m@esc.example');
    expect(list.messages.filter((m) => m.sender === 'bounces').map((m) => m.instance)).toEqual(['postfix-c']);
    expect(list.messages.filter((m) => m.sender === 'MAILER-DAEMON').map((m) => m.instance).sort()).toEqual(['postfix-a', 'postfix-b']);
  });

  it('files that cannot be read or parsed are reported by name, never followed out of the queue, and the rest is listed', async () => {
    const problems = list.problems.map((p) => `${p.instance} ${p.path}: ${p.problem}`);
    expect(problems).toEqual([
      expect.stringMatching(/^postfix-a \/var\/spool\/postfix-a\/deferred\/F\/F00D123456: unexpected end of file in record type \d+ at offset \d+/),
      'postfix-a /var/spool/postfix-a/hold/.tmp-stray: not a queue file name, ignored',
      expect.stringMatching(/^postfix-a \/var\/spool\/postfix-a\/hold\/BAD0123456: /),
      'postfix-a /var/spool/postfix-a/hold/DEAD123456: symbolic link, not followed',
    ]);
    expect(list.messages.some((m) => m.sender === 'x@y')).toBe(false);
    expect(list.messages.find((m) => m.queue_id === 'C0FFEE1234')).toMatchObject({ instance: 'postfix-a', queue_name: 'corrupt', sender: '', recipients: [] });
    const text = await sb.run('postfleet queue list -i a');
    expect(text.exitCode).toBe(0);
    expect(text.stderr).toContain('postfleet: warning: postfix-a: /var/spool/postfix-a/hold/DEAD123456: symbolic link, not followed\n');
  });

  it('--json-lines: the same objects, one per line', async () => {
    const lines = (await sb.runOk('postfleet queue list --json-lines')).stdout.trim().split('\n');
    expect(lines.map((l) => JSON.parse(l) as Listed)).toEqual(list.messages);
  });

  it('the table escapes control characters and shows each recipient with its reason', async () => {
    const text = (await sb.runOk('postfleet queue list -i a --to @esc.example')).stdout;
    expect(text).toContain('c1\\x9b31m@esc.example');
    expect(text).not.toContain('\u009b');
    expect(text).toMatch(/r1@slow\.example +slow host said: try later\n/);
    expect(text).toMatch(/^-- 1 message, \d+ bytes$/m);
  });

  it('filters select what postqueue -j shows, filtered the same way', async () => {
    const ids = async (args: string): Promise<string[]> =>
      ((JSON.parse((await sb.runOk(`postfleet queue list --json ${args}`)).stdout) as ListResult).messages.map((m) => `${m.instance}/${m.queue_id}`)).sort();
    const expect_ = (pred: (m: Listed) => boolean) => list.messages.filter(pred).map((m) => `${m.instance}/${m.queue_id}`).sort();
    expect(await ids('--to @slow.example')).toEqual(expect_((m) => m.recipients.some((r) => r.address.endsWith('@slow.example'))));
    expect(await ids("--from 'alice@*'")).toEqual(expect_((m) => m.sender.startsWith('alice@')));
    expect(await ids('--queue hold -g mta')).toEqual(expect_((m) => m.queue_name === 'hold' && m.instance !== 'postfix-c'));
    expect(await ids('--queue maildrop,incoming --queue active')).toEqual(expect_((m) => ['maildrop', 'incoming', 'active'].includes(m.queue_name)));
    expect(await ids("--reason 'TIMED OUT'")).toEqual(expect_((m) => m.recipients.some((r) => r.delay_reason === 'connection timed out')));
    expect(await ids(`--id ${a[3]} --id ${a[4]}`)).toEqual([`postfix-a/${a[3]}`, `postfix-a/${a[4]}`].sort());
    expect(await ids('--older 1d')).toEqual([]);
    expect(await ids('--younger 1d -i c')).toEqual(expect_((m) => m.instance === 'postfix-c'));
    expect(await ids("--to @example.com --from 'nobody@*'")).toEqual([]);
  });

  it('summary: qshape rows by recipient domain, sender domain, instance and queue agree with the list', async () => {
    const summary = async (args: string) =>
      JSON.parse((await sb.runOk(`postfleet queue summary --json ${args}`)).stdout) as {
        total: { messages: number; bytes: number; counts: number[] };
        rows: Array<{ key: string; messages: number; bytes: number }>;
        bucketLabels: string[];
      };
    const all = await summary('');
    expect(all.total.messages).toBe(list.messages.length);
    expect(all.total.bytes).toBe(list.messages.reduce((n, m) => n + m.message_size, 0));
    expect(all.total.counts[0]).toBe(list.messages.length); // all younger than 5 minutes
    expect(all.bucketLabels).toEqual(['5', '10', '20', '40', '80', '160', '320', '640', '1280', '1280+']);
    expect(all.rows.find((r) => r.key === 'slow.example')?.messages).toBe(list.messages.filter((m) => m.recipients.some((r) => r.address.endsWith('@slow.example'))).length);
    const byInstance = await summary('--by instance');
    expect(byInstance.rows.map((r) => [r.key, r.messages])).toEqual(
      [...QUEUE_INSTANCES].map((i) => [i, list.messages.filter((m) => m.instance === i).length] as const).sort((x, y) => y[1] - x[1]),
    );
    const byQueue = await summary('--by queue -g mta --queue deferred,hold');
    expect(Object.fromEntries(byQueue.rows.map((r) => [r.key, r.messages]))).toEqual({
      deferred: list.messages.filter((m) => m.queue_name === 'deferred' && m.instance !== 'postfix-c').length,
      hold: list.messages.filter((m) => m.queue_name === 'hold' && m.instance !== 'postfix-c').length,
    });
    const bySender = await summary('--by sender-domain --top 1');
    expect(bySender.rows).toEqual([expect.objectContaining({ key: 'example.org' })]);
    const table = (await sb.runOk('postfleet queue summary --queue deferred')).stdout;
    expect(table.split('\n')[0]).toMatch(/^RECIPIENT DOMAIN +T +5 +10 +20 +40 +80 +160 +320 +640 +1280 +1280\+$/);
    expect(table).toMatch(/^TOTAL +\d+/m);
  });

  it('metrics: the largest recipient domains, as many series as asked, with the counts of the summary', async () => {
    const summary = JSON.parse((await sb.runOk('postfleet queue summary --json --queue maildrop,active,incoming,deferred,hold')).stdout) as { rows: Array<{ key: string; messages: number }> };
    const metrics = (await sb.runOk('postfleet metrics --top-domains 3')).stdout;
    const series = [...metrics.matchAll(/^postfleet_queue_recipient_domain_messages\{domain="([^"]*)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]);
    expect(series).toHaveLength(3);
    const rows = new Map(summary.rows.map((r) => [r.key, r.messages]));
    for (const [domain, n] of series) expect(rows.get(domain as string), domain as string).toBe(n);
    expect(series.map(([, n]) => n)).toEqual(summary.rows.slice(0, 3).map((r) => r.messages));
    expect(metrics).toContain(`postfleet_queue_recipient_domains ${summary.rows.length}\n`);
    expect((await sb.runOk('postfleet metrics --top-domains 0')).stdout).not.toContain('recipient_domain');
  });

  it('bad input: one line naming the value, exit 1, nothing read', async () => {
    const cases: Array<[string, string]> = [
      ['queue list --queue bogus', "postfleet: unknown queue 'bogus' (one of maildrop, active, incoming, deferred, hold, corrupt)\n"],
      ['queue list --older 5x', "postfleet: bad duration '5x' (a number and a unit s, m, h, d or w, e.g. 30m, 2h, 3d)\n"],
      ['queue summary --younger 10', "postfleet: bad duration '10' (a number and a unit s, m, h, d or w, e.g. 30m, 2h, 3d)\n"],
      ["queue list --reason '(unclosed'", "postfleet: bad regular expression '(unclosed': /(unclosed/iu: Unterminated group\n"],
      ['queue list --id not-an-id', "postfleet: 'not-an-id' is not a queue id\n"],
      ['queue list -i nosuch', "postfleet: no instance matches 'nosuch'\n"],
    ];
    for (const [args, stderr] of cases) {
      expect(await sb.run(`postfleet ${args}`), args).toEqual({ exitCode: 1, stdout: '', stderr });
    }
  });
});
