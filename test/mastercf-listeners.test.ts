import { describe, expect, it } from 'vitest';
import { canonicalIpv6, describeListener, interfaceAddresses, isServiceDisabled, listenersClash, listenersOf, parseHost, splitHostPort, type Listener, type ListenerContext } from '../src/instances/mastercf/listeners.js';
import { parseMasterCf } from '../src/instances/mastercf/parse.js';

const PORTS = new Map([['smtp', 25], ['submission', 587], ['smtps', 465]]);
const ctx = (over: Partial<ListenerContext> = {}): ListenerContext => ({
  inetInterfaces: 'all',
  inetProtocols: 'all',
  masterServiceDisable: '',
  expand: (t) => t.replace(/\$\{?(\w+)\}?/g, (_m, n: string) => ({ myport: '2525', myaddr: '10.0.0.1' })[n] ?? ''),
  port: (n) => PORTS.get(n),
  ...over,
});
const at = (master: string, over: Partial<ListenerContext> = {}): string[] => listenersOf(parseMasterCf(master), ctx(over)).map(describeListener);
const l = (family: Listener['family'], address: string, port: number | string = 25): Listener => ({ family, address, port, service: 's', line: 1 });

describe('listener model', () => {
  it('a bare port listens on every inet_interfaces address: all = one wildcard per protocol', () => {
    expect(at('smtp inet n - y - - smtpd\n')).toEqual(['*:25', '[::]:25']);
    expect(at('smtp inet n - y - - smtpd\n', { inetProtocols: 'ipv4' })).toEqual(['*:25']);
    expect(at('smtp inet n - y - - smtpd\n', { inetProtocols: 'ipv6' })).toEqual(['[::]:25']);
  });
  it('loopback-only is 127.0.0.1 and ::1 (per inet_protocols); a list of addresses as given', () => {
    expect(at('smtp inet n - y - - smtpd\n', { inetInterfaces: 'loopback-only' })).toEqual(['127.0.0.1:25', '[::1]:25']);
    expect(at('smtp inet n - y - - smtpd\n', { inetInterfaces: 'loopback-only', inetProtocols: 'ipv4' })).toEqual(['127.0.0.1:25']);
    expect(at('2525 inet n - y - - smtpd\n', { inetInterfaces: '192.0.2.1, [2001:DB8::1] ::2 mail.example.com' })).toEqual([
      '192.0.2.1:2525',
      '[2001:db8::1]:2525',
      '[::2]:2525',
      'mail.example.com:2525',
    ]);
  });
  it('host:port forms override inet_interfaces; port names from /etc/services; $name expanded', () => {
    const master = [
      '127.0.0.1:smtp inet n - y - - smtpd',
      '[::1]:submission inet n - y - - smtpd',
      '0.0.0.0:10025 inet n - y - - smtpd',
      '[::]:10026 inet n - y - - smtpd',
      '$myaddr:$myport inet n - y - - smtpd',
      'localhost:10027 inet n - y - - smtpd',
      'unknownname inet n - y - - smtpd',
      'pickup unix n - y 60 1 pickup',
    ].join('\n');
    expect(at(master, { inetInterfaces: 'loopback-only' })).toEqual([
      '127.0.0.1:25',
      '[::1]:587',
      '*:10025',
      '[::]:10026',
      '10.0.0.1:2525',
      '127.0.0.1:10027',
      '[::1]:10027',
      '127.0.0.1:unknownname',
      '[::1]:unknownname',
    ]);
  });
  it('master_service_disable switches off by type or name/type (or name.type)', () => {
    const master = 'smtp inet n - y - - smtpd\nsubmission inet n - y - - smtpd\n';
    expect(at(master, { masterServiceDisable: 'inet' })).toEqual([]);
    expect(at(master, { masterServiceDisable: 'smtp/inet', inetProtocols: 'ipv4' })).toEqual(['*:587']);
    expect(at(master, { masterServiceDisable: 'foo/unix, submission.inet', inetProtocols: 'ipv4' })).toEqual(['*:25']);
    expect(isServiceDisabled(parseMasterCf('smtp inet n - y - - smtpd')[0]!, 'unix')).toBe(false);
  });
  it('clashes: same port and address; a wildcard takes every address of its family; IPv4 and IPv6 apart', () => {
    expect(listenersClash(l('ipv4', '127.0.0.1'), l('ipv4', '127.0.0.1'))).toBe(true);
    expect(listenersClash(l('ipv4', '127.0.0.1'), l('ipv4', '127.0.0.2'))).toBe(false);
    expect(listenersClash(l('ipv4', '127.0.0.1'), l('ipv4', '127.0.0.1', 26))).toBe(false);
    expect(listenersClash(l('ipv4', '*'), l('ipv4', '192.0.2.7'))).toBe(true);
    expect(listenersClash(l('ipv6', '*'), l('ipv6', '::1'))).toBe(true);
    expect(listenersClash(l('ipv6', '*'), l('ipv4', '127.0.0.1'))).toBe(false);
    expect(listenersClash(l('ipv6', '2001:db8::1'), l('ipv6', '2001:db8::1'))).toBe(true);
    expect(listenersClash(l('name', 'mx.example'), l('name', 'mx.example'))).toBe(true);
    expect(listenersClash(l('name', 'mx.example'), l('ipv4', '*'))).toBe(true);
    expect(listenersClash(l('name', 'mx.example'), l('ipv4', '192.0.2.1'))).toBe(false);
    expect(listenersClash(l('ipv4', '127.0.0.1', 'x'), l('ipv4', '127.0.0.1', 'x'))).toBe(true);
  });
  it('addresses and host:port forms are read canonically', () => {
    expect(canonicalIpv6('2001:0DB8:0:0:0:0:0:0001')).toBe('2001:db8::1');
    expect(canonicalIpv6('::ffff:192.0.2.1')).toBe('::ffff:c000:201');
    expect(canonicalIpv6('0:0:0:0:0:0:0:0')).toBe('::');
    expect(canonicalIpv6('1:0:0:2:0:0:0:3')).toBe('1:0:0:2::3');
    expect(parseHost('[::]', ['ipv4', 'ipv6'])).toEqual([{ family: 'ipv6', address: '*' }]);
    expect(parseHost('127.000.0.1', ['ipv4'])).toEqual([{ family: 'ipv4', address: '127.0.0.1' }]);
    expect(splitHostPort('[::1]:25')).toEqual({ host: '[::1]', port: '25' });
    expect(splitHostPort('host:smtp')).toEqual({ host: 'host', port: 'smtp' });
    expect(splitHostPort('smtp')).toEqual({ host: undefined, port: 'smtp' });
    expect(interfaceAddresses('ALL', ['ipv4'])).toEqual([{ family: 'ipv4', address: '*' }]);
  });
});
