/**
 * A fleet with real queues, for the queue tests (inside a Sandbox): three instances whose
 * mail is deferred by Postfix itself (the retry(8) transport, reasons per destination from a
 * transport map), then stopped, so that the queues hold still while postfleet and postqueue
 * -j read them.
 *
 *   postfix-a  group mta    smtputf8_enable = yes (the default)
 *   postfix-b  group mta    smtputf8_enable = no  (8-bit bytes shown as '?')
 *   postfix-c  group relay  hash_queue_depth = 2, empty_address_recipient = bounces
 *
 * Each gets the same five messages (several recipients, the null sender, a quoted local part,
 * UTF-8 addresses, a 200-character local part, a C1 control character in an address); all
 * are deferred with their defer logs.
 */
import { shq, type Sandbox } from './sandbox.js';

export const QUEUE_INSTANCES = ['postfix-a', 'postfix-b', 'postfix-c'] as const;

const LONG = `${'l'.repeat(200)}@${'d'.repeat(60)}.example`;

/** The messages each instance gets: sender, then recipients. */
export const QUEUE_MESSAGES: ReadonlyArray<readonly string[]> = [
  ['alice@example.org', 'u1@slow.example', 'u2@dead.example', 'u3@other.example'],
  ['', 'dörte@bücher.example', '"odd local"@example.com'],
  ['bob@sender.example', LONG],
  ['carol@example.org', 'c1\u009b31m@esc.example', 'r1@slow.example', 'r2@slow.example', 'r3@slow.example', 'r4@slow.example'],
  ['alice@example.org', 'x@dead.example'],
];

const TRANSPORT = ['slow.example retry:4.4.7 slow host said: try later', 'dead.example retry:4.4.2 connection timed out'];

function makeInstance(name: string, group: string, settings: readonly string[]): string {
  const dir = `/etc/${name}`;
  return String.raw`
postmulti -I ${name} -G ${group} -e create
printf '%s\n' ${TRANSPORT.map(shq).join(' ')} > ${dir}/transport
postconf -c ${dir} -e 'multi_instance_enable = yes' 'authorized_submit_users = static:anyone' \
  'default_transport = retry:4.4.1 relay unavailable' 'transport_maps = texthash:${dir}/transport' \
  ${settings.map(shq).join(' ')}
touch -d '-1 minute' ${dir}/main.cf
`;
}

function send(name: string, [sender, ...recipients]: readonly string[]): string {
  return `printf 'Subject: test\\n\\nbody\\n' | MAIL_CONFIG=/etc/${name} sendmail -f ${shq(sender!)} ${recipients.map(shq).join(' ')}`;
}

/** Every message of every instance deferred (none left in maildrop, incoming or active), then stopped. */
export const QUEUE_FLEET = String.raw`
set -e
postmulti -e init
touch -d '-1 minute' /etc/postfix/main.cf
${makeInstance('postfix-a', 'mta', [])}
${makeInstance('postfix-b', 'mta', ['smtputf8_enable = no'])}
${makeInstance('postfix-c', 'relay', ['hash_queue_depth = 2', 'empty_address_recipient = bounces'])}
postfleet postfix start -P 1 >/dev/null
${QUEUE_INSTANCES.flatMap((name) => QUEUE_MESSAGES.map((m) => send(name, m))).join('\n')}
settled() {
  for q in /var/spool/postfix-a /var/spool/postfix-b /var/spool/postfix-c; do
    [ -z "$(find $q/maildrop $q/incoming $q/active -type f)" ] || return 1
    [ "$(find $q/deferred -type f | wc -l)" = ${QUEUE_MESSAGES.length} ] || return 1
  done
}
for i in $(seq 600); do settled && break; sleep 0.1; done
settled || { echo 'the mail was not deferred in time' >&2; postqueue -c /etc/postfix-a -p >&2; exit 1; }
postfleet postfix stop -P 1 >/dev/null
`;

/** The queue ids of an instance's deferred messages, sorted. */
export async function deferredIds(sb: Sandbox, name: string): Promise<string[]> {
  const out = await sb.runOk(`find /var/spool/${name}/deferred -type f -printf '%f\\n' | sort`);
  return out.stdout.trim().split('\n').filter(Boolean);
}

export interface PostqueueMessage {
  queue_name: string;
  queue_id: string;
  arrival_time: number;
  message_size: number;
  forced_expire: boolean;
  sender: string;
  recipients: Array<{ address: string; delay_reason?: string }>;
}

/** postqueue -j of an instance (the mail system is down: it runs showq itself), by queue id. */
export async function postqueueJ(sb: Sandbox, name: string): Promise<PostqueueMessage[]> {
  const out = await sb.runOk(`postqueue -c /etc/${name} -j 2>/dev/null`);
  return out.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as PostqueueMessage)
    .sort((a, b) => (a.queue_id < b.queue_id ? -1 : 1));
}
