/**
 * Differential test of the master.cf reader: every file in test/fixtures/mastercf/ is read
 * by the real `postconf -c DIR -M` and `-Mf` and by parseMasterCf() + formatMasterEntry(): the
 * output must be byte for byte the same, so every field, every argument and every -o
 * override is read as Postfix reads it. postconf reads the files only; no Postfix is set up.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { formatMasterEntry, overrides, parseMasterCf } from '../src/instances/mastercf/parse.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'mastercf');
const files = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.cf')).sort();

const version = await execa('postconf', ['-dh', 'mail_version'], { reject: false }).then(
  (r) => (r.exitCode === 0 ? r.stdout.trim() : undefined),
  () => undefined,
);
const required = process.env['POSTFLEET_REQUIRE_INTEGRATION'] === '1';
if (version === undefined && !required) console.warn('mastercf-differential: postconf is not installed; skipping');

describe.skipIf(version === undefined && !required)(`master.cf reader vs postconf ${version ?? '(missing)'} -M / -Mf`, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'postfleet-mastercf-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('has a corpus and postconf', () => {
    expect(version).toBeDefined();
    expect(files.length).toBeGreaterThanOrEqual(6);
  });

  it.each(files)('%s', async (file) => {
    const dir = path.join(tmp, file);
    fs.mkdirSync(dir);
    const text = fs.readFileSync(path.join(FIXTURES, file), 'utf8');
    fs.writeFileSync(path.join(dir, 'master.cf'), text);
    fs.writeFileSync(path.join(dir, 'main.cf'), 'compatibility_level = 3.6\n');
    const old = new Date(Date.now() - 60_000);
    for (const f of ['main.cf', 'master.cf']) fs.utimesSync(path.join(dir, f), old, old);
    const entries = parseMasterCf(text, `${dir}/master.cf`);
    expect(entries.length).toBeGreaterThan(0);
    for (const fold of [false, true]) {
      const ref = await execa('postconf', ['-c', dir, fold ? '-Mf' : '-M'], { stripFinalNewline: false });
      const mine = entries.map((e) => `${formatMasterEntry(e, fold)}\n`).join('');
      expect(mine, `${file} ${fold ? '-Mf' : '-M'}`).toBe(ref.stdout);
    }
    // And the overrides as postconf -P lists them (service/type/name = value).
    const p = await execa('postconf', ['-c', dir, '-P'], { stripFinalNewline: false });
    const minePs = entries.flatMap((e) => [...overrides(e)].map(([n, v]) => `${e.service}/${e.type}/${n} = ${v}`));
    expect([...minePs].sort(), `${file} -P`).toEqual(p.stdout.split('\n').filter(Boolean).map((l) => l.replace(/ =$/, ' = ')).sort());
  });
});

describe('parseMasterCf errors', () => {
  it('names the file and line, as postconf does before dying', () => {
    expect(() => parseMasterCf('a inet n - n - -\n', '/x/master.cf')).toThrow('/x/master.cf: line 1: bad field count');
    expect(() => parseMasterCf('# c\n\nd fifo - - - 5m - x\n', 'm')).toThrow('m: line 3: invalid wakeup field "5m"');
    expect(() => parseMasterCf('e inet N - n - 0 x\n', 'm')).toThrow('invalid private field "N"');
    expect(() => parseMasterCf('e tcp n - n - 0 x\n', 'm')).toThrow('invalid type field "tcp"');
  });
});
