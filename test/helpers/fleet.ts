/**
 * Fixtures and probes shared by the iterator-mode and wrapper integration tests (they run
 * inside a Sandbox, see ./sandbox.ts).
 */
import { shjoin, type Sandbox } from './sandbox.js';

/**
 * A fleet of six secondaries behind an initialised primary, built fast: one real
 * `postmulti -e create`, the others cloned from it (main.cf edited with postconf -e, queue
 * directory copied with its ownership). Covers what listing and selection care about:
 *
 *   dir                           name                    group                 enable
 *   /etc/postfix                  -                       -                     yes (init)
 *   /etc/postfix-a                postfix-a               mta                   Yes
 *   /etc/postfix-b                postfix-b               mta                   no
 *   /etc/postfix-anon             -                       -                     yes   (syslog_name anon)
 *   /etc/postfix-verylongname-x   postfix-verylongname-x  very-long-group-name  YES   (queue /var/spool/postfix-vl)
 *   /srv/pf-x                     pfx                     out                   No
 *   /srv/pf-y                     b                       out                   no
 *
 * Enabled: the primary, a, anon and verylongname-x. `-i b` matches postfix-b and b.
 */
export const FLEET_FIXTURE = String.raw`
set -e
postmulti -e init
touch -d '-1 minute' /etc/postfix/main.cf
postmulti -I postfix-a -G mta -e create
postconf -c /etc/postfix-a -e 'multi_instance_enable = Yes'
clone() { # dir name group enable queue_directory data_directory
  mkdir -p "$1"
  cp /etc/postfix-a/main.cf /etc/postfix-a/master.cf "$1"/
  postconf -c "$1" -e "multi_instance_name = $2" "multi_instance_group = $3" "multi_instance_enable = $4" \
    "queue_directory = $5" "data_directory = $6"
  [ -n "$2" ] || postconf -c "$1" -X multi_instance_name
  [ -n "$3" ] || postconf -c "$1" -X multi_instance_group
  cp -a /var/spool/postfix-a "$5"
  mkdir -p -m 0700 "$6"
  chown postfix "$6"
}
clone /etc/postfix-b postfix-b mta no /var/spool/postfix-b /var/lib/postfix-b
clone /etc/postfix-anon '' '' yes /var/spool/postfix-anon /var/lib/postfix-anon
postconf -c /etc/postfix-anon -e 'syslog_name = anon'
clone /etc/postfix-verylongname-x postfix-verylongname-x very-long-group-name YES /var/spool/postfix-vl /var/lib/postfix-vl
clone /srv/pf-x pfx out No /var/spool/pf-x /var/lib/pf-x
clone /srv/pf-y b out no /var/spool/pf-y /var/lib/pf-y
# The list as an operator might write it: commas and blanks, a continuation line.
postconf -X multi_instance_directories
printf '%s\n' 'multi_instance_directories = /etc/postfix-a /etc/postfix-b,/etc/postfix-anon' \
  '    /etc/postfix-verylongname-x, /srv/pf-x /srv/pf-y' >> /etc/postfix/main.cf
touch -d '-1 minute' /etc/postfix*/main.cf /srv/pf-*/main.cf
`;

export interface FleetMember {
  readonly dir: string;
  readonly name: string;
  readonly group: string;
  readonly enabled: boolean;
  readonly queue: string;
  /** The tag postfix(1)'s messages carry (syslog_name). */
  readonly tag: string;
}

/** FLEET_FIXTURE in list order. */
export const FLEET: readonly FleetMember[] = [
  { dir: '/etc/postfix', name: '-', group: '-', enabled: true, queue: '/var/spool/postfix', tag: 'postfix' },
  { dir: '/etc/postfix-a', name: 'postfix-a', group: 'mta', enabled: true, queue: '/var/spool/postfix-a', tag: 'postfix-a' },
  { dir: '/etc/postfix-b', name: 'postfix-b', group: 'mta', enabled: false, queue: '/var/spool/postfix-b', tag: 'postfix-b' },
  { dir: '/etc/postfix-anon', name: '-', group: '-', enabled: true, queue: '/var/spool/postfix-anon', tag: 'anon' },
  {
    dir: '/etc/postfix-verylongname-x',
    name: 'postfix-verylongname-x',
    group: 'very-long-group-name',
    enabled: true,
    queue: '/var/spool/postfix-vl',
    tag: 'postfix-verylongname-x',
  },
  { dir: '/srv/pf-x', name: 'pfx', group: 'out', enabled: false, queue: '/var/spool/pf-x', tag: 'pfx' },
  { dir: '/srv/pf-y', name: 'b', group: 'out', enabled: false, queue: '/var/spool/pf-y', tag: 'b' },
];

/** postmulti -l's row for a member: `%-15s %-15s %-9s %s`. */
export function listRow(m: FleetMember): string {
  return `${m.name.padEnd(15)} ${m.group.padEnd(15)} ${(m.enabled ? 'y' : 'n').padEnd(9)} ${m.dir}\n`;
}

/**
 * Whether each queue directory's master runs: its pid file names a live (not zombie) process
 * called master.
 */
export async function masterStates(sb: Sandbox, queueDirs: readonly string[]): Promise<Record<string, 'running' | 'stopped'>> {
  const out = await sb.runOk(`set -- ${shjoin(queueDirs)}\n${MASTER_STATE_LOOP}`);
  const states: Record<string, 'running' | 'stopped'> = {};
  for (const line of out.stdout.trim().split('\n')) {
    const [q = '', st = ''] = line.split(' ');
    states[q] = st === 'running' ? 'running' : 'stopped';
  }
  return states;
}

const MASTER_STATE_LOOP = String.raw`for q; do
  st=stopped
  pid=$(tr -d ' \n' < "$q/pid/master.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && [ "$(cat /proc/$pid/comm 2>/dev/null)" = master ] && ! grep -q '^State:.*Z' /proc/$pid/status 2>/dev/null; then
    st=running
  fi
  echo "$q $st"
done`;

/**
 * Terminal output without what differs from one run to the next: PIDs are masked, and
 * postfix-script's "waiting for the Postfix mail system to terminate" (printed when a master
 * takes a moment to exit) is dropped.
 */
export function stableOutput(text: string): string {
  return text.replace(/PID: \d+/g, 'PID: N').replace(/^\S+\/postfix-script: waiting for the Postfix mail system to terminate\n/gm, '');
}

/** The tags (`NAME/postfix-script: …`) of postfix-script's lines, in order. */
export function scriptTags(text: string): string[] {
  return [...text.matchAll(/^(\S+)\/postfix-script: /gm)].map((m) => m[1]!);
}
