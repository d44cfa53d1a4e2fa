/**
 * The probe without root or Postfix: which services of a master.cf it reaches and how
 * (targets.ts), how it reads an SMTP server's answers (smtp.ts, against small SMTP servers of
 * this test on an ephemeral loopback port: timeouts, disconnects, multi-line replies, 4.3.x
 * against policy answers, TLS), and the roll-out settings (options.ts).
 */
import net from 'node:net';
import tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ParameterSet } from '../src/instances/maincf/expand.js';
import { parseMasterCf } from '../src/instances/mastercf/parse.js';
import { isServerFailure, probeTarget } from '../src/instances/probe/smtp.js';
import { probeTargets, type ProbeTarget } from '../src/instances/probe/targets.js';
import { batchesOf, batchSize, parseBatch, parseDuration, parseMaxFailed, parseProbeRcpt } from '../src/instances/rollout/options.js';

const DEFAULTS = new Map([
  ['inet_interfaces', 'all'],
  ['inet_protocols', 'all'],
  ['master_service_disable', ''],
  ['myhostname', 'host.example'],
  ['smtpd_tls_wrappermode', 'no'],
]);
const PORTS = new Map([['smtp', 25], ['submission', 587], ['submissions', 465]]);

function targets(master: string, settings: Record<string, string> = {}): ReturnType<typeof probeTargets> {
  const params = new ParameterSet(new Map(Object.entries(settings)), DEFAULTS);
  return probeTargets(parseMasterCf(master), params, (n) => PORTS.get(n));
}

describe('probe targets', () => {
  it('each enabled inet service, reached on the instance’s own address: a wildcard on loopback, an address as bound', () => {
    const master = [
      'smtp inet n - y - - smtpd',
      'pickup unix n - y 60 1 pickup',
      '192.0.2.7:submission inet n - y - - smtpd -o smtpd_tls_wrappermode=no',
      'submissions inet n - y - - smtpd -o smtpd_tls_wrappermode=yes',
      '[::1]:2525 inet n - y - 1 postscreen',
      '127.0.0.1:10024 inet n - n - - spawn user=nobody argv=/bin/true',
      '',
    ].join('\n');
    const t = targets(master, { inet_protocols: 'ipv4', myhostname: 'mx.example' }) as ProbeTarget[];
    expect(t.map((x) => [x.service, x.line, x.host, x.port, x.command, x.smtp, x.tls, x.myhostname])).toEqual([
      ['smtp', 1, '127.0.0.1', 25, 'smtpd', true, false, 'mx.example'],
      ['192.0.2.7:submission', 3, '192.0.2.7', 587, 'smtpd', true, false, 'mx.example'],
      ['submissions', 4, '127.0.0.1', 465, 'smtpd', true, true, 'mx.example'],
      ['[::1]:2525', 5, '::1', 2525, 'postscreen', true, false, 'mx.example'],
      ['127.0.0.1:10024', 6, '127.0.0.1', 10024, 'spawn', false, false, 'mx.example'],
    ]);
  });

  it('inet_interfaces and inet_protocols: one target per address; master_service_disable leaves a service out', () => {
    expect((targets('smtp inet n - y - - smtpd\n', { inet_interfaces: 'loopback-only' }) as ProbeTarget[]).map((x) => x.host)).toEqual(['127.0.0.1', '::1']);
    expect((targets('smtp inet n - y - - smtpd\n', { inet_interfaces: '192.0.2.1, 192.0.2.2', inet_protocols: 'ipv4' }) as ProbeTarget[]).map((x) => x.host)).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(targets('smtp inet n - y - - smtpd\n', { master_service_disable: 'inet' })).toEqual([]);
    expect(targets('smtp inet n - y - - smtpd\n2525 inet n - y - - smtpd\n', { master_service_disable: 'smtp/inet', inet_protocols: 'ipv4' }).map((x) => x.service)).toEqual(['2525']);
  });

  it('wrapper mode from main.cf unless the service overrides it; myhostname overridden per service; an unknown port name is unreachable', () => {
    const t = targets('smtp inet n - y - - smtpd\n465 inet n - y - - smtpd -o smtpd_tls_wrappermode=no -o myhostname=alt.example\nnosuch inet n - y - - smtpd\n', { smtpd_tls_wrappermode: 'yes', inet_protocols: 'ipv4' });
    expect(t).toEqual([
      expect.objectContaining({ service: 'smtp', tls: true, myhostname: 'host.example' }),
      expect.objectContaining({ service: '465', tls: false, myhostname: 'alt.example' }),
      { service: 'nosuch', line: 3, error: "unknown port name 'nosuch' (not in /etc/services)" },
    ]);
  });
});

describe('what a reply says', () => {
  it('2xx and 5xx are the server working (its policy); 4.3.x, 421 and a bare 451 are it failing; other 4xx are policy', () => {
    const healthy = ['250 2.1.5 Ok', '550 5.1.1 <x@y>: Recipient address rejected: User unknown', '554 5.7.1 Relay access denied', '450 4.7.1 <x>: Helo command rejected: Host not found', '450 4.2.0 Greylisted', '452 4.5.3 Too many recipients'];
    const failing = ['451 4.3.5 Server configuration error', '451 4.3.0 <postmaster@x>: Temporary lookup failure', '421 4.3.2 Service shutting down', '421 Service not available', '451 Local error', '354 what', 'garbage'];
    expect(healthy.filter(isServerFailure)).toEqual([]);
    expect(failing.filter((r) => !isServerFailure(r))).toEqual([]);
  });
});

/** A small scripted SMTP server of this test: `answer(line)` gives the reply to each command, or undefined to say nothing. */
const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function smtpServer(opts: { greeting?: string | null; answer?: (line: string) => string | undefined; secure?: tls.SecureContextOptions; onConnect?: (c: net.Socket) => void }): Promise<{ port: number; commands: string[] }> {
  const commands: string[] = [];
  const handle = (c: net.Socket): void => {
    opts.onConnect?.(c);
    if (c.destroyed) return;
    c.on('error', () => undefined);
    if (opts.greeting !== null) c.write(`${opts.greeting ?? '220 test.example ESMTP'}\r\n`);
    let buf = '';
    c.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let nl; (nl = buf.indexOf('\r\n')) >= 0; buf = buf.slice(nl + 2)) {
        const line = buf.slice(0, nl);
        commands.push(line);
        const reply = opts.answer ? opts.answer(line) : line.startsWith('EHLO') ? '250-test.example\r\n250-PIPELINING\r\n250 8BITMIME' : line === 'QUIT' ? '221 2.0.0 Bye' : '250 2.0.0 Ok';
        if (reply !== undefined) c.write(`${reply}\r\n`);
        if (line === 'QUIT') c.end();
      }
    });
  };
  const server = opts.secure ? tls.createServer(opts.secure, handle) : net.createServer(handle);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, commands };
}

const target = (port: number, over: Partial<ProbeTarget> = {}): ProbeTarget => ({ service: `127.0.0.1:${port}`, line: 1, command: 'smtpd', host: '127.0.0.1', port, smtp: true, tls: false, myhostname: 'mx.example', ...over });
const fast = { timeoutMs: 2000, rcpt: undefined };

describe('the SMTP probe', () => {
  it('greeting, EHLO (multi-line), MAIL FROM:<>, RCPT TO:<postmaster@myhostname>, RSET, QUIT: healthy, nothing delivered', async () => {
    const s = await smtpServer({});
    const r = await probeTarget(target(s.port), fast);
    expect(r).toMatchObject({ healthy: true, stage: 'done', replies: { greeting: '220 test.example ESMTP', ehlo: '250 8BITMIME', mail: '250 2.0.0 Ok', rcpt: '250 2.0.0 Ok' } });
    expect(s.commands).toEqual(['EHLO mx.example', 'MAIL FROM:<>', 'RCPT TO:<postmaster@mx.example>', 'RSET', 'QUIT']);
  });

  it('--probe-rcpt: another address, or none (no MAIL, no RCPT)', async () => {
    const s = await smtpServer({});
    await probeTarget(target(s.port), { ...fast, rcpt: 'abuse@other.example' });
    await probeTarget(target(s.port), { ...fast, rcpt: null });
    expect(s.commands).toEqual(['EHLO mx.example', 'MAIL FROM:<>', 'RCPT TO:<abuse@other.example>', 'RSET', 'QUIT', 'EHLO mx.example', 'QUIT']);
  });

  it('a policy rejection at RCPT is healthy; 451 4.3.5 is not, and the probe still says RSET and QUIT', async () => {
    const reject = await smtpServer({ answer: (l) => (l.startsWith('RCPT') ? '554 5.7.1 Access denied' : l.startsWith('EHLO') ? '250 x' : '250 Ok') });
    expect((await probeTarget(target(reject.port), fast)).healthy).toBe(true);
    const broken = await smtpServer({ answer: (l) => (l.startsWith('RCPT') ? '451 4.3.5 Server configuration error' : l.startsWith('EHLO') ? '250 x' : '250 Ok') });
    const r = await probeTarget(target(broken.port), fast);
    expect(r).toMatchObject({ healthy: false, stage: 'rcpt', error: 'RCPT TO:<postmaster@mx.example>: 451 4.3.5 Server configuration error' });
    expect(broken.commands).toEqual(['EHLO mx.example', 'MAIL FROM:<>', 'RCPT TO:<postmaster@mx.example>', 'RSET', 'QUIT']);
    // The same through PIPELINING: MAIL and RCPT in one write, RSET and QUIT in another; the answers read in turn.
    const pipelined = await smtpServer({ answer: (l) => (l.startsWith('RCPT') ? '451 4.3.5 Server configuration error' : l.startsWith('EHLO') ? '250-x\r\n250 PIPELINING' : '250 Ok') });
    expect(await probeTarget(target(pipelined.port), fast)).toMatchObject({ healthy: false, stage: 'rcpt', replies: { mail: '250 Ok', rcpt: '451 4.3.5 Server configuration error' } });
    expect(pipelined.commands).toEqual(['EHLO mx.example', 'MAIL FROM:<>', 'RCPT TO:<postmaster@mx.example>', 'RSET', 'QUIT']);
    // A refused MAIL: RCPT's "503" is read and passed over.
    const refused = await smtpServer({ answer: (l) => (l.startsWith('MAIL') ? '553 5.7.1 Sender refused' : l.startsWith('RCPT') ? '503 5.5.1 Error: need MAIL command' : l.startsWith('EHLO') ? '250 PIPELINING' : '250 Ok') });
    expect(await probeTarget(target(refused.port), fast)).toMatchObject({ healthy: true, stage: 'done', replies: { mail: '553 5.7.1 Sender refused' } });
  });

  it('a greeting other than 220, an EHLO other than 250, a MAIL answered 4.3.x: unhealthy at that stage', async () => {
    const busy = await smtpServer({ greeting: '421 4.3.2 Too busy' });
    expect(await probeTarget(target(busy.port), fast)).toMatchObject({ healthy: false, stage: 'greeting', error: 'greeting: 421 4.3.2 Too busy' });
    const noEhlo = await smtpServer({ answer: (l) => (l.startsWith('EHLO') ? '502 5.5.2 Error: command not recognized' : '250 Ok') });
    expect(await probeTarget(target(noEhlo.port), fast)).toMatchObject({ healthy: false, stage: 'ehlo' });
    const mail = await smtpServer({ answer: (l) => (l.startsWith('MAIL') ? '451 4.3.0 Temporary lookup failure' : '250 Ok') });
    expect(await probeTarget(target(mail.port), fast)).toMatchObject({ healthy: false, stage: 'mail', error: 'MAIL FROM:<>: 451 4.3.0 Temporary lookup failure' });
  });

  it('no greeting or no answer within the time limit, a disconnect, a refused connection: unhealthy, saying which', async () => {
    const silent = await smtpServer({ greeting: null });
    const t0 = performance.now();
    expect(await probeTarget(target(silent.port), { timeoutMs: 300, rcpt: undefined })).toMatchObject({ healthy: false, stage: 'greeting', error: `127.0.0.1:${silent.port}: no answer within 0.3 s` });
    expect(performance.now() - t0).toBeLessThan(5000);
    const mute = await smtpServer({ answer: (l) => (l.startsWith('RCPT') ? undefined : l.startsWith('EHLO') ? '250 x' : '250 Ok') });
    expect(await probeTarget(target(mute.port), { timeoutMs: 300, rcpt: undefined })).toMatchObject({ healthy: false, stage: 'rcpt', error: `127.0.0.1:${mute.port}: no answer within 0.3 s` });
    const dropping = await smtpServer({ greeting: null, onConnect: (c) => c.destroy() });
    expect(await probeTarget(target(dropping.port), fast)).toMatchObject({ healthy: false, stage: 'greeting', error: `127.0.0.1:${dropping.port}: connection closed by the server` });
    const closed = await smtpServer({});
    const port = closed.port;
    await new Promise((r) => servers.pop()!.close(r));
    expect(await probeTarget(target(port), fast)).toMatchObject({ healthy: false, stage: 'connect', error: `127.0.0.1:${port}: connection refused` });
  });

  it('a service that is not SMTP is only connected to', async () => {
    const s = await smtpServer({ greeting: null });
    expect(await probeTarget(target(s.port, { smtp: false, command: 'spawn' }), fast)).toMatchObject({ healthy: true, stage: 'connect', replies: {} });
    expect(s.commands).toEqual([]);
  });

  it('wrapper mode: the TLS handshake, then SMTP over it; a server that cannot do TLS fails the handshake', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postfleet-probe-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`, '-days', '2', '-subj', '/CN=mx.example'], { stdio: 'ignore' });
      const secure = await smtpServer({ secure: { key: fs.readFileSync(`${dir}/key.pem`), cert: fs.readFileSync(`${dir}/cert.pem`) } });
      expect(await probeTarget(target(secure.port, { tls: true }), fast)).toMatchObject({ healthy: true, tls: true, stage: 'done' });
      expect(secure.commands).toContain('RCPT TO:<postmaster@mx.example>');
      const plain = await smtpServer({});
      const r = await probeTarget(target(plain.port, { tls: true }), fast);
      expect(r).toMatchObject({ healthy: false, stage: 'connect' });
      expect(r.error).toMatch(new RegExp(`^127\\.0\\.0\\.1:${plain.port}: (TLS handshake failed|connection reset)`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('roll-out settings', () => {
  it('--batch N or N%: a percentage rounds down, never below one instance', () => {
    expect(parseBatch('3')).toEqual({ count: 3 });
    expect(parseBatch('25%')).toEqual({ percent: 25 });
    expect([batchSize({ percent: 25 }, 10), batchSize({ percent: 25 }, 3), batchSize({ percent: 100 }, 7), batchSize({ count: 4 }, 2)]).toEqual([2, 1, 7, 4]);
    expect(batchesOf(['a', 'b', 'c', 'd', 'e'], { count: 2 })).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(batchesOf([], { count: 2 })).toEqual([]);
    for (const bad of ['0', '0%', '101%', '-1', '1.5', '2 %', 'x', '', '%']) expect(() => parseBatch(bad), bad).toThrow(`bad batch size '${bad}'`);
  });

  it('durations: ms, s, m, h or bare seconds; zero only where allowed; a bad one named', () => {
    expect(['500ms', '10s', '2m', '1h', '1.5', '0'].map((d) => parseDuration(d, '--pause', { allowZero: true }))).toEqual([500, 10_000, 120_000, 3_600_000, 1500, 0]);
    expect(() => parseDuration('0s', '--probe-timeout', { allowZero: false })).toThrow("bad --probe-timeout '0s': give a duration such as 500ms, 10s, 2m or 1h (more than 0)");
    for (const bad of ['-1s', '10x', 's', '1e3', '10 s', '9999h']) expect(() => parseDuration(bad, '--pause', { allowZero: true }), bad).toThrow(`bad --pause '${bad}'`);
  });

  it('--max-failed and --probe-rcpt', () => {
    expect([parseMaxFailed('0'), parseMaxFailed('3')]).toEqual([0, 3]);
    for (const bad of ['-1', 'x', '1.5', '']) expect(() => parseMaxFailed(bad), bad).toThrow(`bad --max-failed '${bad}'`);
    expect([parseProbeRcpt(undefined), parseProbeRcpt('none'), parseProbeRcpt('abuse@example.com')]).toEqual([undefined, null, 'abuse@example.com']);
    for (const bad of ['', 'a b', '<x@y>', 'x\r\ny']) expect(() => parseProbeRcpt(bad), JSON.stringify(bad)).toThrow('bad --probe-rcpt');
  });
});
