import { describe, expect, it } from 'vitest';
import { ParameterSet } from '../src/instances/maincf/expand.js';
import { checkParameterNames, instanceValues } from '../src/instances/parameters.js';
import type { Instance } from '../src/instances/instance.js';

// `postconf -d` on a host whose gethostname() is "vm" (no dot).
const defaults = new Map([
  ['myhostname', 'vm.localdomain'],
  ['mydomain', 'localdomain'],
  ['mydestination', '$myhostname, localhost.$mydomain, localhost'],
  ['config_directory', '/etc/postfix'],
  ['relayhost', ''],
]);
const set = (o: Record<string, string>, configDirectory?: string): ParameterSet => new ParameterSet(new Map(Object.entries(o)), defaults, { configDirectory });
const hostAndDomain = (o: Record<string, string>): string[] => {
  const p = set(o);
  return [p.get('myhostname'), p.get('mydomain')];
};

describe("postconf's computed defaults of myhostname and mydomain (values from postconf 3.7 -xh)", () => {
  it('neither set: postconf -d', () => expect(hostAndDomain({})).toEqual(['vm.localdomain', 'localdomain']));
  it('mydomain follows myhostname (raw): after its first dot, else localdomain', () => {
    expect(hostAndDomain({ myhostname: 'a.b.c.example' })).toEqual(['a.b.c.example', 'b.c.example']);
    expect(hostAndDomain({ myhostname: 'nodot' })).toEqual(['nodot', 'localdomain']);
    expect(hostAndDomain({ myhostname: '$x.example', x: 'hh' })).toEqual(['hh.example', 'example']);
  });
  it('a dotless host name gets the evaluated mydomain appended', () => {
    expect(hostAndDomain({ mydomain: 'example.org' })).toEqual(['vm.example.org', 'example.org']);
    expect(hostAndDomain({ mydomain: '$x.org', x: 'ex' })).toEqual(['vm.ex.org', 'ex.org']);
    expect(hostAndDomain({ mydomain: '$myhostname' })).toEqual(['vm.', 'vm.']);
    expect(set({ mydomain: 'example.org' }).get('mydestination')).toBe('vm.example.org, localhost.example.org, localhost');
  });
  it('a host name with a dot is kept whatever mydomain says', () => {
    const d = new Map(defaults).set('myhostname', 'mx.example.net').set('mydomain', 'example.net');
    const p = new ParameterSet(new Map([['mydomain', 'other.org']]), d);
    expect([p.get('myhostname'), p.get('mydomain')]).toEqual(['mx.example.net', 'other.org']);
  });
});

describe('instanceValues / checkParameterNames', () => {
  const i: Instance = { configDirectory: '/etc/postfix-a', queueDirectory: '/q', dataDirectory: '/d', name: 'postfix-a', group: 'g', enabled: true, primary: false };
  const a = set({ relayhost: '[r.$mydomain]', mine: 'x', myhostname: 'h.example.com' }, '/etc/postfix-a');
  it('values expanded; null for a parameter the instance lacks; --explicit as postconf -n (config_directory counts as set)', () => {
    expect(instanceValues(i, a, ['relayhost', 'mine', 'other', 'mydestination'], false)).toMatchObject({
      instance: 'postfix-a',
      values: { relayhost: '[r.example.com]', mine: 'x', other: null, mydestination: 'h.example.com, localhost.example.com, localhost' },
    });
    expect(instanceValues(i, a, ['relayhost', 'mydestination', 'config_directory'], true)).toMatchObject({
      values: { relayhost: '[r.example.com]', mydestination: null, config_directory: '/etc/postfix-a' },
    });
  });
  it('an expansion error fails the instance, naming its main.cf', () => {
    const bad = set({ relayhost: '${oops' }, '/etc/postfix-b');
    expect(instanceValues({ ...i, configDirectory: '/etc/postfix-b' }, bad, ['relayhost'], false)).toMatchObject({ error: expect.stringContaining('/etc/postfix-b/main.cf') });
  });
  it('refuses bad and unknown names, accepts user-defined ones set in some main.cf', () => {
    expect(() => checkParameterNames(['relayhost', 'mine'], defaults, [set({}), a])).not.toThrow();
    expect(() => checkParameterNames(['nosuch'], defaults, [a])).toThrow("unknown parameter: 'nosuch'");
    expect(() => checkParameterNames(['a=b'], defaults, [a])).toThrow("bad parameter name: 'a=b'");
    expect(() => checkParameterNames([], defaults, [a])).toThrow('no parameter name given');
  });
});
