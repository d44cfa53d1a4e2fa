/**
 * Where an instance's master(8) listens: each `inet` service of master.cf
 * that master_service_disable does not switch off, on its own `host:port`
 * or else on every address of inet_interfaces. Pure: the caller passes the
 * instance's parameters (for `$name` in the service field, as master(8)
 * expands it) and the port names of /etc/services.
 */
import { splitList } from '../instance.js';
import type { MasterEntry } from './parse.js';

export type Family = 'ipv4' | 'ipv6' | 'name';

export interface Listener {
  readonly family: Family;
  /** An address ('*' for every address of the family), or a host name (lower case). */
  readonly address: string;
  /** A port number, or a port name /etc/services does not know. */
  readonly port: number | string;
  /** The master.cf entry: its service field as written, and its line. */
  readonly service: string;
  readonly line: number;
}

export interface ListenerContext {
  readonly inetInterfaces: string;
  readonly inetProtocols: string;
  readonly masterServiceDisable: string;
  /** Expands `$name` in a service field with the instance's parameters. */
  readonly expand: (text: string) => string;
  /** TCP port of a service name (/etc/services), undefined if unknown. */
  readonly port: (name: string) => number | undefined;
}

/** The address families of inet_protocols ("all": both). */
function protocols(inetProtocols: string): Family[] {
  const words = splitList(inetProtocols.toLowerCase());
  if (words.includes('all')) return ['ipv4', 'ipv6'];
  return (['ipv4', 'ipv6'] as const).filter((f) => words.includes(f));
}

/** master_service_disable: a service type, or name/type (name.type before Postfix 3.0). */
export function isServiceDisabled(e: MasterEntry, masterServiceDisable: string, expandedService = e.service): boolean {
  const words = splitList(masterServiceDisable);
  return words.some((w) => w === e.type || [e.service, expandedService].some((s) => w === `${s}/${e.type}` || w === `${s}.${e.type}`));
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** One host as master(8) or inet_interfaces name it: family and canonical address. */
export function parseHost(host: string, families: readonly Family[]): Array<{ family: Family; address: string }> {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h === '' || h === '*') return families.map((family) => ({ family, address: '*' }));
  if (IPV4.test(h)) return [{ family: 'ipv4', address: h === '0.0.0.0' ? '*' : h.split('.').map(Number).join('.') }];
  if (h.includes(':')) {
    const address = canonicalIpv6(h);
    return [{ family: 'ipv6', address: address === '::' ? '*' : address }];
  }
  const name = h.toLowerCase();
  if (name === 'localhost') return loopback(families);
  return [{ family: 'name', address: name }];
}

function loopback(families: readonly Family[]): Array<{ family: Family; address: string }> {
  const out: Array<{ family: Family; address: string }> = [];
  if (families.includes('ipv4')) out.push({ family: 'ipv4', address: '127.0.0.1' });
  if (families.includes('ipv6')) out.push({ family: 'ipv6', address: '::1' });
  return out;
}

/** RFC 5952-ish canonical text: lower case, zeros expanded then the longest run compressed. */
export function canonicalIpv6(text: string): string {
  const lower = text.toLowerCase().replace(/%.*$/, '');
  let head = lower;
  let tail = '';
  const dbl = lower.indexOf('::');
  if (dbl >= 0) {
    head = lower.slice(0, dbl);
    tail = lower.slice(dbl + 2);
  }
  const toGroups = (s: string): string[] => {
    if (s === '') return [];
    const parts = s.split(':');
    const last = parts.at(-1)!;
    const v4 = IPV4.exec(last);
    if (v4) parts.splice(-1, 1, ((+v4[1]! << 8) | +v4[2]!).toString(16), ((+v4[3]! << 8) | +v4[4]!).toString(16));
    return parts;
  };
  const h = toGroups(head);
  const t = toGroups(tail);
  const groups = dbl >= 0 ? [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
  const nums = groups.map((g) => parseInt(g || '0', 16).toString(16));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < nums.length; ) {
    if (nums[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < nums.length && nums[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return nums.join(':');
  return `${nums.slice(0, best).join(':')}::${nums.slice(best + bestLen).join(':')}`;
}

/** The addresses of inet_interfaces: all, loopback-only, or a list of hosts. */
export function interfaceAddresses(inetInterfaces: string, families: readonly Family[]): Array<{ family: Family; address: string }> {
  const words = splitList(inetInterfaces);
  if (words.some((w) => w.toLowerCase() === 'all')) return families.map((family) => ({ family, address: '*' }));
  if (words.some((w) => w.toLowerCase() === 'loopback-only')) return loopback(families);
  return words.flatMap((w) => parseHost(w, families));
}

/** Splits a service field into host and port: `port`, `host:port`, `[v6]:port`. */
export function splitHostPort(service: string): { host: string | undefined; port: string } {
  if (service.startsWith('[')) {
    const close = service.indexOf(']');
    if (close > 0 && service[close + 1] === ':') return { host: service.slice(0, close + 1), port: service.slice(close + 2) };
  }
  const colon = service.lastIndexOf(':');
  return colon < 0 ? { host: undefined, port: service } : { host: service.slice(0, colon), port: service.slice(colon + 1) };
}

/** Every listener of one instance's master.cf. */
export function listenersOf(entries: readonly MasterEntry[], ctx: ListenerContext): Listener[] {
  const families = protocols(ctx.inetProtocols);
  const out: Listener[] = [];
  for (const e of entries) {
    if (e.type !== 'inet') continue;
    let expanded: string;
    try {
      expanded = ctx.expand(e.service);
    } catch {
      expanded = e.service;
    }
    if (isServiceDisabled(e, ctx.masterServiceDisable, expanded)) continue;
    const { host, port: portText } = splitHostPort(expanded);
    const port = /^\d+$/.test(portText) ? Number(portText) : (ctx.port(portText) ?? portText);
    const addresses = host === undefined ? interfaceAddresses(ctx.inetInterfaces, families) : parseHost(host, families);
    for (const a of addresses) out.push({ ...a, port, service: e.service, line: e.line });
  }
  return out;
}

/** Whether two listeners would bind the same port on the same address (a wildcard takes every address of its family). */
export function listenersClash(a: Listener, b: Listener): boolean {
  if (a.port !== b.port) return false;
  if (a.family === 'name' || b.family === 'name') {
    if (a.family === b.family) return a.address === b.address;
    // A host name may resolve to any address: it clashes with a wildcard.
    return (a.family === 'name' ? b : a).address === '*';
  }
  return a.family === b.family && (a.address === '*' || b.address === '*' || a.address === b.address);
}

export function describeListener(l: Listener): string {
  const host = l.address === '*' ? (l.family === 'ipv6' ? '[::]' : '*') : l.family === 'ipv6' ? `[${l.address}]` : l.address;
  return `${host}:${l.port}`;
}
