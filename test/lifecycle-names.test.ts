import { describe, expect, it } from 'vitest';
import { checkGroupName, checkInstanceName, checkPrivatePath, isSafeName, makePrivatePath, parsePathAssignment } from '../src/instances/lifecycle/names.js';
import { instanceDirectorySpecs } from '../src/instances/lifecycle/permissions.js';
import { parseSetArguments, renderTemplate, type Template } from '../src/instances/templates/render.js';

describe('names and paths (postmulti rules, plus path tricks)', () => {
  it('safe names: letters, digits and !@%-_=+:./', () => {
    expect(isSafeName('postfix-a.b_c=d+e:f@g!h%i')).toBe(true);
    expect(isSafeName('postfix a')).toBe(false);
    expect(isSafeName('postfix-$x')).toBe(false);
    expect(isSafeName('')).toBe(false);
  });
  it('instance names need the prefix and no slash, and the message names the value', () => {
    expect(() => checkInstanceName('out')).toThrow("New instance name must start with 'postfix-': 'out'");
    expect(() => checkInstanceName('postfix-../x')).toThrow("Illegal '/' character in new instance name: 'postfix-../x'");
    expect(() => checkInstanceName('postfix-a b')).toThrow("Unsafe characters in new instance name: 'postfix-a b'");
    expect(() => checkInstanceName('postfix-ok')).not.toThrow();
    expect(() => checkInstanceName('')).not.toThrow();
    expect(() => checkGroupName('m;x')).toThrow("Unsafe characters in '-G m;x'");
  });
  it('derives private paths as make_private_path()', () => {
    expect(makePrivatePath('queue_directory', '/var/spool/postfix', 'postfix-out')).toBe('/var/spool/postfix-out');
    expect(makePrivatePath('queue_directory', '/var/spool/postfix//', 'postfix-out')).toBe('/var/spool/postfix-out');
    expect(makePrivatePath('config_directory', '/postfix', 'postfix-out')).toBe('/postfix-out');
    expect(() => makePrivatePath('data_directory', 'relative', 'postfix-out')).toThrow(/specify an absolute pathname/);
    expect(() => makePrivatePath('data_directory', '/var/lib/postfix', '')).toThrow('Missing data_directory parameter value');
  });
  it('checks name=value path arguments per action', () => {
    expect(parsePathAssignment('config_directory=/srv/x/', 'create')).toEqual({ param: 'config_directory', value: '/srv/x' });
    expect(() => parsePathAssignment('queue_directory=/q', 'import')).toThrow("Parameter 'queue_directory' not valid with action import");
    expect(() => parsePathAssignment('nonsense', 'create')).toThrow("Malformed parameter setting 'nonsense'");
    expect(() => checkPrivatePath('queue_directory', 'x/y')).toThrow(/not an absolute path: 'x\/y'/);
    expect(() => checkPrivatePath('queue_directory', '///')).toThrow(/is the root directory/);
    expect(() => checkPrivatePath('queue_directory', '/var/spool/../etc')).toThrow(/'\.' or '\.\.' component/);
    expect(() => checkPrivatePath('queue_directory', '/var/spool/a b')).toThrow(/white space/);
  });
});

describe('postfix-files directory specs', () => {
  const text = [
    '# comment',
    '$data_directory:d:$mail_owner:-:700:uc',
    '$queue_directory:d:root:-:755:uc',
    '$queue_directory/active:d:$mail_owner:-:700:ucr',
    '$queue_directory/maildrop:d:$mail_owner:$setgid_group:730:uc',
    '$queue_directory/pid/master.pid:f:root:-:644',
    '$command_directory:d:root:-:755:u',
    '$config_directory:d:root:-:755:u',
  ].join('\n');
  it('keeps the queue and data directories, with owners expanded', () => {
    const specs = instanceDirectorySpecs(text, { queue_directory: '/q', data_directory: '/d', mail_owner: 'pf', setgid_group: 'pd' });
    expect(specs).toEqual([
      { path: '/d', owner: 'pf', group: undefined, mode: 0o700, recursive: false },
      { path: '/q', owner: 'root', group: undefined, mode: 0o755, recursive: false },
      { path: '/q/active', owner: 'pf', group: undefined, mode: 0o700, recursive: true },
      { path: '/q/maildrop', owner: 'pf', group: 'pd', mode: 0o730, recursive: false },
    ]);
  });
});

describe('templates', () => {
  const t: Template = {
    name: 'relay',
    directory: '/nowhere',
    description: 'test',
    variables: new Map([['relayhost', 'where mail goes']]),
    mainCf: '# c\nrelayhost = {{relayhost}}\nmydestination =\nsmtp_helo_name = {{ relayhost }}.helo\n',
    masterCf: 'smtp inet n - y - - smtpd -o x={{relayhost}}\n',
  };
  it('fills variables and appends other --set values as parameters', () => {
    const r = renderTemplate(t, [['relayhost', '[r.example]'], ['myorigin', 'example.com']]);
    expect(r.settings).toEqual([
      ['relayhost', '[r.example]'],
      ['mydestination', ''],
      ['smtp_helo_name', '[r.example].helo'],
      ['myorigin', 'example.com'],
    ]);
    expect(r.masterCf).toBe('smtp inet n - y - - smtpd -o x=[r.example]\n');
  });
  it('refuses a missing variable, naming it and what it is for', () => {
    expect(() => renderTemplate(t, [])).toThrow("template 'relay' needs --set relayhost=VALUE (where mail goes)");
  });
  it('without a template, --set values are plain parameters', () => {
    expect(renderTemplate(undefined, [['a', '1']])).toEqual({ settings: [['a', '1']], masterCf: undefined });
  });
  it('parses --set arguments strictly', () => {
    expect(parseSetArguments(['a=1', 'b = x y '])).toEqual([['a', '1'], ['b', 'x y']]);
    expect(() => parseSetArguments(['=1'])).toThrow("--set: expected NAME=VALUE: '=1'");
    expect(() => parseSetArguments(['noequals'])).toThrow("--set: expected NAME=VALUE: 'noequals'");
  });
});
