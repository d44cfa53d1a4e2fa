/**
 * postfleet probe against real Postfix instances listening on loopback ports (a sandbox with
 * its own network namespace): what a healthy instance answers, and the two ways a change
 * breaks smtpd while `postfix check` and the reload still pass: wrapper-mode TLS without a
 * certificate (no greeting at all), and an unknown restriction name (220 and 250 as usual,
 * then "451 4.3.5 Server configuration error" at RCPT, where a bare <postmaster> would pass);
 * TLS from the first byte, and postscreen in front of smtpd.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefusal } from './helpers/lifecycle.js';
import { listeningFleet, selfSignedCertificate } from './helpers/listeners.js';
import { budget } from './helpers/timing.js';
import { requireIntegration, Sandbox } from './helpers/sandbox.js';

interface Service {
  service: string;
  address: string;
  command: string;
  tls: boolean;
  healthy: boolean;
  stage: string;
  replies: Record<string, string>;
  error?: string;
}
interface Probe {
  instance: string;
  healthy: boolean;
  master: { running: boolean; pid: number | null };
  services: Service[];
  error?: string;
}
interface Answer {
  healthy: boolean;
  instances: Probe[];
  skipped: Array<{ instance: string; reason: string }>;
}

describe.runIf(requireIntegration())('postfleet probe', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create({ network: 'private' });
    await sb.runOk(listeningFleet([
      { name: 'postfix-a', port: 2501 },
      { name: 'postfix-b', port: 2502 },
      { name: 'postfix-c', port: 2503 },
    ]));
  }, budget(10));
  afterAll(async () => {
    await sb?.dispose();
  });

  async function probe(args: string): Promise<{ answer: Answer; exitCode: number; stderr: string }> {
    const r = await sb.run(`postfleet probe --json ${args}`);
    return { answer: JSON.parse(r.stdout) as Answer, exitCode: r.exitCode, stderr: r.stderr };
  }

  /** main.cf edited behind postfleet's back and reloaded: what an operator's change does. */
  async function changeAndReload(dir: string, ...settings: string[]): Promise<void> {
    await sb.runOk(`postconf -c ${dir} -e ${settings.map((s) => `'${s}'`).join(' ')} && touch -d '-1 minute' ${dir}/main.cf && postfix -c ${dir} reload 2>/dev/null`);
  }

  it('a healthy instance: its master runs; its smtpd greets 220, answers EHLO, MAIL FROM:<> and RCPT TO:<postmaster@myhostname> with 250', async () => {
    const { answer, exitCode } = await probe('-g mta');
    expect(exitCode).toBe(0);
    expect(answer.healthy).toBe(true);
    expect(answer.instances.map((p) => [p.instance, p.healthy, p.master.running])).toEqual([
      ['postfix-a', true, true],
      ['postfix-b', true, true],
      ['postfix-c', true, true],
    ]);
    const [a] = answer.instances[0]!.services;
    expect(a).toMatchObject({ service: '127.0.0.1:2501', address: '127.0.0.1:2501', command: 'smtpd', tls: false, healthy: true, stage: 'done' });
    expect(a!.replies).toEqual({ greeting: '220 a.example ESMTP Postfix (Debian/GNU)', ehlo: '250 CHUNKING', mail: '250 2.1.0 Ok', rcpt: '250 2.1.5 Ok' });
    // Never delivering: nothing was queued.
    expect((await sb.runOk('find /var/spool/postfix-a/incoming /var/spool/postfix-a/active /var/spool/postfix-a/deferred -type f | wc -l')).stdout.trim()).toBe('0');
    const text = await sb.run('postfleet probe -i a -i b');
    expect(text.stdout).toMatch(/^postfix-a: healthy: master \d+; 127\.0\.0\.1:2501 smtpd 220\/250\/250\/250 \(\d+ ms\)\npostfix-b: healthy: /);
  });

  it('a stopped instance is unhealthy; a disabled one is skipped; the primary has no inet service (master_service_disable = inet)', async () => {
    await sb.runOk('postfix -c /etc/postfix start 2>/dev/null');
    await sb.runOk('postfix -c /etc/postfix-c stop 2>/dev/null && postfleet disable postfix-b >/dev/null');
    try {
      const { answer, exitCode } = await probe('');
      expect(exitCode).toBe(1);
      expect(answer.healthy).toBe(false);
      expect(answer.instances.map((p) => [p.instance, p.healthy, p.error ?? null])).toEqual([
        ['-', true, null],
        ['postfix-a', true, null],
        ['postfix-c', false, 'master is not running'],
      ]);
      expect(answer.instances[0]!.services).toEqual([]);
      expect(answer.skipped).toEqual([{ instance: 'postfix-b', configDirectory: '/etc/postfix-b', reason: 'disabled' }]);
    } finally {
      await sb.runOk("postfleet enable postfix-b >/dev/null && touch -d '-1 minute' /etc/postfix*/main.cf && postfix -c /etc/postfix-c start 2>/dev/null && postfix -c /etc/postfix stop 2>/dev/null");
    }
  });

  it('an unknown restriction name: 220 and 250 still, then 451 4.3.5 at RCPT TO:<postmaster@myhostname>; a bare <postmaster> is exempt and passes', async () => {
    await changeAndReload('/etc/postfix-b', 'smtpd_client_restrictions = no_such_restriction');
    try {
      const { answer, exitCode } = await probe('-i b');
      expect(exitCode).toBe(1);
      const [b] = answer.instances[0]!.services;
      expect(b).toMatchObject({ healthy: false, stage: 'rcpt' });
      expect(b!.replies).toMatchObject({ greeting: '220 b.example ESMTP Postfix (Debian/GNU)', ehlo: '250 CHUNKING', mail: '250 2.1.0 Ok', rcpt: '451 4.3.5 Server configuration error' });
      expect(answer.instances[0]!.error).toBe('127.0.0.1:2502 (master.cf line 138): RCPT TO:<postmaster@b.example>: 451 4.3.5 Server configuration error');
      // What a probe of the bare address would have said: healthy, wrongly.
      expect((await probe('-i b --probe-rcpt postmaster')).answer.healthy).toBe(true);
      // And one that stops at EHLO.
      const ehlo = (await probe('-i b --probe-rcpt none')).answer.instances[0]!.services[0]!;
      expect([ehlo.healthy, Object.keys(ehlo.replies)]).toEqual([true, ['greeting', 'ehlo']]);
    } finally {
      await changeAndReload('/etc/postfix-b', 'smtpd_client_restrictions =');
    }
  });

  it('wrapper-mode TLS without a certificate: no greeting, unhealthy; with one: the handshake completes and SMTP follows over TLS', async () => {
    await sb.runOk(`postconf -c /etc/postfix-c -Me '127.0.0.1:2513/inet=127.0.0.1:2513 inet n - y - - smtpd -o smtpd_tls_wrappermode=yes' && postfix -c /etc/postfix-c reload 2>/dev/null`);
    const without = (await probe('-i c')).answer.instances[0]!;
    expect(without.healthy).toBe(false);
    expect(without.services.map((s) => [s.address, s.tls, s.healthy])).toEqual([
      ['127.0.0.1:2503', false, true],
      ['127.0.0.1:2513', true, false],
    ]);
    expect(without.services[1]!.stage).toMatch(/^(connect|greeting)$/);
    expect(without.error).toMatch(/^127\.0\.0\.1:2513 \(master\.cf line \d+\): 127\.0\.0\.1:2513: (connection reset during the TLS handshake|TLS handshake failed: .*|connection closed.*)$/);
    await sb.runOk(selfSignedCertificate('/etc/postfix-c', 'c.example'));
    await changeAndReload('/etc/postfix-c', 'smtpd_tls_chain_files = /etc/postfix-c/key.pem, /etc/postfix-c/cert.pem');
    const withCert = (await probe('-i c')).answer.instances[0]!;
    expect(withCert.healthy, withCert.error).toBe(true);
    expect(withCert.services[1]).toMatchObject({ tls: true, healthy: true, stage: 'done', replies: { greeting: '220 c.example ESMTP Postfix (Debian/GNU)', rcpt: '250 2.1.5 Ok' } });
  });

  it('postscreen in front of smtpd: its 220 is smtpd’s once postscreen hands the client over (loopback is in mynetworks: no greet wait)', async () => {
    await sb.runOk(String.raw`postconf -c /etc/postfix-a -Me '127.0.0.1:2521/inet=127.0.0.1:2521 inet n - y - 1 postscreen' 'smtpd/pass=smtpd pass - - y - - smtpd'       'dnsblog/unix=dnsblog unix - - y - 0 dnsblog' 'tlsproxy/unix=tlsproxy unix - - y - 0 tlsproxy' && postfix -c /etc/postfix-a reload 2>/dev/null`);
    const a = (await probe('-i a')).answer.instances[0]!;
    expect(a.healthy, a.error).toBe(true);
    expect(a.services.map((s) => [s.address, s.command, s.healthy, s.replies.rcpt])).toEqual([
      ['127.0.0.1:2501', 'smtpd', true, '250 2.1.5 Ok'],
      ['127.0.0.1:2521', 'postscreen', true, '250 2.1.5 Ok'],
    ]);
  });

  it('bad probe settings: one line naming the value', async () => {
    expectRefusal(await sb.run('postfleet probe --probe-timeout 0'), "postfleet: bad --probe-timeout '0': give a duration such as 500ms, 10s, 2m or 1h (more than 0)");
    expectRefusal(await sb.run('postfleet probe --probe-timeout 3x'), "postfleet: bad --probe-timeout '3x'");
    expectRefusal(await sb.run("postfleet probe --probe-rcpt 'a b'"), "postfleet: bad --probe-rcpt 'a b'");
    expectRefusal(await sb.run('postfleet probe -g nosuchgroup'), 'nosuchgroup');
  });
});
