/**
 * unifiedDiff() against GNU diff: the same two texts given to `diff -u --label FROM --label TO`
 * must print the same bytes. The texts: every case of the postconf editor's corpus
 * (test/fixtures/maincf-edit/, the edits postfleet makes), Debian's stock main.cf under seeded
 * random series of edits, new and removed files, and lines without a final newline.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { unifiedDiff } from '../src/instances/lifecycle/unified-diff.js';
import { editMainCf, type MainCfEdit } from '../src/instances/maincf/edit.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'maincf-edit');
const STOCK = fs.readFileSync(path.join(FIXTURES, 'debian-main.cf'), 'utf8');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postfleet-udiff-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const hasDiff = (await execa('diff', ['--version'], { reject: false }).catch(() => ({ exitCode: 127 }))).exitCode === 0;
const required = process.env.POSTFLEET_REQUIRE_INTEGRATION === '1';

let serial = 0;
/** `encoding`: how the texts are bytes (main.cf is UTF-8, or else Latin-1 byte for byte, as maincf/write.ts reads it). */
async function gnuDiff(before: string, after: string, from: string, to: string, encoding: 'utf8' | 'latin1'): Promise<string> {
  const n = serial++;
  const [a, b] = [path.join(dir, `${n}.a`), path.join(dir, `${n}.b`)];
  fs.writeFileSync(a, before, encoding);
  fs.writeFileSync(b, after, encoding);
  // -a: a NUL byte does not make a main.cf binary to us
  const r = await execa('diff', ['-u', '-a', '--label', from, '--label', to, a, b], { reject: false, stripFinalNewline: false, encoding: encoding === 'utf8' ? 'utf8' : 'latin1' });
  if (r.exitCode! > 1) throw new Error(r.stderr);
  return r.stdout;
}

/** Seeded: the same series on every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const NAMES = ['myhostname', 'relayhost', 'smtpd_banner', 'inet_interfaces', 'mydestination', 'alias_maps', 'biff', 'queue_directory', 'compatibility_level', 'new_one', 'new_two'];

function randomEdits(next: () => number, count: number): MainCfEdit[] {
  return Array.from({ length: count }, (): MainCfEdit => {
    const name = NAMES[Math.floor(next() * NAMES.length)]!;
    const r = next();
    if (r < 0.6) return { op: 'set', name, value: `v${Math.floor(next() * 1000)}` };
    if (r < 0.85) return { op: 'remove', name };
    return { op: 'comment', name };
  });
}

const cases: Array<{ what: string; before: string; after: string; encoding?: 'latin1' }> = [];
for (const file of fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort()) {
  const c = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as { maincf?: string; maincfFile?: string; encoding?: 'latin1'; edits: MainCfEdit[] };
  const before = c.maincfFile !== undefined ? fs.readFileSync(path.join(FIXTURES, c.maincfFile), c.encoding ?? 'utf8') : c.maincf!;
  cases.push({ what: file, before, after: editMainCf(before, c.edits), ...(c.encoding ? { encoding: c.encoding } : {}) });
}
const next = random(19);
for (let k = 0; k < 40; k++) {
  const base = k % 2 === 0 ? STOCK : editMainCf(STOCK, randomEdits(next, 6));
  cases.push({ what: `stock main.cf, random edits #${k}`, before: base, after: editMainCf(base, randomEdits(next, 1 + (k % 5))) });
}
cases.push(
  { what: 'a new file', before: '', after: 'a = 1\nb = 2\n' },
  { what: 'a removed file', before: STOCK, after: '' },
  { what: 'no final newline, changed last line', before: 'a = 1\nb = 2', after: 'a = 1\nb = 3' },
  { what: 'a final newline added', before: 'a = 1\nb = 2', after: 'a = 1\nb = 2\n' },
  { what: 'a final newline removed', before: 'a = 1\n', after: 'a = 1' },
  { what: 'one of two identical lines removed', before: 'x\na = 1\na = 1\ny\n', after: 'x\na = 1\ny\n' },
  { what: 'a run of blank lines shortened', before: 'x\n\n\n\ny\n', after: 'x\n\ny\n' },
  { what: 'two changes 6 lines apart: one hunk', before: 'a\n1\n2\n3\n4\n5\n6\nb\n', after: 'A\n1\n2\n3\n4\n5\n6\nB\n' },
  { what: 'two changes 7 lines apart: two hunks', before: 'a\n1\n2\n3\n4\n5\n6\n7\nb\n', after: 'A\n1\n2\n3\n4\n5\n6\n7\nB\n' },
);

describe('unifiedDiff prints what diff -u prints', () => {
  it('can run diff', () => {
    if (!hasDiff && required) throw new Error('POSTFLEET_REQUIRE_INTEGRATION=1 but diff (diffutils) is not installed');
  });

  it.runIf(hasDiff).each(cases)('$what', async ({ before, after, encoding }) => {
    const from = before === '' ? '/dev/null' : '/etc/postfix-a/main.cf';
    const to = after === '' ? '/dev/null' : '/etc/postfix-a/main.cf';
    expect(unifiedDiff(before, after, { from, to })).toBe(await gnuDiff(before, after, from, to, encoding ?? 'utf8'));
  });

  it('equal texts: no diff', () => {
    expect(unifiedDiff(STOCK, STOCK, { from: 'a', to: 'b' })).toBe('');
  });
});

/** Applies a unified diff to `before`, checking each hunk's ranges and context; the text it makes. */
function applyUnified(before: string, diff: string): string {
  const lines = diff.split('\n');
  const a = before === '' ? [] : before.split(/(?<=\n)/);
  const out: string[] = [];
  let at = 0; // lines of `a` copied or consumed so far
  let k = 2;
  while (k < lines.length && lines[k] !== '') {
    const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$/.exec(lines[k++]!);
    if (!m) throw new Error(`bad hunk header: ${lines[k - 1]}`);
    const [aStart, aCount] = [Number(m[1]), m[2] === undefined ? 1 : Number(m[2])];
    const [bStart, bCount] = [Number(m[3]), m[4] === undefined ? 1 : Number(m[4])];
    const from = aCount === 0 ? aStart : aStart - 1;
    out.push(...a.slice(at, from));
    expect(out.length).toBe(bCount === 0 ? bStart : bStart - 1);
    at = from;
    let [seenA, seenB] = [0, 0];
    while (k < lines.length && /^[-+ ]/.test(lines[k]!)) {
      const line = lines[k++]!;
      const noEol = lines[k] === '\\ No newline at end of file';
      if (noEol) k++;
      const text = line.slice(1) + (noEol ? '' : '\n');
      if (line[0] !== '+') {
        expect(a[at++]).toBe(text);
        seenA++;
      }
      if (line[0] !== '-') {
        out.push(text);
        seenB++;
      }
    }
    expect([seenA, seenB]).toEqual([aCount, bCount]);
  }
  return [...out, ...a.slice(at)].join('');
}

describe('unifiedDiff on texts made to be ambiguous', () => {
  // Random texts of five kinds of line, randomly edited: many equally short edit scripts. GNU
  // diff picks among them by its own heuristics (we pick the same on the cases above, and
  // most of the time here); whichever is printed must turn the one text into the other.
  const next = random(5);
  const KINDS = ['', '#', 'a = 1', 'b = 2', 'c'];
  it('every diff of 300 turns the text before into the text after', () => {
    for (let n = 0; n < 300; n++) {
      const a = Array.from({ length: Math.floor(next() * 30) }, () => KINDS[Math.floor(next() * KINDS.length)]!);
      const b = [...a];
      for (let e = 0; e < 1 + Math.floor(next() * 4); e++) {
        const pos = Math.floor(next() * (b.length + 1));
        if (next() < 0.5 && b.length > 0) b.splice(Math.min(pos, b.length - 1), 1);
        else b.splice(pos, 0, KINDS[Math.floor(next() * KINDS.length)]!);
      }
      const before = a.map((l) => `${l}\n`).join('') + (n % 7 === 0 ? 'last' : '');
      const after = b.map((l) => `${l}\n`).join('') + (n % 5 === 0 ? 'end' : '');
      const diff = unifiedDiff(before, after, { from: 'x', to: 'x' });
      expect(diff === '').toBe(before === after);
      if (diff !== '') expect(applyUnified(before, diff)).toBe(after);
    }
  });
});
