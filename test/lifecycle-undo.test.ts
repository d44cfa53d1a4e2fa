/**
 * The steps of a change and their undo, on a temporary directory, without root: every kind
 * of step is undone to the byte, the mode and the time; an undo never overwrites a main.cf
 * that a real `postconf -e` changed after postfleet wrote it, and says so; an undo that fails
 * names the file and the reason and does not stop the rest; a roll-out's scoped undo touches
 * one instance alone.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { applySteps, problemLines, UndoLog } from '../src/instances/lifecycle/execute.js';
import type { Step } from '../src/instances/lifecycle/steps.js';
import { CHANGED_SINCE } from '../src/instances/maincf/write.js';

const requireIntegration = process.env.POSTFLEET_REQUIRE_INTEGRATION === '1';
const hasPostconf = (await execa('postconf', ['-dh', 'mail_version'], { reject: false })).exitCode === 0;
if (!hasPostconf && requireIntegration) throw new Error('postconf is required (POSTFLEET_REQUIRE_INTEGRATION=1) but not found');
if (!hasPostconf) console.warn('lifecycle-undo: postconf not found; skipping the tests that race against real postconf');

const MAIN_CF = '# an instance\nmyhostname = a.example\nmynetworks = 127.0.0.0/8\n';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A temporary tree with instance config directories, each with a main.cf a minute old (Postfix pauses on a younger one). */
function tree(...instances: string[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'postfleet-undo-'));
  dirs.push(root);
  for (const i of instances) {
    fs.mkdirSync(path.join(root, i));
    const mainCf = path.join(root, i, 'main.cf');
    fs.writeFileSync(mainCf, MAIN_CF.replace('a.example', `${i}.example`));
    const old = (Date.now() - 60_000) / 1000;
    fs.utimesSync(mainCf, old, old);
  }
  return root;
}

/** Everything under `root`: type, mode, modification times to the nanosecond, and file contents (reading them moves access times). */
function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = fs.lstatSync(p, { bigint: true });
      const kind = st.isDirectory() ? 'd' : st.isFile() ? 'f' : 'o';
      const times = kind === 'f' ? ` ${st.mtimeNs}` : '';
      out.push(`${kind} ${(st.mode & 0o7777n).toString(8)} ${path.relative(root, p)}${times}${kind === 'f' ? ` ${fs.readFileSync(p, 'utf8')}` : ''}`);
      if (kind === 'd') walk(p);
    }
  };
  walk(root);
  return out;
}

const postconf = (dir: string, ...args: string[]) => execa('postconf', ['-c', dir, ...args]);

describe('steps and their undo', () => {
  it('applies every kind of step, and undoes them all: the tree is as before, to the times of main.cf', async () => {
    const root = tree('a');
    fs.mkdirSync(path.join(root, 'keep'), { mode: 0o755 });
    fs.writeFileSync(path.join(root, 'a', 'master.cf'), 'old master.cf\n', { mode: 0o640 });
    const before = listing(root);
    const steps: Step[] = [
      { kind: 'mkdir', path: path.join(root, 'new', 'deep', 'er'), mode: 0o700 },
      { kind: 'write', path: path.join(root, 'new', 'deep', 'er', 'main.cf'), content: 'x = 1\n', mode: 0o644 },
      { kind: 'write', path: path.join(root, 'a', 'master.cf'), content: 'new master.cf\n', mode: 0o644 },
      { kind: 'edit', configDirectory: path.join(root, 'a'), edits: [{ op: 'set', name: 'relayhost', value: '[r.example]:587' }, { op: 'remove', name: 'mynetworks' }] },
      { kind: 'own', path: path.join(root, 'keep'), uid: undefined, gid: undefined, mode: 0o710, recursive: false },
      { kind: 'own', path: path.join(root, 'made', 'by-own'), uid: undefined, gid: undefined, mode: 0o700, recursive: false },
    ];
    const undo = new UndoLog();
    await applySteps(steps, undo, []);
    expect(fs.readFileSync(path.join(root, 'a', 'main.cf'), 'utf8')).toBe('# an instance\nmyhostname = a.example\nrelayhost = [r.example]:587\n');
    expect(fs.statSync(path.join(root, 'keep')).mode & 0o7777).toBe(0o710);
    expect(fs.existsSync(path.join(root, 'made', 'by-own'))).toBe(true);
    expect(listing(root)).not.toEqual(before);
    expect(await undo.rollback()).toEqual([]);
    expect(listing(root)).toEqual(before);
    expect(undo.has()).toBe(false);
  });

  it('stops at a failing step; what was done before it is undone by the caller, whole', async () => {
    const root = tree('a');
    const before = listing(root);
    fs.mkdirSync(path.join(root, 'a', 'main.cf.tmp')); // a write of main.cf cannot even take its lock
    const undo = new UndoLog();
    const steps: Step[] = [
      { kind: 'mkdir', path: path.join(root, 'b'), mode: 0o755 },
      { kind: 'write', path: path.join(root, 'b', 'main.cf'), content: 'x = 1\n', mode: 0o644 },
      { kind: 'edit', configDirectory: path.join(root, 'a'), edits: [{ op: 'set', name: 'x', value: '1' }] },
    ];
    await expect(applySteps(steps, undo, [])).rejects.toThrow(/main\.cf\.tmp/);
    expect(await undo.rollback()).toEqual([]);
    fs.rmdirSync(path.join(root, 'a', 'main.cf.tmp'));
    expect(listing(root)).toEqual(before);
  });

  it.runIf(hasPostconf)('undoes an edit when main.cf still holds what postfleet wrote, after a postconf -e elsewhere', async () => {
    const root = tree('a', 'b');
    const a = path.join(root, 'a');
    const b = path.join(root, 'b');
    const undo = new UndoLog();
    await applySteps([{ kind: 'edit', configDirectory: a, edits: [{ op: 'set', name: 'x', value: '1' }] }], undo, []);
    await postconf(b, '-e', 'y = 2'); // another instance's file: no business of this undo
    const bAfter = fs.readFileSync(path.join(b, 'main.cf'), 'utf8');
    expect(await undo.rollback()).toEqual([]);
    expect(fs.readFileSync(path.join(a, 'main.cf'), 'utf8')).toBe(MAIN_CF);
    expect(fs.readFileSync(path.join(b, 'main.cf'), 'utf8')).toBe(bAfter);
    expect(fs.readdirSync(a)).toEqual(['main.cf']);
  });

  it.runIf(hasPostconf)('leaves a main.cf that a postconf -e changed after postfleet wrote it, and reports it by file and reason', async () => {
    const root = tree('a', 'b');
    const [a, b] = [path.join(root, 'a'), path.join(root, 'b')];
    const undo = new UndoLog();
    await applySteps([{ kind: 'edit', configDirectory: a, edits: [{ op: 'set', name: 'x', value: '1' }] }], undo, [], { scope: a });
    await applySteps([{ kind: 'edit', configDirectory: b, edits: [{ op: 'set', name: 'x', value: '1' }] }], undo, [], { scope: b });
    // The operator's edit of a, made once postfleet let go of a's lock.
    await postconf(a, '-e', 'relayhost = [mine.example]');
    const theirs = fs.readFileSync(path.join(a, 'main.cf'), 'utf8');
    expect(theirs).toContain('x = 1\nrelayhost = [mine.example]\n');
    const problems = await undo.rollback();
    expect(problemLines(problems)).toEqual([`${a}/main.cf: ${CHANGED_SINCE}`]);
    expect(fs.readFileSync(path.join(a, 'main.cf'), 'utf8')).toBe(theirs);
    // The rest is undone all the same.
    expect(fs.readFileSync(path.join(b, 'main.cf'), 'utf8')).toBe(MAIN_CF.replace('a.example', 'b.example'));
    expect(fs.readdirSync(a)).toEqual(['main.cf']);
  });

  it.runIf(hasPostconf)('a postconf -e that changed a value and then changed it back is no change: the undo goes on', async () => {
    const root = tree('a');
    const a = path.join(root, 'a');
    const undo = new UndoLog();
    await applySteps([{ kind: 'edit', configDirectory: a, edits: [{ op: 'set', name: 'x', value: '1' }] }], undo, []);
    const ours = fs.readFileSync(path.join(a, 'main.cf'), 'utf8');
    await postconf(a, '-e', 'x = 2');
    await postconf(a, '-e', 'x = 1');
    expect(fs.readFileSync(path.join(a, 'main.cf'), 'utf8')).toBe(ours);
    expect(await undo.rollback()).toEqual([]);
    expect(fs.readFileSync(path.join(a, 'main.cf'), 'utf8')).toBe(MAIN_CF);
  });

  it('an undo that cannot write names the file and the reason; the other undos still run', async () => {
    const root = tree('a');
    const a = path.join(root, 'a');
    const undo = new UndoLog();
    await applySteps(
      [
        { kind: 'mkdir', path: path.join(root, 'b'), mode: 0o755 },
        { kind: 'write', path: path.join(root, 'b', 'main.cf'), content: 'x = 1\n', mode: 0o644 },
        { kind: 'edit', configDirectory: a, edits: [{ op: 'set', name: 'x', value: '1' }] },
      ],
      undo,
      [],
    );
    fs.mkdirSync(path.join(a, 'main.cf.tmp')); // the undo of a's edit cannot take the lock
    const problems = await undo.rollback();
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe(`${a}/main.cf`);
    expect(problems[0]!.reason).toMatch(/^cannot (open|create) .*main\.cf\.tmp: /);
    expect(fs.readFileSync(path.join(a, 'main.cf'), 'utf8')).toBe(`${MAIN_CF}x = 1\n`);
    expect(fs.existsSync(path.join(root, 'b'))).toBe(false);
  });

  it('a scoped undo undoes the steps of the instances named, and keeps the others for later', async () => {
    const root = tree('a', 'b');
    const [a, b] = [path.join(root, 'a'), path.join(root, 'b')];
    const undo = new UndoLog();
    for (const dir of [a, b]) await applySteps([{ kind: 'edit', configDirectory: dir, edits: [{ op: 'set', name: 'x', value: '1' }] }], undo, [], { scope: dir });
    expect(await undo.rollback(new Set([b]))).toEqual([]);
    expect(fs.readFileSync(path.join(b, 'main.cf'), 'utf8')).toBe(MAIN_CF.replace('a.example', 'b.example'));
    expect(fs.readFileSync(path.join(a, 'main.cf'), 'utf8')).toBe(`${MAIN_CF}x = 1\n`);
    expect([undo.has(a), undo.has(b)]).toEqual([true, false]);
    expect(await undo.rollback()).toEqual([]);
    expect(fs.readFileSync(path.join(a, 'main.cf'), 'utf8')).toBe(MAIN_CF);
  });
});
