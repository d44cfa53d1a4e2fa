/**
 * postfleet metrics read by the real node_exporter (Debian's prometheus-node-exporter), started
 * inside the sandbox, in a network namespace of its own, on a loopback port, with only the
 * textfile collector: the postfleet series are there with the seeded queue counts, and
 * node_textfile_scrape_error is 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireIntegration, Sandbox } from './helpers/sandbox.js';

const TEXTFILE_DIR = '/var/lib/postfleet-textfile';
/** A queue file whose time record says it arrived at this second (long before the test). */
const OLD_ARRIVAL = 1_700_000_000;

const FLEET = String.raw`
set -e
postmulti -e init
postmulti -I postfix-a -G mta -e create
postmulti -I postfix-b -G relay -e create
postconf -c /etc/postfix-a -e 'multi_instance_enable = yes'
postconf -c /etc/postfix-b -e 'authorized_submit_users = static:anyone'
touch -d '-1 minute' /etc/postfix*/main.cf /etc/postfix*/master.cf
# The primary and postfix-a run (no inet listener: master_service_disable = inet); postfix-b is stopped.
postfleet postfix start -P 1 >/dev/null
# postfix-b's queue: three messages dropped by sendmail, two of them copied to hold, one to
# deferred, plus one deferred file that arrived long ago (its mtime in the future, as qmgr
# sets it to the next attempt).
for n in 1 2 3; do printf 'Subject: %s\n\nbody\n' $n | MAIL_CONFIG=/etc/postfix-b sendmail -f a@example.test b@example.test; done
q=/var/spool/postfix-b
set -- $q/maildrop/*
cp -p "$1" $q/hold/H1; cp -p "$2" $q/hold/H2
mkdir -p $q/deferred/D; cp -p "$3" $q/deferred/D/D1
printf 'T\014${OLD_ARRIVAL} 0' > $q/deferred/D/D2
touch -d '+1 hour' $q/deferred/D/D2
mkdir -p ${TEXTFILE_DIR}
`;

/** node_exporter on a private loopback, scraped once it answers; prints the scrape. */
const SCRAPE = String.raw`
set -e
unshare -n sh -c '
  ip link set lo up
  prometheus-node-exporter --web.listen-address=127.0.0.1:19100 --collector.disable-defaults \
    --collector.textfile --collector.textfile.directory=${TEXTFILE_DIR} >/tmp/node-exporter.log 2>&1 &
  for i in $(seq 1 300); do
    if curl -sf http://127.0.0.1:19100/metrics -o /tmp/scrape.txt; then cat /tmp/scrape.txt; kill $!; exit 0; fi
    sleep 0.1
  done
  cat /tmp/node-exporter.log >&2; exit 1
'
`;

/** The value of one series in a scrape, or undefined. */
function series(scrape: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of scrape.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',').filter(Boolean);
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(m[3]);
  }
  return undefined;
}

describe.runIf(requireIntegration())('postfleet metrics through the real node_exporter', () => {
  let sb: Sandbox;
  let scrape = '';
  let writtenAt = 0;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk(FLEET);
    writtenAt = Date.now() / 1000;
    await sb.runOk(`postfleet metrics --textfile ${TEXTFILE_DIR}/postfleet.prom`);
    scrape = (await sb.runOk(SCRAPE)).stdout;
  }, 180_000);
  afterAll(async () => {
    await sb?.dispose();
  });

  it('node_exporter reads the textfile without error', () => {
    expect(series(scrape, 'node_textfile_scrape_error', {})).toBe(0);
    expect(scrape).toMatch(/^node_textfile_mtime_seconds\{file="[^"]*postfleet\.prom"\} /m);
  });

  it('up and enabled per instance, labelled postfix_instance and group', () => {
    const l = (postfix_instance: string, group: string) => ({ postfix_instance, group });
    expect(series(scrape, 'postfleet_instance_up', l('-', ''))).toBe(1);
    expect(series(scrape, 'postfleet_instance_up', l('postfix-a', 'mta'))).toBe(1);
    expect(series(scrape, 'postfleet_instance_up', l('postfix-b', 'relay'))).toBe(0);
    expect(series(scrape, 'postfleet_instance_enabled', l('postfix-a', 'mta'))).toBe(1);
    expect(series(scrape, 'postfleet_instance_enabled', l('postfix-b', 'relay'))).toBe(0);
    expect(scrape).not.toMatch(/^postfleet_\w+\{[^}]*\binstance="/m);
  });

  it('the seeded queue counts and the oldest arrival', () => {
    const b = (queue: string) => ({ postfix_instance: 'postfix-b', group: 'relay', queue });
    expect(series(scrape, 'postfleet_queue_messages', b('maildrop'))).toBe(3);
    expect(series(scrape, 'postfleet_queue_messages', b('hold'))).toBe(2);
    expect(series(scrape, 'postfleet_queue_messages', b('deferred'))).toBe(2);
    expect(series(scrape, 'postfleet_queue_messages', b('active'))).toBe(0);
    expect(series(scrape, 'postfleet_queue_messages', b('incoming'))).toBe(0);
    expect(series(scrape, 'postfleet_queue_messages', b('corrupt'))).toBe(0);
    // By the time record, not the mtime (an hour ahead): about now - OLD_ARRIVAL.
    const deferredAge = series(scrape, 'postfleet_queue_oldest_message_age_seconds', b('deferred'))!;
    expect(Math.abs(deferredAge - (writtenAt - OLD_ARRIVAL))).toBeLessThan(120);
    const maildropAge = series(scrape, 'postfleet_queue_oldest_message_age_seconds', b('maildrop'))!;
    expect(maildropAge).toBeGreaterThanOrEqual(0);
    expect(maildropAge).toBeLessThan(300);
    expect(series(scrape, 'postfleet_queue_oldest_message_age_seconds', b('active'))).toBe(0);
  });

  it('check problems by severity, per instance', async () => {
    const check = JSON.parse((await sb.runOk('postfleet check --json || true')).stdout) as { problems: Array<{ severity: string; instances: string[] }> };
    for (const name of ['-', 'postfix-a', 'postfix-b']) {
      for (const severity of ['error', 'warning']) {
        const expected = check.problems.filter((p) => p.severity === severity && p.instances.includes(name)).length;
        const group = name === 'postfix-a' ? 'mta' : name === 'postfix-b' ? 'relay' : '';
        expect(series(scrape, 'postfleet_check_problems', { postfix_instance: name, group, severity }), `${name} ${severity}`).toBe(expected);
      }
    }
    // postfix-a is enabled with create's safety settings: at least that warning.
    expect(series(scrape, 'postfleet_check_problems', { postfix_instance: 'postfix-a', group: 'mta', severity: 'warning' })).toBeGreaterThan(0);
  });

  it('the textfile was written atomically: no temporary file left, mode 0644, same text as stdout', async () => {
    const ls = await sb.runOk(`ls -A ${TEXTFILE_DIR}; stat -c %a ${TEXTFILE_DIR}/postfleet.prom`);
    expect(ls.stdout).toBe('postfleet.prom\n644\n');
    const out = await sb.runOk('postfleet metrics -g relay');
    expect(out.stdout).toContain('postfleet_queue_messages{postfix_instance="postfix-b",group="relay",queue="hold"} 2\n');
    expect(out.stdout).not.toContain('postfix-a');
    expect(await sb.exec(['postfleet', 'metrics', '--textfile', `${TEXTFILE_DIR}/x.txt`])).toMatchObject({ exitCode: 1, stderr: `postfleet: textfile '${TEXTFILE_DIR}/x.txt' must end in .prom (node_exporter's textfile collector reads only those)\n` });
  });
});
