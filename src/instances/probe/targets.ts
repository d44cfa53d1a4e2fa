/**
 * What the health probe of one instance connects to: each `inet` service of its master.cf
 * that master(8) listens on (listeners.ts: master_service_disable, inet_interfaces,
 * inet_protocols, `$name` expansion), on the instance's own address, and how it is spoken to:
 * smtpd and postscreen in SMTP (over TLS from the first byte where smtpd_tls_wrappermode is on
 * for that service), anything else only connected to. Pure: the caller passes the parsed
 * master.cf, the instance's parameters and the port names of /etc/services.
 */
import { expandValue } from '../maincf/expand.js';
import { listenersOf, type Listener } from '../mastercf/listeners.js';
import { overrides, type MasterEntry } from '../mastercf/parse.js';

export interface ProbeTarget {
  /** The master.cf service field as written, and its line: how results name the service. */
  readonly service: string;
  readonly line: number;
  /** The daemon the service runs (smtpd, postscreen, …). */
  readonly command: string;
  /** Where to connect: an address of the instance (a wildcard listener is reached on loopback), or the host name it binds. */
  readonly host: string;
  readonly port: number;
  /** smtpd/postscreen: the SMTP dialogue; otherwise a TCP connection only. */
  readonly smtp: boolean;
  /** smtpd_tls_wrappermode: TLS from the first byte. */
  readonly tls: boolean;
  /** The instance's own myhostname (this service's -o override, if any): EHLO and the postmaster address. */
  readonly myhostname: string;
}

/** A listener the probe cannot reach: counted as a failure, with why. */
export interface UnreachableTarget {
  readonly service: string;
  readonly line: number;
  readonly error: string;
}

/** The parameters the targets are made of (a ParameterSet does). */
export interface TargetParameters {
  get(name: string): string;
  raw(name: string): string | undefined;
}

const SMTP_DAEMONS = new Set(['smtpd', 'postscreen']);
const YES = /^(yes|true|1)$/i;

/** The probe targets of an instance, in master.cf order. */
export function probeTargets(entries: readonly MasterEntry[], params: TargetParameters, port: (name: string) => number | undefined): Array<ProbeTarget | UnreachableTarget> {
  const value = (name: string): string => {
    try {
      return params.get(name);
    } catch {
      return '';
    }
  };
  const listeners = listenersOf(entries, {
    inetInterfaces: value('inet_interfaces'),
    inetProtocols: value('inet_protocols'),
    masterServiceDisable: value('master_service_disable'),
    expand: (text) => expandValue(text, (n) => params.raw(n)),
    port,
  });
  return listeners.map((l) => {
    const entry = entries.find((e) => e.line === l.line && e.type === 'inet')!;
    return target(l, entry, value);
  });
}

function target(l: Listener, e: MasterEntry, value: (name: string) => string): ProbeTarget | UnreachableTarget {
  if (typeof l.port !== 'number') return { service: l.service, line: l.line, error: `unknown port name '${l.port}' (not in /etc/services)` };
  const command = e.command.split('/').pop() ?? e.command;
  const o = overrides(e);
  // An -o value may name a parameter ($name): expanded as main.cf's own values are.
  const setting = (name: string): string => {
    const v = o.get(name);
    return v === undefined ? value(name) : v.includes('$') ? expandValue(v, (n) => (n === name ? undefined : value(n))) : v;
  };
  const host = l.address === '*' ? (l.family === 'ipv6' ? '::1' : '127.0.0.1') : l.address;
  const smtp = SMTP_DAEMONS.has(command);
  return {
    service: l.service,
    line: l.line,
    command,
    host,
    port: l.port,
    smtp,
    tls: command === 'smtpd' && YES.test(setting('smtpd_tls_wrappermode')),
    myhostname: setting('myhostname'),
  };
}

export const isReachable = (t: ProbeTarget | UnreachableTarget): t is ProbeTarget => !('error' in t);

/** `127.0.0.1:25`, `[::1]:25`: how results name where a target was reached. */
export function targetAddress(t: { host: string; port: number }): string {
  return `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}
