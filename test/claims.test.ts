import { describe, expect, it } from 'vitest';
import { ClaimTable, instanceClaims } from '../src/instances/claims.js';
import { parseBoolean, splitList } from '../src/instances/instance.js';
import { formatPostmultiJson, formatPostmultiRow } from '../src/instances/listing.js';
import { parsePidFile } from '../src/instances/observe/status.js';

const i = (dir: string, name: string | undefined, q = `/q${dir}`, d = `/d${dir}`) => ({ configDirectory: dir, name, queueDirectory: q, dataDirectory: d });

describe('ClaimTable', () => {
  it('reports a shared queue directory with both instances and the parameter', () => {
    const t = new ClaimTable();
    expect(t.claimAll('/etc/postfix-a', instanceClaims(i('/etc/postfix-a', 'postfix-a', '/q')))).toBeUndefined();
    expect(t.claimAll('/etc/postfix-b', instanceClaims(i('/etc/postfix-b', 'postfix-b', '/q')))).toBe(
      'instance /etc/postfix-b, queue_directory=/q conflicts with instance /etc/postfix-a, queue_directory=/q',
    );
  });
  it('reports duplicate names, and claims nothing of a conflicting instance', () => {
    const t = new ClaimTable();
    t.claimAll('/a', instanceClaims(i('/a', 'postfix-x')));
    expect(t.claimAll('/b', instanceClaims(i('/b', 'postfix-x')))).toMatch(/multi_instance_name=postfix-x conflicts with instance \/a, multi_instance_name/);
    expect(t.ownerOf('/q/b')).toBeUndefined();
  });
  it('a private directory may not be a shared one', () => {
    const t = new ClaimTable();
    t.claimAll('/etc/postfix', [{ param: 'command_directory', value: '/usr/sbin' }]);
    expect(t.claimAll('/c', instanceClaims(i('/c', undefined, '/usr/sbin')))).toBe(
      'instance /c, queue_directory=/usr/sbin conflicts with instance /etc/postfix, command_directory=/usr/sbin',
    );
  });
  it('the same owner may claim again (postmulti tolerates a directory listed twice)', () => {
    const t = new ClaimTable();
    t.claimAll('/a', instanceClaims(i('/a', 'postfix-a')));
    expect(t.claimAll('/a', instanceClaims(i('/a', 'postfix-a')))).toBeUndefined();
  });
});

describe('small parsers', () => {
  it('splitList splits on commas and white space', () => {
    expect(splitList(' /a, /b\t/c,,\n/d ')).toEqual(['/a', '/b', '/c', '/d']);
    expect(splitList(' , ')).toEqual([]);
  });
  it('parseBoolean accepts yes/no in any case only', () => {
    expect(parseBoolean('YeS')).toBe(true);
    expect(parseBoolean('NO')).toBe(false);
    expect(parseBoolean('true')).toBeUndefined();
    expect(parseBoolean('')).toBeUndefined();
  });
  it('parsePidFile reads Postfix’s padded pid', () => {
    expect(parsePidFile('       123\n')).toBe(123);
    expect(parsePidFile('')).toBeNull();
    expect(parsePidFile('abc')).toBeNull();
  });
  it('formats postmulti rows', () => {
    const inst = { configDirectory: '/etc/postfix-out', queueDirectory: '', dataDirectory: '', name: 'postfix-out', group: 'mta', enabled: true, primary: false };
    expect(formatPostmultiRow(inst)).toBe('postfix-out     mta             y         /etc/postfix-out\n');
    expect(formatPostmultiRow({ ...inst, name: 'postfix-a-very-long-name', group: undefined, enabled: false })).toBe(
      'postfix-a-very-long-name -               n         /etc/postfix-out\n',
    );
    expect(formatPostmultiJson(inst)).toBe('{"name": "postfix-out","group": "mta","enabled": "y","config_directory": "/etc/postfix-out"}\n');
  });
});
