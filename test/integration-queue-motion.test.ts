/**
 * Queues in motion: a running instance whose 200 messages qmgr keeps moving between deferred
 * and active (each delivery attempt, a pipe(8) command, takes a second and fails temporarily,
 * and they are retried every second). Every
 * `postfleet queue list` taken meanwhile lists each message once — never twice, as a message
 * that moves from one queue to another while they are being read could be — and only
 * messages of that instance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireIntegration, Sandbox } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

const MESSAGES = 200;

const FIXTURE = String.raw`
set -e
postmulti -e init
touch -d '-1 minute' /etc/postfix/main.cf
postmulti -I postfix-a -G mta -e create
postconf -c /etc/postfix-a -e 'multi_instance_enable = yes' 'authorized_submit_users = static:anyone' \
  'default_transport = slow' 'minimal_backoff_time = 1s' 'maximal_backoff_time = 1s' 'queue_run_delay = 1s'
postconf -c /etc/postfix-a -Me 'slow/unix=slow unix - n n - - pipe flags= user=nobody argv=/bin/sh -c {sleep 1; exit 75}'
touch -d '-1 minute' /etc/postfix-a/main.cf
postfix -c /etc/postfix-a start 2>/dev/null
for i in $(seq ${MESSAGES}); do printf 'Subject: %s\n\nbody\n' $i | MAIL_CONFIG=/etc/postfix-a sendmail -f s$i@example.org r$i@example.net; done
q=/var/spool/postfix-a
for i in $(seq 600); do
  [ -z "$(find $q/maildrop $q/incoming -type f)" ] && [ "$(find $q/deferred $q/active -type f | wc -l)" = ${MESSAGES} ] && [ -n "$(find $q/defer -type f)" ] && exit 0
  sleep 0.1
done
echo 'the messages were not deferred in time' >&2; exit 1
`;

describe.runIf(requireIntegration())('queue list while qmgr moves the messages', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk(FIXTURE, { timeoutMs: budget(10) });
  }, budget(12));
  afterAll(async () => {
    await sb?.dispose();
  });

  it('each message is listed once, in one queue, in every listing taken while they move', { timeout: budget(25) }, async () => {
    const queuesSeen = new Set<string>();
    let complete = 0;
    for (let run = 0; run < 20; run++) {
      const out = await sb.runOk('postfleet queue list -i a --json-lines');
      const messages = out.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { queue_id: string; queue_name: string; sender: string });
      const ids = messages.map((m) => m.queue_id);
      expect(new Set(ids).size, `run ${run}: ${ids.length} listed`).toBe(ids.length);
      expect(ids.length).toBeLessThanOrEqual(MESSAGES);
      expect(messages.every((m) => /^s\d+@example\.org$/.test(m.sender))).toBe(true);
      for (const m of messages) queuesSeen.add(m.queue_name);
      if (ids.length === MESSAGES) complete++;
    }
    // The messages did move (some were caught in active), and listings found them all.
    expect([...queuesSeen]).toEqual(expect.arrayContaining(['active', 'deferred']));
    expect(complete).toBeGreaterThan(0);
  });
});
