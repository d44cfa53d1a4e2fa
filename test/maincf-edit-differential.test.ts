/**
 * Differential test: every case in test/fixtures/maincf-edit/ is applied both
 * by real postconf (one edit per invocation, so postconf's hash-table order
 * for several new settings never matters) and by editMainCf(), and the two
 * resulting files must be identical byte for byte.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

import { editMainCf } from '../src/instances/maincf/edit.js';
import type { MainCfEdit } from '../src/instances/maincf/edit.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'maincf-edit');

type Case = {
  file: string;
  description: string;
  maincf?: string;
  maincfFile?: string;
  /** 'latin1': each character of maincf is one byte of the file. */
  encoding?: 'utf8' | 'latin1';
  edits: MainCfEdit[];
};

function loadCases(): Case[] {
  return fs
    .readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as Omit<Case, 'file'>) }));
}

function originalBytes(c: Case): Buffer {
  if (c.maincfFile !== undefined) return fs.readFileSync(path.join(FIXTURES, c.maincfFile));
  if (c.maincf === undefined) throw new Error(`${c.file}: needs maincf or maincfFile`);
  return Buffer.from(c.maincf, c.encoding ?? 'utf8');
}

function postconfArgs(edit: MainCfEdit): string[] {
  switch (edit.op) {
    case 'set':
      return ['-e', `${edit.name}=${edit.value}`];
    case 'remove':
      return ['-X', edit.name];
    case 'comment':
      return ['-#', edit.name];
  }
}

async function findPostconf(): Promise<string | undefined> {
  const r = await execa('postconf', ['-dh', 'mail_version'], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/*
 * Postfix before 3.8-ish copies an unterminated last line as is, so a setting
 * appended after it is glued onto it ("b = 2c = 3"), corrupting both. Current
 * Postfix (pcf_next_cf_line()) first terminates that line, and so does
 * editMainCf. With an old postconf the comparison feeds it the same file with
 * the newline added, which is exactly the difference between the two.
 */
async function postconfTerminatesLastLine(): Promise<boolean> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postfleet-maincf-probe-'));
  try {
    const mainCf = path.join(dir, 'main.cf');
    fs.writeFileSync(mainCf, 'a = 1');
    backdate(mainCf);
    await execa('postconf', ['-c', dir, '-e', 'b=2']);
    return fs.readFileSync(mainCf, 'utf8') === 'a = 1\nb = 2\n';
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Postfix programs wait for a main.cf younger than a second to settle. */
function backdate(file: string): void {
  const aMinuteAgo = new Date(Date.now() - 60_000);
  fs.utimesSync(file, aMinuteAgo, aMinuteAgo);
}

function withFinalNewline(bytes: Buffer): Buffer {
  return bytes.length === 0 || bytes[bytes.length - 1] === 0x0a ? bytes : Buffer.concat([bytes, Buffer.from('\n')]);
}

const postconfVersion = await findPostconf();
const terminatesLastLine = postconfVersion !== undefined && (await postconfTerminatesLastLine());
if (postconfVersion !== undefined && !terminatesLastLine) {
  console.warn(
    `maincf-edit-differential: postconf ${postconfVersion} glues a setting onto an unterminated last line; ` +
      'giving it files with their final newline',
  );
}
const requireIntegration = process.env.POSTFLEET_REQUIRE_INTEGRATION === '1';
if (postconfVersion === undefined && !requireIntegration) {
  console.warn('maincf-edit-differential: postconf not found; skipping the comparison with real postconf');
}
const cases = loadCases();

describe('editMainCf matches postconf byte for byte', () => {
  it('has a corpus of at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it('can run postconf', () => {
    if (postconfVersion === undefined && requireIntegration) {
      throw new Error('POSTFLEET_REQUIRE_INTEGRATION=1 but postconf is not installed');
    }
  });

  it.runIf(postconfVersion !== undefined).each(cases)('$file: $description', async (c) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postfleet-maincf-diff-'));
    try {
      const original = originalBytes(c);
      const mainCf = path.join(dir, 'main.cf');
      fs.writeFileSync(mainCf, terminatesLastLine ? original : withFinalNewline(original));
      for (const edit of c.edits) {
        backdate(mainCf);
        const r = await execa('postconf', ['-c', dir, ...postconfArgs(edit)], { reject: false });
        expect(r.exitCode, `postconf ${postconfArgs(edit).join(' ')}: ${r.stderr}`).toBe(0);
      }
      const byPostconf = fs.readFileSync(mainCf);
      const encoding = c.encoding ?? 'utf8';
      const ours = Buffer.from(editMainCf(original.toString(encoding), c.edits), encoding);
      // Compare as escaped text so a failure shows where the bytes differ.
      expect(JSON.stringify(ours.toString('latin1'))).toBe(JSON.stringify(byPostconf.toString('latin1')));
      expect(fs.readdirSync(dir)).toEqual(['main.cf']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
