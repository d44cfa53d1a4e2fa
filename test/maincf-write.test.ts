/**
 * The locked, atomic main.cf writer, exercised for real: concurrent writers
 * in this process and in separate processes, interleaved with real
 * `postconf -e`, a lock holder killed with SIGKILL, and writers killed at
 * random moments.
 *
 * Separate processes run test/helpers/maincf-writer.mjs against write.ts
 * compiled afresh by tsc (never a possibly stale dist/), into a directory
 * under node_modules/.cache so that the compiled code resolves execa.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';
import type { ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { budget, seededRandom, waitFor } from './helpers/timing.js';
import { editMainCf } from '../src/instances/maincf/edit.js';
import { editMainCfFile, lockMainCfs, withMainCfLock } from '../src/instances/maincf/write.js';
import { PostfleetError } from '../src/instances/errors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HELPER = path.join(ROOT, 'test', 'helpers', 'maincf-writer.mjs');
const BASE = '# postfleet test main.cf\n\nmyhostname = mx.example.org\nmynetworks = 127.0.0.0/8\n    192.0.2.0/24\n';

const isRoot = process.getuid?.() === 0;
const requireIntegration = process.env.POSTFLEET_REQUIRE_INTEGRATION === '1';
const hasPostconf = (await execa('postconf', ['-dh', 'mail_version'], { reject: false })).exitCode === 0;
if (!hasPostconf && !requireIntegration) {
  console.warn('maincf-write: postconf not found; skipping the tests that race against real postconf');
}

let buildDir = '';
let moduleUrl = '';

beforeAll(async () => {
  const cache = path.join(ROOT, 'node_modules', '.cache');
  fs.mkdirSync(cache, { recursive: true });
  buildDir = fs.mkdtempSync(path.join(cache, 'postfleet-maincf-write-'));
  await execa(
    process.execPath,
    [
      path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      '--outDir', buildDir,
      '--rootDir', path.join(ROOT, 'src'),
      '--module', 'NodeNext',
      '--moduleResolution', 'NodeNext',
      '--target', 'ES2022',
      '--strict',
      '--skipLibCheck',
      '--types', 'node',
      path.join(ROOT, 'src', 'instances', 'maincf', 'write.ts'),
    ],
    { cwd: ROOT },
  );
  // Below node_modules Node does not look further up for package.json.
  fs.writeFileSync(path.join(buildDir, 'package.json'), '{ "type": "module" }\n');
  moduleUrl = pathToFileURL(path.join(buildDir, 'instances', 'maincf', 'write.js')).href;
}, budget(6));

afterAll(() => {
  if (buildDir !== '') fs.rmSync(buildDir, { recursive: true, force: true });
});

function tempConfigDir(text = BASE): { dir: string; mainCf: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postfleet-maincf-write-'));
  const mainCf = path.join(dir, 'main.cf');
  fs.writeFileSync(mainCf, text);
  return { dir, mainCf };
}

function helper(...args: string[]) {
  return execa(process.execPath, [HELPER, ...args], { env: { POSTFLEET_WRITE_MODULE: moduleUrl }, lines: true });
}

function postconf(dir: string, ...args: string[]) {
  return execa('postconf', ['-c', dir, ...args]);
}

/** Resolves once the child prints `line` on stdout. */
function waitForLine(child: ResultPromise, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.split('\n').includes(line)) resolve();
    });
    child.once('exit', () => reject(new Error(`child exited before printing ${line}`)));
  });
}

function settled(p: Promise<unknown>): Promise<boolean> {
  return Promise.race([p.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), 0))]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The lines a child printed so far (kept up to date as it prints). */
function linesOf(child: ResultPromise): string[] {
  const lines: string[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  return lines;
}

/**
 * How many flock() requests are blocked, waiting for the lock on `file` (/proc/locks lists
 * them as "N: -> FLOCK ... MAJ:MIN:INODE ..."). Something blocked there cannot finish
 * until the lock is let go: a signal, not a guess about how long "long enough" is.
 */
function blockedOn(file: string): number {
  const st = fs.statSync(file, { bigint: true });
  const major = ((st.dev >> 8n) & 0xfffn) | ((st.dev >> 32n) & ~0xfffn);
  const minor = (st.dev & 0xffn) | ((st.dev >> 12n) & ~0xffn);
  const id = `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${st.ino}`;
  return fs
    .readFileSync('/proc/locks', 'utf8')
    .split('\n')
    .filter((l) => / -> FLOCK /.test(l) && l.split(/\s+/).includes(id)).length;
}

describe('editMainCfFile in one process', () => {
  it('edits like postconf, reports the change and leaves nothing behind', async () => {
    const { dir, mainCf } = tempConfigDir();
    const r = await editMainCfFile(dir, [
      { op: 'set', name: 'mynetworks', value: '127.0.0.0/8' },
      { op: 'set', name: 'relayhost', value: '[smtp.example.net]:587' },
    ]);
    const expected = '# postfleet test main.cf\n\nmyhostname = mx.example.org\nmynetworks = 127.0.0.0/8\nrelayhost = [smtp.example.net]:587\n';
    expect(r).toEqual({ before: BASE, after: expected, changed: true });
    expect(fs.readFileSync(mainCf, 'utf8')).toBe(expected);
    expect(fs.readdirSync(dir)).toEqual(['main.cf']);
  });

  it('does not rewrite a file the edits leave unchanged', async () => {
    const { dir, mainCf } = tempConfigDir();
    const inode = fs.statSync(mainCf).ino;
    const r = await editMainCfFile(dir, [{ op: 'set', name: 'myhostname', value: 'mx.example.org' }]);
    expect(r.changed).toBe(false);
    expect(fs.statSync(mainCf).ino).toBe(inode);
    expect(fs.readdirSync(dir)).toEqual(['main.cf']);
  });

  it('dry run computes the result without writing or locking', async () => {
    const { dir, mainCf } = tempConfigDir();
    let release = () => {};
    let locked = () => {};
    const isLocked = new Promise<void>((r) => (locked = r));
    const held = withMainCfLock(dir, () => {
      locked();
      return new Promise<{ result: void }>((r) => (release = () => r({ result: undefined })));
    });
    await isLocked;
    const r = await editMainCfFile(dir, [{ op: 'remove', name: 'mynetworks' }], { dryRun: true });
    expect(r.after).toBe('# postfleet test main.cf\n\nmyhostname = mx.example.org\n');
    expect(r.changed).toBe(true);
    expect(fs.readFileSync(mainCf, 'utf8')).toBe(BASE);
    release();
    await held;
    expect(fs.readdirSync(dir)).toEqual(['main.cf']);
  });

  it('keeps the mode and owner of main.cf', async () => {
    const { dir, mainCf } = tempConfigDir();
    fs.chmodSync(mainCf, 0o640);
    if (isRoot) fs.chownSync(mainCf, 1234, 4321);
    await editMainCfFile(dir, [{ op: 'set', name: 'a', value: '1' }]);
    const st = fs.statSync(mainCf);
    expect(st.mode & 0o7777).toBe(0o640);
    if (isRoot) expect([st.uid, st.gid]).toEqual([1234, 4321]);
  });

  it('keeps non-UTF-8 bytes of untouched lines', async () => {
    const original = Buffer.from('# caf\xe9\na = 1\n', 'latin1');
    const { dir, mainCf } = tempConfigDir();
    fs.writeFileSync(mainCf, original);
    await editMainCfFile(dir, [{ op: 'set', name: 'a', value: '2' }]);
    expect(fs.readFileSync(mainCf)).toEqual(Buffer.from('# caf\xe9\na = 2\n', 'latin1'));
  });

  it('reuses or clears a temporary file left by a crash', async () => {
    const { dir, mainCf } = tempConfigDir();
    const tmp = `${mainCf}.tmp`;
    fs.writeFileSync(tmp, 'junk from a crash that is longer than the new main.cf will be '.repeat(100), { mode: 0o600 });
    await editMainCfFile(dir, [{ op: 'set', name: 'a', value: '1' }]);
    expect(fs.readFileSync(mainCf, 'utf8')).toBe(`${BASE}a = 1\n`);
    // A crash after the final chmod leaves a 0644 file postconf would not reuse.
    fs.writeFileSync(tmp, 'junk', { mode: 0o644 });
    fs.chmodSync(tmp, 0o644);
    await editMainCfFile(dir, [{ op: 'set', name: 'b', value: '2' }]);
    expect(fs.readFileSync(mainCf, 'utf8')).toBe(`${BASE}a = 1\nb = 2\n`);
    expect(fs.readdirSync(dir)).toEqual(['main.cf']);
  });

  it('leaves main.cf as it was when the callback fails', async () => {
    const { dir, mainCf } = tempConfigDir();
    await expect(
      withMainCfLock(dir, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(fs.readFileSync(mainCf, 'utf8')).toBe(BASE);
    expect(fs.readdirSync(dir)).toEqual(['main.cf']);
  });

  it('serialises 20 concurrent writers of its own', async () => {
    const { dir, mainCf } = tempConfigDir();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => editMainCfFile(dir, [{ op: 'set', name: `p${i}`, value: String(i) }])),
    );
    const text = fs.readFileSync(mainCf, 'utf8');
    for (let i = 0; i < 20; i++) expect(text).toContain(`\np${i} = ${i}\n`);
    expect(fs.readdirSync(dir)).toEqual(['main.cf']);
  }, budget(20));
});

describe('errors', () => {
  async function errorOf(p: Promise<unknown>): Promise<PostfleetError> {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(PostfleetError);
    const pe = e as PostfleetError;
    expect(pe.message).not.toContain('\n');
    return pe;
  }

  it('names a missing config directory', async () => {
    const dir = path.join(os.tmpdir(), 'postfleet-no-such-dir', 'deeper');
    const e = await errorOf(editMainCfFile(dir, [{ op: 'set', name: 'a', value: '1' }]));
    expect(e.message).toBe(`cannot read config directory ${dir}: No such file or directory`);
  });

  it('names a missing main.cf and creates nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postfleet-maincf-write-'));
    const e = await errorOf(editMainCfFile(dir, [{ op: 'set', name: 'a', value: '1' }]));
    expect(e.message).toContain(path.join(dir, 'main.cf'));
    expect(fs.readdirSync(dir)).toEqual([]);
    const dry = await errorOf(editMainCfFile(dir, [{ op: 'set', name: 'a', value: '1' }], { dryRun: true }));
    expect(dry.message).toContain(path.join(dir, 'main.cf'));
  });

  it('names a main.cf that is not a file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postfleet-maincf-write-'));
    fs.mkdirSync(path.join(dir, 'main.cf'));
    const e = await errorOf(editMainCfFile(dir, [{ op: 'set', name: 'a', value: '1' }]));
    expect(e.message).toContain(path.join(dir, 'main.cf'));
    expect(fs.readdirSync(dir)).toEqual(['main.cf']);
  });

  it('refuses bad edits before touching the directory', async () => {
    const { dir, mainCf } = tempConfigDir();
    const e = await errorOf(editMainCfFile(dir, [{ op: 'set', name: 'a', value: 'two\nlines' }]));
    expect(e.message).toContain('"two\\x0alines" contains a newline');
    expect(fs.readFileSync(mainCf, 'utf8')).toBe(BASE);
    expect(fs.readdirSync(dir)).toEqual(['main.cf']);
  });

  it('locks taken together: a crash\'s debris is left to the lone writer, a missing main.cf refuses them all', async () => {
    const sound = tempConfigDir();
    const debris = tempConfigDir();
    fs.writeFileSync(`${debris.mainCf}.tmp`, 'junk', { mode: 0o644 });
    fs.chmodSync(`${debris.mainCf}.tmp`, 0o644);
    const leftover = tempConfigDir();
    fs.writeFileSync(`${leftover.mainCf}.tmp`, 'junk of a killed writer', { mode: 0o600 });
    const locks = await lockMainCfs([sound.dir, debris.dir, leftover.dir]);
    expect([locks.get(sound.dir) !== undefined, locks.get(debris.dir) !== undefined, locks.get(leftover.dir) !== undefined]).toEqual([true, false, true]);
    for (const d of [sound, debris, leftover]) await editMainCfFile(d.dir, [{ op: 'set', name: 'a', value: '1' }], { held: locks.get(d.dir) });
    await locks.release();
    for (const d of [sound, debris, leftover]) {
      expect(fs.readFileSync(d.mainCf, 'utf8')).toBe(`${BASE}a = 1\n`);
      expect(fs.readdirSync(d.dir)).toEqual(['main.cf']);
    }
    const missing = path.join(sound.dir, 'nosuch');
    fs.mkdirSync(missing);
    await expect(lockMainCfs([sound.dir, missing])).rejects.toThrow(`cannot read ${missing}/main.cf: No such file or directory`);
    expect(fs.readdirSync(sound.dir).sort()).toEqual(['main.cf', 'nosuch']);
  });

  it('says so when flock(1) is missing, and creates nothing', async () => {
    const { dir, mainCf } = tempConfigDir();
    const savedPath = process.env.PATH;
    process.env.PATH = path.join(dir, 'no-bin');
    try {
      const e = await errorOf(editMainCfFile(dir, [{ op: 'set', name: 'a', value: '1' }]));
      expect(e.message).toContain(`${mainCf}.tmp`);
      expect(e.message).toContain('flock');
    } finally {
      process.env.PATH = savedPath;
    }
    expect(fs.readdirSync(dir)).toEqual(['main.cf']);
  });
});

describe('editMainCfFile across processes', () => {
  it('20 writer processes: every setting lands, mode and owner kept, nothing left behind', async () => {
    const { dir, mainCf } = tempConfigDir();
    fs.chmodSync(mainCf, 0o640);
    if (isRoot) fs.chownSync(mainCf, 1234, 4321);
    await Promise.all(Array.from({ length: 20 }, (_, i) => helper('set', dir, `proc${i}`, `value ${i}`)));
    const text = fs.readFileSync(mainCf, 'utf8');
    for (let i = 0; i < 20; i++) expect(text).toContain(`\nproc${i} = value ${i}\n`);
    expect(text.startsWith(BASE)).toBe(true);
    const st = fs.statSync(mainCf);
    expect(st.mode & 0o7777).toBe(0o640);
    if (isRoot) expect([st.uid, st.gid]).toEqual([1234, 4321]);
    expect(fs.readdirSync(dir)).toEqual(['main.cf']);
  }, budget(20));

  it('a lock holder killed with SIGKILL never leaks the lock', async () => {
    const { dir, mainCf } = tempConfigDir();
    const holder = helper('hold', dir);
    holder.catch(() => undefined);
    await waitForLine(holder, 'locked');
    const edit = editMainCfFile(dir, [{ op: 'set', name: 'after_kill', value: 'yes' }]);
    await waitFor('the edit to wait for the lock', () => blockedOn(`${mainCf}.tmp`) === 1);
    expect(await settled(edit)).toBe(false);
    holder.kill('SIGKILL');
    await edit;
    expect(fs.readFileSync(mainCf, 'utf8')).toBe(`${BASE}after_kill = yes\n`);
    expect(fs.readdirSync(dir)).toEqual(['main.cf']);
  }, budget(2));

  it('a writer killed at random moments never leaves a partial main.cf', async () => {
    const { dir, mainCf } = tempConfigDir();
    // The helper's padding setting: PADDING times "p".
    const padding = 'p'.repeat(256 * 1024);
    const version = (k: number) =>
      editMainCf(BASE, [
        { op: 'set', name: 'counter', value: String(k) },
        { op: 'set', name: 'padding', value: padding },
      ]);
    const random = seededRandom();
    for (let round = 0; round < 12; round++) {
      const child = helper('loop', dir, String(padding.length));
      child.catch(() => undefined);
      const printed = linesOf(child);
      // Killed while it writes: after its first write (however long a busy machine takes to
      // start it), at a random moment of its loop.
      await waitFor(`round ${round}: the writer's first write`, () => printed.length > 0, { timeoutMs: 60_000 });
      await sleep(random.below(300));
      child.kill('SIGKILL');
      await child.catch(() => undefined);
      const reported = Number(/^wrote (\d+)$/.exec(printed.at(-1) ?? '')?.[1]);
      const text = fs.readFileSync(mainCf, 'utf8');
      const counter = Number(/^counter = (\d+)$/m.exec(text)?.[1]);
      // What it said it wrote is there; the write it was killed in may have completed too.
      expect([reported, reported + 1], `round ${round}: counter ${counter} after "wrote ${reported}"`).toContain(counter);
      expect(text === version(counter), `round ${round}: main.cf is not a complete version`).toBe(true);
    }
    // Whatever a crash left under the temporary name, the next write cleans up.
    await editMainCfFile(dir, [{ op: 'set', name: 'counter', value: 'done' }]);
    expect(fs.readdirSync(dir)).toEqual(['main.cf']);
  }, budget(12));
});

describe('serialisation with real postconf', () => {
  it('can run postconf', () => {
    if (!hasPostconf && requireIntegration) {
      throw new Error('POSTFLEET_REQUIRE_INTEGRATION=1 but postconf is not installed');
    }
  });

  it.runIf(hasPostconf)('postconf -e waits while postfleet holds the lock', async () => {
    const { dir, mainCf } = tempConfigDir();
    let pc: ReturnType<typeof postconf> | undefined;
    await withMainCfLock(dir, async (current) => {
      pc = postconf(dir, '-e', 'from_postconf=yes');
      await waitFor('postconf to wait for the lock', () => blockedOn(`${mainCf}.tmp`) === 1);
      expect(await settled(pc)).toBe(false);
      return { next: editMainCf(current, [{ op: 'set', name: 'from_postfleet', value: 'yes' }]), result: undefined };
    });
    await pc;
    expect(fs.readFileSync(mainCf, 'utf8')).toBe(`${BASE}from_postfleet = yes\nfrom_postconf = yes\n`);
    expect(fs.readdirSync(dir)).toEqual(['main.cf']);
  }, budget(2));

  it.runIf(hasPostconf)('locks taken together hold postconf -e off until each is written under or given back', async () => {
    const [a, b, c] = [tempConfigDir(), tempConfigDir(), tempConfigDir()];
    const locks = await lockMainCfs([c.dir, a.dir, b.dir]);
    const pcA = postconf(a.dir, '-e', 'from_postconf=yes');
    const pcC = postconf(c.dir, '-e', 'from_postconf=yes');
    await waitFor('postconf to wait for both locks', () => blockedOn(`${a.mainCf}.tmp`) === 1 && blockedOn(`${c.mainCf}.tmp`) === 1);
    await editMainCfFile(a.dir, [{ op: 'set', name: 'from_postfleet', value: 'yes' }], { held: locks.get(a.dir) });
    await pcA;
    expect(fs.readFileSync(a.mainCf, 'utf8')).toBe(`${BASE}from_postfleet = yes\nfrom_postconf = yes\n`);
    expect(await settled(pcC)).toBe(false);
    expect(blockedOn(`${c.mainCf}.tmp`)).toBe(1);
    await locks.release();
    await pcC;
    expect(fs.readFileSync(c.mainCf, 'utf8')).toBe(`${BASE}from_postconf = yes\n`);
    expect(fs.readFileSync(b.mainCf, 'utf8')).toBe(BASE);
    for (const d of [a, b, c]) expect(fs.readdirSync(d.dir)).toEqual(['main.cf']);
  }, budget(2));

  it.runIf(hasPostconf)('20 postfleet processes racing 10 postconf -e: every setting lands', async () => {
    const { dir, mainCf } = tempConfigDir();
    const ours = Array.from({ length: 20 }, (_, i) => helper('set', dir, `fleet${i}`, String(i)));
    const theirs = Array.from({ length: 10 }, (_, i) => postconf(dir, '-e', `admin${i}=${i}`));
    await Promise.all([...ours, ...theirs]);
    const text = fs.readFileSync(mainCf, 'utf8');
    for (let i = 0; i < 20; i++) expect(text).toContain(`\nfleet${i} = ${i}\n`);
    for (let i = 0; i < 10; i++) expect(text).toContain(`\nadmin${i} = ${i}\n`);
    expect(text.startsWith(BASE)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['main.cf']);
  }, budget(30));
});

describe('a directory sync that fails after the rename (fault injected by strace)', () => {
  const hasStrace = execa('strace', ['-V'], { reject: false }).then((r) => r.exitCode === 0);
  /**
   * The helper under strace, every fsync(2) of DIR itself (not of its files) failing with EIO:
   * the first only, or all. strace counts calls per thread: one libuv thread makes "first" the
   * first of the process.
   */
  function helperFailingSync(dir: string, which: 'first' | 'all', ...args: string[]) {
    const inject = `inject=fsync:error=EIO${which === 'first' ? ':when=1' : ''}`;
    return execa('strace', ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=fsync', '-e', inject, '-P', dir, process.execPath, HELPER, ...args], {
      env: { POSTFLEET_WRITE_MODULE: moduleUrl, UV_THREADPOOL_SIZE: '1' },
      reject: false,
      lines: true,
    });
  }

  it('can run strace', async () => {
    if (!(await hasStrace) && requireIntegration) throw new Error('POSTFLEET_REQUIRE_INTEGRATION=1 but strace is not installed');
  });

  it.runIf(hasPostconf)('the write is undone and the error says so: main.cf and the report agree; a postconf -e that waited meanwhile lands after', async () => {
    if (!(await hasStrace)) return;
    const { dir, mainCf } = tempConfigDir();
    const writer = helperFailingSync(dir, 'first', 'hold-set', dir, 'from_postfleet', 'yes');
    await waitForLine(writer, 'locked');
    const pc = postconf(dir, '-e', 'from_postconf=yes');
    await waitFor('postconf to wait for the lock', () => blockedOn(`${mainCf}.tmp`) === 1);
    writer.stdin?.write('go\n');
    const r = await writer;
    await pc;
    expect(r.stdout).toEqual([expect.stringMatching(/^locked$/), `error: cannot sync directory ${dir}: Input/output error: the change was undone`]);
    expect(fs.readFileSync(mainCf, 'utf8')).toBe(`${BASE}from_postconf = yes\n`);
    expect(fs.readdirSync(dir)).toEqual(['main.cf']);
  }, budget(4));

  it('when putting main.cf back cannot be synced either, the error says the undo is incomplete, and what main.cf holds', async () => {
    if (!(await hasStrace)) return;
    const { dir, mainCf } = tempConfigDir();
    const r = await helperFailingSync(dir, 'all', 'set', dir, 'from_postfleet', 'yes');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr.join('\n')).toContain(
      `cannot sync directory ${dir}: Input/output error; undo incomplete: ${mainCf}: cannot sync directory ${dir}: Input/output error (after the rename: main.cf holds the new text)`,
    );
    expect(fs.readFileSync(mainCf, 'utf8')).toBe(BASE);
    expect(fs.readdirSync(dir)).toEqual(['main.cf']);
  }, budget(2));
});
