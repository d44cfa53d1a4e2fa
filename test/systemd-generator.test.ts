/**
 * postfleet-generator's file work, without root: a fleet under a temp dir (named by
 * POSTFLEET_CONFIG_DIRECTORY), the real `postconf -d` for the defaults. The installed
 * generator on a real fleet: integration-systemd.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runGenerator } from '../src/systemd/generator.js';
import { missingCommands } from './helpers/deb.js';

const postconfMissing = missingCommands(['postconf']).length > 0;
if (postconfMissing && process.env.POSTFLEET_REQUIRE_INTEGRATION === '1') throw new Error('postconf is required (POSTFLEET_REQUIRE_INTEGRATION=1)');
if (postconfMissing) console.warn('[postfleet] skipping the generator test: postconf not found');

describe.skipIf(postconfMissing)('postfleet-generator', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'postfleet-generator-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const mainCf = (dir: string, lines: readonly string[]): void => {
    fs.mkdirSync(path.join(root, dir), { recursive: true });
    fs.writeFileSync(path.join(root, dir, 'main.cf'), `${lines.join('\n')}\n`);
  };
  const secondary = (dir: string, name: string | undefined, enable: string): void =>
    mainCf(dir, [...(name ? [`multi_instance_name = ${name}`] : []), `multi_instance_enable = ${enable}`, `queue_directory = /q${dir}`, `data_directory = /d${dir}`]);

  function generate(primary: string, dirs: readonly string[] = ['normal', 'early', 'late'], env: Record<string, string> = {}): { status: number; stderr: string; out: string } {
    const out = fs.mkdtempSync(path.join(root, 'out-'));
    const args = dirs.map((d) => path.join(out, d));
    for (const a of args) fs.mkdirSync(a);
    let stderr = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
    try {
      const status = runGenerator(args, { POSTFLEET_CONFIG_DIRECTORY: path.join(root, primary), POSTFLEET_DEFAULTS_FILE: path.join(root, 'no-defaults'), ...env });
      return { status, stderr, out };
    } finally {
      spy.mockRestore();
    }
  }
  const listing = (dir: string): string[] =>
    (fs.readdirSync(dir, { recursive: true }) as string[])
      .map((p) => {
        const full = path.join(dir, p);
        const l = fs.lstatSync(full);
        return l.isSymbolicLink() ? `${p} -> ${fs.readlinkSync(full)}` : l.isDirectory() ? `${p}/` : p;
      })
      .sort();

  it('links the enabled instances, skips the disabled one, names the broken one on stderr', () => {
    const dir = (d: string): string => path.join(root, 'f1', d);
    mainCf('f1/postfix', ['multi_instance_enable = yes', `multi_instance_directories = ${dir('pf-out')} ${dir('pf-off')}, ${dir('anon')} ${dir('gone')}`]);
    secondary('f1/pf-out', 'postfix-out', 'yes');
    secondary('f1/pf-off', 'postfix-off', 'no');
    secondary('f1/anon', undefined, 'YES');
    const r = generate('f1/postfix');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^postfleet-generator: skipping instance ${dir('gone')}: .*No such file or directory\\n$`));
    const anon = `postfleet@${dir('anon').slice(1).replace(/-/g, '\\x2d').replace(/\//g, '-')}.service`;
    const T = '/lib/systemd/system/postfleet@.service';
    expect(listing(path.join(r.out, 'normal'))).toEqual(
      [
        'postfix.service.wants/',
        `postfix.service.wants/postfleet@-.service -> ${T}`,
        `postfix.service.wants/postfleet@postfix-out.service -> ${T}`,
        `postfix.service.wants/${anon} -> ${T}`,
        'postfleet@-.service.d/',
        'postfleet@-.service.d/50-postfleet-generator.conf',
        'postfleet@postfix-out.service.d/',
        'postfleet@postfix-out.service.d/50-postfleet-generator.conf',
        `${anon}.d/`,
        `${anon}.d/50-postfleet-generator.conf`,
      ].sort(),
    );
    // Started all at once (no ordering), each after the file systems of its directories.
    const dropIn = fs.readFileSync(path.join(r.out, 'normal', `${anon}.d`, '50-postfleet-generator.conf'), 'utf8');
    expect(dropIn).not.toContain('After=');
    expect(dropIn).toContain(`\nRequiresMountsFor=${dir('anon')} /qf1/anon /df1/anon\n`);
    expect(listing(path.join(r.out, 'early'))).toEqual([]);
    expect(listing(path.join(r.out, 'late'))).toEqual([]);
  });

  it('START_ORDER=list in /etc/default/postfleet orders each unit after the previous one; another value warns and starts in parallel', () => {
    const dir = (d: string): string => path.join(root, 'f1', d);
    const defaults = path.join(root, 'defaults-list');
    const anon = `postfleet@${dir('anon').slice(1).replace(/-/g, '\\x2d').replace(/\//g, '-')}.service`;
    fs.writeFileSync(defaults, '# postfleet\nSTART_ORDER="list"\n');
    const listed = generate('f1/postfix', undefined, { POSTFLEET_DEFAULTS_FILE: defaults });
    expect(fs.readFileSync(path.join(listed.out, 'normal', `${anon}.d`, '50-postfleet-generator.conf'), 'utf8')).toContain('\nAfter=postfleet@postfix-out.service\n');
    expect(fs.readFileSync(path.join(listed.out, 'normal', 'postfleet@-.service.d', '50-postfleet-generator.conf'), 'utf8')).not.toContain('After=');
    fs.writeFileSync(defaults, 'START_ORDER=serial\n');
    const odd = generate('f1/postfix', undefined, { POSTFLEET_DEFAULTS_FILE: defaults });
    expect(odd.stderr).toContain(`postfleet-generator: ${'/etc/default/postfleet'}: START_ORDER=serial is neither list nor parallel: starting in parallel\n`);
    expect(fs.readFileSync(path.join(odd.out, 'normal', `${anon}.d`, '50-postfleet-generator.conf'), 'utf8')).not.toContain('After=');
  });

  it('fails open: when the fleet cannot be read, or the primary is broken, the primary instance still gets its unit', () => {
    mainCf('f4/postfix', [`daemon_directory = ${path.join(root, 'f4', 'missing')}`, `multi_instance_directories = ${path.join(root, 'f4', 'x')}`]);
    const unreadable = generate('f4/postfix');
    expect(unreadable.status).toBe(1);
    expect(unreadable.stderr).toMatch(/^postfleet-generator: cannot find daemon_directory .*\/f4\/missing: No such file or directory\npostfleet-generator: only the primary instance's unit postfleet@-\.service was made\n$/);
    expect(listing(path.join(unreadable.out, 'normal'))).toEqual([
      'postfix.service.wants/',
      'postfix.service.wants/postfleet@-.service -> /lib/systemd/system/postfleet@.service',
      'postfleet@-.service.d/',
      'postfleet@-.service.d/50-postfleet-generator.conf',
    ]);
    const dir = (d: string): string => path.join(root, 'f5', d);
    mainCf('f5/postfix', ['multi_instance_enable = maybe', `multi_instance_directories = ${dir('pf-out')}`]);
    secondary('f5/pf-out', 'postfix-out', 'yes');
    const broken = generate('f5/postfix');
    expect(broken.status).toBe(0);
    expect(listing(path.join(broken.out, 'normal'))).toEqual(expect.arrayContaining([
      'postfix.service.wants/postfleet@-.service -> /lib/systemd/system/postfleet@.service',
      'postfix.service.wants/postfleet@postfix-out.service -> /lib/systemd/system/postfleet@.service',
    ]));
  });

  it('a single-instance primary (empty list) is linked whatever multi_instance_enable says', () => {
    mainCf('f2/postfix', ['multi_instance_enable = no']);
    const r = generate('f2/postfix');
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(listing(path.join(r.out, 'normal'))).toContain('postfix.service.wants/postfleet@-.service -> /lib/systemd/system/postfleet@.service');
  });

  it('no main.cf (Postfix not configured): no units, no message', () => {
    fs.mkdirSync(path.join(root, 'f3/postfix'), { recursive: true });
    const r = generate('f3/postfix');
    expect([r.status, r.stderr, listing(path.join(r.out, 'normal'))]).toEqual([0, '', []]);
  });

  it('a relative or missing output directory is a usage error', () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => lines.push(String(chunk)) > 0);
    try {
      expect(runGenerator([])).toBe(1);
      expect(runGenerator(['relative/dir'])).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual(Array(2).fill('postfleet-generator: usage: postfleet-generator NORMAL-DIR [EARLY-DIR LATE-DIR] (absolute paths)\n'));
  });
});
