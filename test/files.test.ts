/** files.ts: the one wording of a failed file-system call, and exists() that never follows a link. */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PostfleetError } from '../src/instances/errors.js';
import { exists, fsError, fsReason } from '../src/instances/files.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'postfleet-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

describe('fsError', () => {
  it('says the action, the path and the reason as Postfix words it (strerror)', () => {
    const missing = path.join(dir, 'nosuch', 'main.cf');
    const e = fsError('read', missing, thrown(() => readFileSync(missing)));
    expect(e).toBeInstanceOf(PostfleetError);
    expect(e.message).toBe(`cannot read ${missing}: No such file or directory`);
    expect(fsError('read', dir, thrown(() => readFileSync(dir))).message).toBe(`cannot read ${dir}: Is a directory`);
  });

  it('an error without an errno code keeps its first line; a PostfleetError passes through as it is', () => {
    expect(fsReason(new Error('first\nsecond'))).toBe('first');
    expect(fsReason({ code: 'ERR_SOMETHING', message: 'x' })).toBe('[object Object]');
    const own = new PostfleetError('already worded');
    expect(fsError('write', '/x', own)).toBe(own);
  });
});

describe('exists', () => {
  it('a file, a directory, a dangling symbolic link: taken; a missing name: not', () => {
    writeFileSync(path.join(dir, 'f'), '');
    symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'dangling'));
    expect(exists(path.join(dir, 'f'))).toBe(true);
    expect(exists(dir)).toBe(true);
    expect(exists(path.join(dir, 'dangling'))).toBe(true);
    expect(exists(path.join(dir, 'nowhere'))).toBe(false);
  });
});
