/**
 * NAME=VALUE has one rule wherever postfleet takes a setting (config set, create --set, the
 * manifest, create's path arguments): postconf -e's. Each argument below is given to the real `postconf -c DIR -e` on a
 * scratch main.cf and to splitNameValue(): where postconf writes `name = value`, we split the
 * same name and value; where postconf refuses, we refuse. Then what postfleet refuses on top
 * (names that are no parameter name, control characters in values), through each entry point.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parseAssignments } from '../src/instances/lifecycle/config-edit.js';
import { parseManifest } from '../src/instances/lifecycle/manifest.js';
import { parsePathAssignment } from '../src/instances/lifecycle/names.js';
import { parseSetting, splitNameValue } from '../src/instances/maincf/edit.js';
import { parseSetArguments } from '../src/instances/templates/render.js';

const ARGUMENTS = [
  'relayhost=[r.example]:587',
  '  relayhost  =  [r.example]:587  ',
  '\trelayhost\t=\t[r.example]:587\t',
  'smtpd_banner=$myhostname ESMTP  with  spaces',
  'mydestination=',
  'mydestination =   ',
  'a=b=c',
  'a==b',
  'smtp-amavis_x = 1',
  'a b=c',
  '=x',
  ' = x',
  'noequals',
  '',
  '   ',
  'a\v=\fb\v',
];

const hasPostconf = (await execa('postconf', ['-dh', 'mail_version'], { reject: false }).catch(() => ({ exitCode: 1 }))).exitCode === 0;
const required = process.env.POSTFLEET_REQUIRE_INTEGRATION === '1';

/** What `postconf -e ARG` appends to an empty main.cf ([name, value]), or undefined when it refuses. */
async function byPostconf(arg: string): Promise<[string, string] | undefined> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postfleet-setting-'));
  try {
    const mainCf = path.join(dir, 'main.cf');
    fs.writeFileSync(mainCf, '');
    const aMinuteAgo = new Date(Date.now() - 60_000); // postconf waits on a main.cf younger than a second
    fs.utimesSync(mainCf, aMinuteAgo, aMinuteAgo);
    const r = await execa('postconf', ['-c', dir, '-e', arg], { reject: false });
    if (r.exitCode !== 0) return undefined;
    const line = fs.readFileSync(mainCf, 'utf8');
    const m = /^(\S+) = (.*)\n$/s.exec(line);
    if (!m) throw new Error(`postconf -e ${JSON.stringify(arg)} wrote ${JSON.stringify(line)}`);
    return [m[1]!, m[2]!];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('NAME=VALUE is split as postconf -e splits it', () => {
  it('can run postconf', () => {
    if (!hasPostconf && required) throw new Error('POSTFLEET_REQUIRE_INTEGRATION=1 but postconf is not installed');
  });

  // All at once: postconf sleeps a second before it exits on a fatal error.
  const postconf = hasPostconf ? Promise.all(ARGUMENTS.map(byPostconf)) : undefined;
  it.runIf(hasPostconf).each(ARGUMENTS.map((a, k) => [JSON.stringify(a), k] as const))('%s', async (_shown, k) => {
    const ours = splitNameValue(ARGUMENTS[k]!);
    expect(ours === undefined ? undefined : [ours.name, ours.value]).toEqual((await postconf!)[k]);
  });

  it('examples, without postconf', () => {
    expect(splitNameValue('  relayhost  =  [r]:587  ')).toEqual({ name: 'relayhost', value: '[r]:587' });
    expect(splitNameValue('a=b=c')).toEqual({ name: 'a', value: 'b=c' });
    expect(splitNameValue('mydestination =')).toEqual({ name: 'mydestination', value: '' });
    expect(splitNameValue('a b=c')).toBeUndefined();
    expect(splitNameValue('=x')).toBeUndefined();
    expect(splitNameValue('x')).toBeUndefined();
  });
});

describe("what postfleet refuses on top of postconf's split", () => {
  it('a name that is no parameter name; a value with a control character (postconf refuses only a newline)', () => {
    expect(parseSetting(' relayhost = [r]:587 ')).toEqual(['relayhost', '[r]:587']);
    expect(() => parseSetting('my$name=x')).toThrow("bad parameter name in 'my$name=x'");
    expect(() => parseSetting('-e=x')).toThrow("bad parameter name in '-e=x'");
    expect(() => parseSetting('a b=c')).toThrow("expected NAME=VALUE: 'a b=c'");
    for (const value of ['a\nb', 'a\tb', 'a\rb', 'a\x1b[31mb', 'a\x7fb']) {
      expect(() => parseSetting(`myhostname=${value}`)).toThrow('myhostname: the value may not contain a line break or another control character');
    }
  });

  it("the same rule in config set, create --set, the manifest and create's path arguments", () => {
    expect(parseAssignments(['  relayhost =  [r]:587 '])).toEqual([{ op: 'set', name: 'relayhost', value: '[r]:587' }]);
    expect(parseSetArguments(['  relayhost =  [r]:587 '])).toEqual([['relayhost', '[r]:587']]);
    expect(parseManifest('[postfix-a]\n  set.relayhost =  [r]:587 \n', 'm.ini')[0]!.settings).toEqual([['relayhost', '[r]:587']]);

    // postmulti's assign_new_parameter() splits with split_nameval() too
    expect(parsePathAssignment('  config_directory =  /srv/x ', 'create')).toEqual({ param: 'config_directory', value: '/srv/x' });
    expect(() => parsePathAssignment('config directory=/srv/x', 'create')).toThrow("Malformed parameter setting 'config directory=/srv/x'");

    expect(() => parseAssignments(['a b=c'])).toThrow("expected NAME=VALUE: 'a b=c'");
    expect(() => parseSetArguments(['a b=c'])).toThrow("--set: expected NAME=VALUE: 'a b=c'");
    expect(() => parseManifest('[postfix-a]\nset.a b=c\n', 'm.ini')).toThrow("m.ini, line 2: expected key = value: 'set.a b=c'");

    expect(() => parseAssignments(['myhostname=a\tb'])).toThrow('myhostname: the value may not contain');
    expect(() => parseSetArguments(['myhostname=a\tb'])).toThrow('--set: myhostname: the value may not contain');
    // A quoted manifest value is JSON-decoded (ini): "\n" there would be a line break.
    expect(() => parseManifest('[postfix-a]\nset.myhostname = "a\\nb"\n', 'm.ini')).toThrow('m.ini [postfix-a]: myhostname: the value may not contain');
  });
});
