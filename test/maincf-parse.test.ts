import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { PostfleetError } from '../src/instances/errors.js';
import { loadDefaults, loadDefaultsInBackground, parsePostconfOutput, readMainCf, startDefaultsEarly } from '../src/instances/maincf/defaults.js';
import { parseMainCf, readLogicalLines, splitNameValue } from '../src/instances/maincf/parse.js';

const entries = (text: string): Array<[string, string]> => [...parseMainCf(text)];

describe('readLogicalLines (readllines)', () => {
  it('joins continuation pieces as they are, dropping only the newline', () => {
    expect(readLogicalLines('a = b\n\tc\n  d\n')).toEqual([{ text: 'a = b\tc  d', line: 1 }]);
  });

  it('drops comment and blank lines, also inside a continuation', () => {
    const text = '# top\na = 1\n# flush-left\n   # indented\n\n \t \n  2\nb = 3\n';
    expect(readLogicalLines(text)).toEqual([
      { text: 'a = 1  2', line: 2 },
      { text: 'b = 3', line: 8 },
    ]);
  });

  it('drops a white-space-led logical line at the top, continuations included', () => {
    expect(readLogicalLines('# c\n  a = 1\n\tmore\nb = 2\n')).toEqual([{ text: 'b = 2', line: 4 }]);
  });

  it('reads a last line without newline', () => {
    expect(readLogicalLines('a = 1\nb = 2')).toEqual([
      { text: 'a = 1', line: 1 },
      { text: 'b = 2', line: 2 },
    ]);
  });

  it('has nothing for empty or comment-only text', () => {
    expect(readLogicalLines('')).toEqual([]);
    expect(readLogicalLines('# only\n\n   \n#x')).toEqual([]);
  });
});

describe('splitNameValue (split_nameval)', () => {
  it.each([
    ['a = b', 'a', 'b'],
    ['a=b', 'a', 'b'],
    ['a =b', 'a', 'b'],
    ['a= b', 'a', 'b'],
    ['a \t=\t b \t', 'a', 'b'],
    ['a =', 'a', ''],
    ['a=', 'a', ''],
    ['a = b = c', 'a', 'b = c'],
    ['a=b=c', 'a', 'b=c'],
    ['foo.bar-x = 1', 'foo.bar-x', '1'],
    ['a = x # not a comment', 'a', 'x # not a comment'],
  ])('%j', (line, name, value) => {
    expect(splitNameValue(line)).toEqual({ name, value });
  });

  it.each([
    ['= b', 'missing attribute name'],
    ['=', 'missing attribute name'],
    ['a b = c', "missing '=' after attribute name"],
    ['just-a-name', "missing '=' after attribute name"],
  ])('rejects %j', (line, error) => {
    expect(splitNameValue(line)).toEqual({ error });
  });

  it('stops at a NUL byte, as C string handling does', () => {
    expect(splitNameValue('a = b\0c = d')).toEqual({ name: 'a', value: 'b' });
    expect(splitNameValue('a\0 = b')).toEqual({ error: "missing '=' after attribute name" });
  });
});

describe('parseMainCf', () => {
  it('lets later settings win', () => {
    expect(parseMainCf('a = 1\nb = 2\na = 3\n').get('a')).toBe('3');
    expect(parseMainCf('a = 1\na =\n').get('a')).toBe('');
  });

  it('keeps values raw: no $ expansion, no white-space squeezing inside', () => {
    expect(entries('a = $b ${c} \t x\n')).toEqual([['a', '$b ${c} \t x']]);
  });

  it('treats CR as white space: trimmed at the end, kept inside a continuation', () => {
    expect(entries('a = 1\r\nb = x\r\n  y\r\n\r\n')).toEqual([
      ['a', '1'],
      ['b', 'x\r  y'],
    ]);
  });

  it('lets the = and the value sit on continuation lines', () => {
    expect(entries('a\n  = 1\nb =\n\t2\n')).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });

  it('does not treat form feed and vertical tab specially inside a value', () => {
    expect(parseMainCf('a = \f1\v2 \f\n').get('a')).toBe('1\v2');
  });

  it('fails, like every Postfix program, on a line that is not name = value', () => {
    const bad = (): unknown => parseMainCf('# c\na = 1\nnot a setting\n', '/etc/postfix/main.cf');
    expect(bad).toThrow(PostfleetError);
    expect(bad).toThrow(`/etc/postfix/main.cf, line 3: missing '=' after attribute name: "not a setting"`);
    expect(() => parseMainCf('= 1\n')).toThrow(`main.cf, line 1: missing attribute name: "= 1"`);
  });

  it('reports the first physical line of a broken continued setting', () => {
    expect(() => parseMainCf('a = 1\nbro\n ken = 2\n')).toThrow('line 2:');
  });
});

describe('parsePostconfOutput', () => {
  it('reads name = value and name = lines', () => {
    const text = 'a = 1\nb =\nc = x = y  z\n\n';
    expect([...parsePostconfOutput(text)]).toEqual([
      ['a', '1'],
      ['b', ''],
      ['c', 'x = y  z'],
    ]);
  });

  it('passes over lines that cannot be parameters', () => {
    expect([...parsePostconfOutput('garbage\n = x\na = 1')]).toEqual([['a', '1']]);
  });
});

const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'postfleet-maincf-parse-'));
afterAll(() => fs.rmSync(tempRoot, { recursive: true, force: true }));

describe('readMainCf', () => {
  it('reads DIR/main.cf', () => {
    const dir = fs.mkdtempSync(path.join(tempRoot, 'ok-'));
    fs.writeFileSync(path.join(dir, 'main.cf'), 'queue_directory = /q\n');
    expect(readMainCf(dir).get('queue_directory')).toBe('/q');
  });

  it('names the path and the reason when main.cf is missing', () => {
    const dir = path.join(tempRoot, 'missing');
    expect(() => readMainCf(dir)).toThrow(PostfleetError);
    expect(() => readMainCf(dir)).toThrow(`cannot read ${dir}/main.cf: No such file or directory`);
  });

  it('names the path when main.cf is not a file', () => {
    const dir = fs.mkdtempSync(path.join(tempRoot, 'dir-'));
    fs.mkdirSync(path.join(dir, 'main.cf'));
    expect(() => readMainCf(dir)).toThrow(`cannot read ${dir}/main.cf: Is a directory`);
  });

  it('names the path in syntax errors', () => {
    const dir = fs.mkdtempSync(path.join(tempRoot, 'bad-'));
    fs.writeFileSync(path.join(dir, 'main.cf'), 'oops\n');
    expect(() => readMainCf(dir)).toThrow(`${dir}/main.cf, line 1: missing '=' after attribute name: "oops"`);
  });
});

// The same contract whether postconf -d runs in the foreground or alongside the reads.
// Also when bin/run.js started that postconf -d early (startDefaultsEarly()): taken over by
// the background load, or by loadDefaults() if it has finished by then (else it runs its own).
const loaders = [
  ['loadDefaults', async (postconf: string) => loadDefaults(postconf)],
  ['loadDefaultsInBackground', (postconf: string) => loadDefaultsInBackground(postconf)],
  [
    'startDefaultsEarly, then loadDefaultsInBackground',
    (postconf: string) => {
      startDefaultsEarly(postconf);
      return loadDefaultsInBackground(postconf);
    },
  ],
  [
    'startDefaultsEarly, then loadDefaults',
    async (postconf: string) => {
      startDefaultsEarly(postconf);
      return loadDefaults(postconf);
    },
  ],
] as const;

describe.each(loaders)('%s', (_name, load) => {
  it('fails with one line when postconf cannot be run', async () => {
    const missing = path.join(tempRoot, 'no-such-postconf');
    await expect(load(missing)).rejects.toThrow(PostfleetError);
    await expect(load(missing)).rejects.toThrow(/^cannot run .*no-such-postconf -d: .* not found/);
  });

  it('fails with postconf’s own first error line when it exits non-zero', async () => {
    const fake = path.join(tempRoot, 'failing-postconf');
    fs.writeFileSync(fake, '#!/bin/sh\necho "postconf: fatal: something broke" >&2\necho "more" >&2\nexit 1\n', { mode: 0o755 });
    await expect(load(fake)).rejects.toThrow(`${fake} -d failed: postconf: fatal: something broke`);
  });

  it('fails when postconf prints no parameters', async () => {
    const fake = path.join(tempRoot, 'silent-postconf');
    fs.writeFileSync(fake, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    await expect(load(fake)).rejects.toThrow(`${fake} -d printed no parameters`);
  });

  it('reads the parameters postconf -d prints', async () => {
    const fake = path.join(tempRoot, 'fake-postconf');
    fs.writeFileSync(fake, '#!/bin/sh\n[ "$1" = -d ] || exit 2\nprintf "queue_directory = /var/spool/postfix\\nmulti_instance_name =\\n"\n', { mode: 0o755 });
    expect([...(await load(fake))]).toEqual([
      ['queue_directory', '/var/spool/postfix'],
      ['multi_instance_name', ''],
    ]);
  });
});

describe('an early postconf -d (startDefaultsEarly)', () => {
  /** A postconf -d that counts its runs in a file next to it. */
  function countingPostconf(name: string): { postconf: string; runs: () => number } {
    const postconf = path.join(tempRoot, name);
    const log = `${postconf}.runs`;
    fs.writeFileSync(postconf, `#!/bin/sh\necho run >> '${log}'\nprintf "queue_directory = /var/spool/${name}\\n"\n`, { mode: 0o755 });
    return { postconf, runs: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0) };
  }

  it('is taken over by the next background load of the same postconf: one run, not two', async () => {
    const a = countingPostconf('early-a');
    startDefaultsEarly(a.postconf);
    expect([...(await loadDefaultsInBackground(a.postconf))]).toEqual([['queue_directory', '/var/spool/early-a']]);
    expect(a.runs()).toBe(1);
    // Taken once: the next load runs postconf itself.
    await loadDefaultsInBackground(a.postconf);
    expect(a.runs()).toBe(2);
  });

  it('is not taken for another postconf', async () => {
    const a = countingPostconf('early-b');
    const b = countingPostconf('early-c');
    startDefaultsEarly(a.postconf);
    expect([...(await loadDefaultsInBackground(b.postconf))]).toEqual([['queue_directory', '/var/spool/early-c']]);
    expect(b.runs()).toBe(1);
    expect([...(await loadDefaultsInBackground(a.postconf))]).toEqual([['queue_directory', '/var/spool/early-b']]);
    expect(a.runs()).toBe(1);
  });

  it('keeps the process alive only once taken over (a command that never asks does not wait for it)', async () => {
    // A postconf that answers only once told to: the early run is still going while we look.
    const postconf = path.join(tempRoot, 'early-waiting');
    const go = `${postconf}.go`;
    fs.writeFileSync(postconf, `#!/bin/sh\nwhile [ ! -e '${go}' ]; do sleep 0.02; done\nprintf "a = b\\n"\n`, { mode: 0o755 });
    const holding = (): number => process.getActiveResourcesInfo().filter((r) => r === 'ProcessWrap' || r === 'PipeWrap').length;
    const before = holding();
    startDefaultsEarly(postconf);
    expect(holding()).toBe(before);
    const taken = loadDefaultsInBackground(postconf);
    expect(holding()).toBeGreaterThan(before);
    fs.writeFileSync(go, '');
    expect([...(await taken)]).toEqual([['a', 'b']]);
  });
});
