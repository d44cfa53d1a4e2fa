/**
 * One probe of one listener, never delivering anything: connect (a TLS handshake first for a
 * wrapper-mode service), then for smtpd and postscreen the 220 greeting, EHLO (250),
 * MAIL FROM:<> and RCPT TO:<postmaster@myhostname> (or the address given), then RSET and
 * QUIT. RCPT is where smtpd evaluates its restrictions: a bare <postmaster> is exempt from
 * them (smtpd answers 250 even when they are broken), postmaster@myhostname is not.
 *
 * A 2xx or 5xx answer to MAIL or RCPT is healthy: the server works and applies its policy. A
 * 4.3.x answer (server configuration or lookup failure: "451 4.3.5 Server configuration
 * error", "451 4.3.0 Temporary lookup failure"), a 421, a 451 without an enhanced code, a
 * timeout or a disconnect is not. Other 4xx answers (greylisting, 4.7.x) are policy, healthy.
 */
import net from 'node:net';
import tls from 'node:tls';
import { targetAddress, type ProbeTarget } from './targets.js';

type ProbeStage = 'connect' | 'tls' | 'greeting' | 'ehlo' | 'mail' | 'rcpt' | 'done';

export interface TargetResult {
  readonly service: string;
  /** Its master.cf line. */
  readonly line: number;
  readonly command: string;
  /** Where it was reached: `127.0.0.1:25`. */
  readonly address: string;
  readonly tls: boolean;
  readonly healthy: boolean;
  /** How far the dialogue got: `done` when it went all the way. */
  readonly stage: ProbeStage;
  /** The last line of each reply, by command: greeting, ehlo, mail, rcpt. */
  readonly replies: Readonly<Partial<Record<'greeting' | 'ehlo' | 'mail' | 'rcpt', string>>>;
  /** Why it is unhealthy, in one line. */
  readonly error?: string;
  readonly durationMs: number;
}

export interface SmtpProbeOptions {
  /** The whole dialogue's time limit. */
  readonly timeoutMs: number;
  /** RCPT TO address; undefined: postmaster@ the target's myhostname; null: stop after EHLO. */
  readonly rcpt: string | null | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** Whether a reply to MAIL or RCPT says the server is broken rather than applying a policy. */
export function isServerFailure(reply: string): boolean {
  const code = Number(reply.slice(0, 3));
  if (code >= 200 && code < 300) return false;
  if (code >= 500 && code < 600) return false;
  if (code === 421) return true;
  const enhanced = /^\d{3}[ -](\d)\.(\d{1,3})\.\d{1,3}\b/.exec(reply);
  if (enhanced) return enhanced[1] === '4' && enhanced[2] === '3';
  return code === 451 || !(code >= 400 && code < 500);
}

/** Probes one target; never throws. */
export async function probeTarget(t: ProbeTarget, options: SmtpProbeOptions): Promise<TargetResult> {
  const started = performance.now();
  const replies: Partial<Record<'greeting' | 'ehlo' | 'mail' | 'rcpt', string>> = {};
  let stage: ProbeStage = 'connect';
  const result = (healthy: boolean, error?: string): TargetResult => ({
    service: t.service,
    line: t.line,
    command: t.command,
    address: targetAddress(t),
    tls: t.tls,
    healthy,
    stage,
    replies: { ...replies },
    ...(error !== undefined ? { error } : {}),
    durationMs: Math.round(performance.now() - started),
  });
  const session = new Session(t, options);
  try {
    await session.connected();
    if (!t.smtp) return result(true);
    stage = 'greeting';
    replies.greeting = await session.reply();
    if (!replies.greeting.startsWith('220')) return result(false, `greeting: ${replies.greeting}`);
    stage = 'ehlo';
    replies.ehlo = await session.command(`EHLO ${t.myhostname || 'localhost'}`);
    if (!replies.ehlo.startsWith('250')) return result(false, `EHLO: ${replies.ehlo}`);
    // With PIPELINING (smtpd offers it), MAIL and RCPT go in one write, RSET and QUIT in another:
    // four round trips instead of six, which is most of a probe's time on a busy host.
    const pipelining = session.lastReply.some((l) => /^250[ -]PIPELINING\b/i.test(l));
    const rcpt = options.rcpt === undefined ? `postmaster@${t.myhostname}` : options.rcpt;
    let failure: string | undefined;
    if (rcpt !== null) {
      stage = 'mail';
      if (pipelining) session.send(['MAIL FROM:<>', `RCPT TO:<${rcpt}>`]);
      replies.mail = pipelining ? await session.reply() : await session.command('MAIL FROM:<>');
      if (isServerFailure(replies.mail)) failure = `MAIL FROM:<>: ${replies.mail}`;
      else if (replies.mail.startsWith('2')) {
        stage = 'rcpt';
        replies.rcpt = pipelining ? await session.reply() : await session.command(`RCPT TO:<${rcpt}>`);
        if (isServerFailure(replies.rcpt)) failure = `RCPT TO:<${rcpt}>: ${replies.rcpt}`;
      } else if (pipelining) await session.reply(); // RCPT's answer to a refused MAIL ("503 need MAIL")
    }
    // RSET and QUIT, healthy or not: the transaction is dropped, nothing is ever delivered.
    const end = rcpt === null ? ['QUIT'] : ['RSET', 'QUIT'];
    if (failure !== undefined) {
      await session.close(end);
      return result(false, failure);
    }
    stage = 'done';
    await session.close(end);
    return result(true);
  } catch (e) {
    return result(false, (e as Error).message);
  } finally {
    session.destroy();
  }
}

let context: tls.SecureContext | undefined;
/** One TLS client context for every probe: making one per connection costs more than the handshake. The peer is the instance itself: its certificate is not verified. */
function clientContext(): tls.SecureContext {
  context ??= tls.createSecureContext();
  return context;
}

/** One connection: replies read line by line (multi-line replies whole), every wait bounded by the deadline. */
class Session {
  private readonly socket: net.Socket;
  private buffer = '';
  private lines: string[] = [];
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private isConnected = false;
  private readonly timer: NodeJS.Timeout;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = (): void => this.fail(new Error('probe cancelled'));

  constructor(
    private readonly t: ProbeTarget,
    options: SmtpProbeOptions,
  ) {
    const where = targetAddress(t);
    this.socket = t.tls
      ? tls.connect({ host: t.host, port: t.port, rejectUnauthorized: false, secureContext: clientContext(), ...(net.isIP(t.host) ? {} : { servername: t.host }) }, () => this.onConnect())
      : net.connect({ host: t.host, port: t.port }, () => this.onConnect());
    this.socket.setEncoding('latin1');
    this.socket.on('data', (chunk: string) => this.onData(chunk));
    this.socket.on('error', (e: NodeJS.ErrnoException) => this.fail(new Error(this.describeError(e))));
    this.socket.on('close', () => this.fail(new Error(this.isConnected ? `${where}: connection closed by the server` : `${where}: connection closed`)));
    this.timer = setTimeout(() => this.fail(new Error(`${where}: no answer within ${options.timeoutMs / 1000} s`)), options.timeoutMs);
    this.signal = options.signal;
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  private describeError(e: NodeJS.ErrnoException): string {
    const where = targetAddress(this.t);
    if (e.code === 'ECONNREFUSED') return `${where}: connection refused`;
    if (e.code === 'ECONNRESET') return `${where}: connection reset${this.t.tls && !this.isConnected ? ' during the TLS handshake' : ''}`;
    if (this.t.tls && !this.isConnected) return `${where}: TLS handshake failed: ${e.message}`;
    return `${where}: ${e.code ?? e.message}`;
  }

  private onConnect(): void {
    this.isConnected = true;
    this.notify();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      this.lines.push(this.buffer.slice(0, nl).replace(/\r$/, ''));
      this.buffer = this.buffer.slice(nl + 1);
    }
    this.notify();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async until<T>(ready: () => T | undefined): Promise<T> {
    for (;;) {
      const value = ready();
      if (value !== undefined) return value;
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  connected(): Promise<true> {
    return this.until(() => (this.isConnected ? true : undefined));
  }

  /** Every line of the last reply read. */
  lastReply: readonly string[] = [];

  /** The next reply, whole: its last line (`250 2.1.5 Ok`); all its lines in lastReply. */
  reply(): Promise<string> {
    return this.until(() => {
      const end = this.lines.findIndex((l) => !/^\d{3}-/.test(l));
      if (end < 0) return undefined;
      this.lastReply = this.lines.slice(0, end + 1);
      this.lines = this.lines.slice(end + 1);
      return this.lastReply[end]!;
    });
  }

  /** Commands in one write (pipelined). */
  send(lines: readonly string[]): void {
    this.socket.write(lines.map((l) => `${l}\r\n`).join(''));
  }

  command(line: string): Promise<string> {
    this.send([line]);
    return this.reply();
  }

  /** The last commands (RSET, QUIT), pipelined, their answers awaited: a server that hangs up instead is no failure of its service. */
  async close(lines: readonly string[]): Promise<void> {
    this.send(lines);
    try {
      for (const _ of lines) await this.reply();
    } catch {
      // gone before answering: the dialogue itself was whole
    }
  }

  destroy(): void {
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.socket.destroy();
  }
}
