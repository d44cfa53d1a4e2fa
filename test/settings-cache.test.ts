/**
 * The settings cache must never change what is read: after any change to a main.cf (new
 * file, edit in place, a broken one) a read gives what readMainCf() gives; it only spares
 * the parsing of files that did not change. No Postfix needed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';

import { PostfleetError } from '../src/instances/errors.js';
import { readMainCf } from '../src/instances/maincf/defaults.js';
import { cacheDirectoryFromEnvironment, DEFAULT_CACHE_DIRECTORY, SettingsCache } from '../src/instances/maincf/settings-cache.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'postfleet-settings-cache-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

let n = 0;
let cacheDir: string;
let instances: string;
beforeEach(() => {
  n++;
  cacheDir = path.join(root, `cache${n}`, 'postfleet');
  instances = path.join(root, `instances${n}`);
  fs.mkdirSync(instances, { recursive: true });
});

function instance(name: string, lines: readonly string[]): string {
  const dir = path.join(instances, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'main.cf'), `# ${name}\n${lines.join('\n')}\n`);
  return dir;
}

/**
 * A cache whose file reads are counted. Files written just now are kept: a negative racyMs,
 * since a ctime (ns) can be a fraction of a millisecond ahead of Date.now() (ms).
 */
const KEEP_EVEN_NEW_FILES = -60_000;

function open(options: { racyMs?: number; directory?: string | undefined } = {}): { cache: SettingsCache; reads: string[] } {
  const reads: string[] = [];
  const cache = SettingsCache.open({
    directory: 'directory' in options ? options.directory : cacheDir,
    racyMs: options.racyMs ?? KEEP_EVEN_NEW_FILES,
    readFile: (dir) => {
      reads.push(dir);
      return readMainCf(dir);
    },
  });
  return { cache, reads };
}

const cacheFile = (): string => path.join(cacheDir, 'main.cf-settings.json');

/** One run that reads these config directories and saves the cache. */
function fill(...dirs: string[]): void {
  const { cache } = open();
  for (const dir of dirs) cache.read(dir);
  cache.save();
}

describe('SettingsCache', () => {
  it('reads a file once, then serves its settings from the cache until it changes', () => {
    const a = instance('a', ['multi_instance_name = postfix-a', 'x = 1', 'x = 2', 'long = one', '  two']);
    const first = open();
    const got = first.cache.read(a);
    expect(got).toEqual(readMainCf(a));
    expect(got.get('x')).toBe('2');
    expect(got.get('long')).toBe('one  two'); // a continuation keeps its own leading white space
    first.cache.save();
    expect(fs.statSync(cacheFile()).mode & 0o777).toBe(0o600);
    expect(fs.statSync(cacheDir).mode & 0o777).toBe(0o700);

    const second = open();
    expect(second.cache.read(a)).toEqual(got);
    expect(second.reads).toEqual([]);
    const before = fs.readFileSync(cacheFile());
    second.cache.save(); // nothing changed: not rewritten
    expect(fs.readFileSync(cacheFile())).toEqual(before);
  });

  it('reads again a file replaced by another (postconf -e, postfleet: a new inode)', () => {
    const a = instance('a', ['multi_instance_group = old']);
    fill(a);
    const tmp = path.join(a, 'main.cf.tmp');
    fs.writeFileSync(tmp, '# a\nmulti_instance_group = new\n');
    fs.renameSync(tmp, path.join(a, 'main.cf'));
    const second = open();
    expect(second.cache.read(a).get('multi_instance_group')).toBe('new');
    expect(second.reads).toEqual([a]);
  });

  it('reads again a file edited in place, even to the same size and mtime', () => {
    const a = instance('a', ['multi_instance_enable = yes']);
    const file = path.join(a, 'main.cf');
    const { mtime } = fs.statSync(file);
    fill(a);
    // Files this new are kept here: let the file system's clock tick (a jiffy at most) before the edit,
    // or the edit could leave the very ctime the cache holds (the case racyMs guards against).
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, '# a\nmulti_instance_enable = YES\n', 0);
    fs.closeSync(fd);
    fs.utimesSync(file, mtime, mtime); // only the ctime tells
    const second = open();
    expect(second.cache.read(a).get('multi_instance_enable')).toBe('YES');
    expect(second.reads).toEqual([a]);
  });

  it('does not keep a file changed less than racyMs ago (it could change again within one tick)', () => {
    const a = instance('a', ['x = 1']);
    const first = open({ racyMs: 60_000 });
    expect(first.cache.read(a).get('x')).toBe('1');
    first.cache.save();
    expect(fs.existsSync(cacheFile())).toBe(false);
    const second = open({ racyMs: 60_000 });
    second.cache.read(a);
    expect(second.reads).toEqual([a]);
  });

  it('never caches a failure, and forgets a file that became broken or vanished', () => {
    const a = instance('a', ['x = 1']);
    const b = instance('b', ['y = 2']);
    fill(a, b);
    fs.writeFileSync(path.join(a, 'main.cf'), 'this is no setting\n');
    fs.rmSync(path.join(b, 'main.cf'));
    const second = open();
    expect(() => second.cache.read(a)).toThrow(`${a}/main.cf, line 1: missing '=' after attribute name: "this is no setting"`);
    expect(() => second.cache.read(b)).toThrow(`cannot read ${b}/main.cf: No such file or directory`);
    second.cache.save();
    const stored = JSON.parse(fs.readFileSync(cacheFile(), 'utf8')) as { entries: Record<string, unknown> };
    expect(Object.keys(stored.entries)).toEqual([]);
    const third = open();
    expect(() => third.cache.read(a)).toThrow(PostfleetError);
    expect(third.reads).toEqual([a]);
  });

  it('keeps the entries of files a run did not look at', () => {
    const a = instance('a', ['x = 1']);
    const b = instance('b', ['y = 2']);
    fill(a, b);
    const c = instance('c', ['z = 3']);
    const second = open();
    second.cache.read(c);
    second.cache.save();
    const third = open();
    for (const dir of [a, b, c]) third.cache.read(dir);
    expect(third.reads).toEqual([]);
    // ... until their files are gone (a destroyed instance).
    fs.rmSync(b, { recursive: true });
    const d = instance('d', ['w = 4']);
    fill(d);
    const stored = JSON.parse(fs.readFileSync(cacheFile(), 'utf8')) as { entries: object };
    expect(Object.keys(stored.entries).sort()).toEqual([a, c, d].map((dir) => `${dir}/main.cf`).sort());
  });

  it.each([
    ['not JSON', 'garbage{'],
    ['another version', JSON.stringify({ version: 999, entries: {} })],
    ['entries of the wrong shape', JSON.stringify({ version: 1, entries: { '/x/main.cf': [1, 2, 3] } })],
  ])('ignores a cache file that is %s, and replaces it', (_what, content) => {
    const a = instance('a', ['x = 1']);
    fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(cacheFile(), content, { mode: 0o600 });
    const first = open();
    expect(first.cache.read(a).get('x')).toBe('1');
    first.cache.save();
    const second = open();
    second.cache.read(a);
    expect(second.reads).toEqual([]);
  });

  it('ignores entries that lie about a file, when the file is not the caller\'s own', () => {
    const a = instance('a', ['multi_instance_enable = no']);
    fill(a);
    // Someone rewrites the cached settings: enable the instance.
    const forged = fs.readFileSync(cacheFile(), 'utf8').replace('"multi_instance_enable","no"', '"multi_instance_enable","yes"');
    expect(forged).toContain('"yes"');
    fs.writeFileSync(cacheFile(), forged);
    fs.chmodSync(cacheFile(), 0o666); // ... in a file anyone could have written
    const second = open();
    expect(second.cache.read(a).get('multi_instance_enable')).toBe('no');
    expect(second.reads).toEqual([a]);
    // The same file, writable by its owner only, is trusted (and shows the test is real).
    fs.chmodSync(cacheFile(), 0o600);
    expect(open().cache.read(a).get('multi_instance_enable')).toBe('yes');
  });

  it('without a directory reads every file and writes nothing', () => {
    const a = instance('a', ['x = 1']);
    for (let k = 0; k < 2; k++) {
      const c = open({ directory: undefined });
      expect(c.cache.read(a).get('x')).toBe('1');
      expect(c.reads).toEqual([a]);
      c.cache.save();
    }
    expect(fs.existsSync(cacheDir)).toBe(false);
  });

  it('does not fail when the cache cannot be written', () => {
    const a = instance('a', ['x = 1']);
    const blocker = path.join(root, `blocker${n}`);
    fs.writeFileSync(blocker, ''); // a file where the directory should be
    const c = open({ directory: path.join(blocker, 'postfleet') });
    expect(c.cache.read(a).get('x')).toBe('1');
    expect(() => c.cache.save()).not.toThrow();
    expect(fs.readdirSync(root).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('takes its directory from POSTFLEET_CACHE_DIR; empty turns it off', () => {
    expect(cacheDirectoryFromEnvironment({})).toBe(DEFAULT_CACHE_DIRECTORY);
    expect(cacheDirectoryFromEnvironment({ POSTFLEET_CACHE_DIR: '/tmp/x' })).toBe('/tmp/x');
    expect(cacheDirectoryFromEnvironment({ POSTFLEET_CACHE_DIR: '' })).toBeUndefined();
  });
});

describe('SettingsCache.memory (one run: a transaction reads the fleet twice)', () => {
  it('reads an unchanged file once; a replaced or rewritten one again; writes nothing to disk', () => {
    const a = instance('a', ['x = 1']);
    const b = instance('b', ['y = 1']);
    const old = new Date(Date.now() - 60_000);
    for (const d of [a, b]) fs.utimesSync(path.join(d, 'main.cf'), old, old);
    // ctime is now: wait (on the file's own clock) until it is older than the in-run margin.
    const ctime = fs.statSync(path.join(a, 'main.cf')).ctimeMs;
    while (Date.now() - ctime < 60) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    const reads: string[] = [];
    const cache = SettingsCache.memory((dir) => {
      reads.push(dir);
      return readMainCf(dir);
    });
    expect(cache.read(a).get('x')).toBe('1');
    expect(cache.read(b).get('y')).toBe('1');
    expect(cache.read(a).get('x')).toBe('1');
    expect(reads).toEqual([a, b]);
    // Replaced (postconf -e, postfleet: a new inode), and rewritten in place (same size).
    fs.writeFileSync(path.join(a, 'main.cf.new'), '# a\nx = 2\n');
    fs.renameSync(path.join(a, 'main.cf.new'), path.join(a, 'main.cf'));
    fs.writeFileSync(path.join(b, 'main.cf'), '# b\ny = 2\n');
    expect(cache.read(a).get('x')).toBe('2');
    expect(cache.read(b).get('y')).toBe('2');
    // Both just written: not kept, read every time until they are older than the margin.
    expect(cache.read(a).get('x')).toBe('2');
    expect(reads).toEqual([a, b, a, b, a]);
    cache.save();
    expect(fs.existsSync(cacheDir)).toBe(false);
  });
});
