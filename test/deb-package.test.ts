/**
 * The Debian package as built by `npm run deb` (scripts/deb.mjs): lintian finds no error, the
 * files and control fields are there, the man page renders without warnings and the bash
 * completion completes. No root needed (the install itself: integration-systemd.test.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDeb, requireCommands, type BuiltDeb } from './helpers/deb.js';

describe.runIf(requireCommands('the package test', ['dpkg-deb', 'dpkg', 'lintian', 'man', 'bash']))('the Debian package', () => {
  let deb: BuiltDeb;
  let tree: string;
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };

  beforeAll(() => {
    deb = buildDeb();
    tree = mkdtempSync(path.join(os.tmpdir(), 'postfleet-deb-tree-'));
    execFileSync('dpkg-deb', ['-x', deb.file, tree]);
  }, 300_000);
  afterAll(() => {
    deb?.dispose();
    if (tree) rmSync(tree, { recursive: true, force: true });
  });

  it('is named postfleet_<version>_<arch>.deb and depends on nodejs >= 20.19 and postfix', () => {
    const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
    expect(path.basename(deb.file)).toBe(`postfleet_${pkg.version}_${arch}.deb`);
    const field = (name: string): string => execFileSync('dpkg-deb', ['-f', deb.file, name], { encoding: 'utf8' }).trim();
    expect(field('Package')).toBe('postfleet');
    expect(field('Version')).toBe(pkg.version);
    expect(field('Depends').split(/,\s*/)).toEqual(expect.arrayContaining(['nodejs (>= 20.19)', 'postfix']));
  });

  it('holds the command, the program, the unit, the generator, the man page and the completion', () => {
    const listing = execFileSync('dpkg-deb', ['-c', deb.file], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const entries = new Map(
      listing
        .trim()
        .split('\n')
        .map((l) => {
          const f = l.split(/\s+/);
          return [f.slice(5).join(' ').replace(/^\.\//, '/').replace(/ -> .*/, ''), f[0]!] as const;
        }),
    );
    const expected: Record<string, string> = {
      '/usr/sbin/postfleet': '-rwxr-xr-x',
      '/usr/lib/postfleet/bin/run.js': '-rwxr-xr-x',
      '/usr/lib/postfleet/dist/bundle/cli.js': '-rw-r--r--',
      '/usr/lib/postfleet/dist/bundle/compat/main.js': '-rw-r--r--',
      '/usr/lib/postfleet/bin/package.json': '-rw-r--r--',
      '/usr/lib/postfleet/dist/bundle/early.cjs': '-rw-r--r--',
      '/usr/lib/postfleet/dist/bundle/direct/run.cjs': '-rw-r--r--',
      '/usr/lib/postfleet/dist/bundle/direct/commands/list.cjs': '-rw-r--r--',
      '/usr/lib/postfleet/dist/bundle/systemd/generator.js': '-rw-r--r--',
      '/usr/lib/postfleet/oclif.manifest.json': '-rw-r--r--',
      '/usr/lib/postfleet/package.json': '-rw-r--r--',
      '/lib/systemd/system/postfleet@.service': '-rw-r--r--',
      '/lib/systemd/system-generators/postfleet-generator': '-rwxr-xr-x',
      '/usr/share/man/man1/postfleet.1.gz': '-rw-r--r--',
      '/usr/share/bash-completion/completions/postfleet': '-rw-r--r--',
      '/usr/share/doc/postfleet/copyright': '-rw-r--r--',
    };
    for (const [file, mode] of Object.entries(expected)) expect([file, entries.get(file)]).toEqual([file, mode]);
    // node-pty (the only dependency not bundled) and its native addon for this machine.
    expect([...entries.keys()].some((p) => /^\/usr\/lib\/postfleet\/node_modules\/@lydell\/node-pty-linux-[^/]+\/pty\.node$/.test(p))).toBe(true);
    // No Postfix file, nothing under /etc: installing changes no configuration.
    expect([...entries.keys()].filter((p) => p.startsWith('/etc'))).toEqual([]);
    expect(execFileSync('dpkg-deb', ['-f', deb.file, 'Conffiles'], { encoding: 'utf8' }).trim()).toBe('');
    // The copyright file names every bundled npm package's licence.
    const copyright = readFileSync(path.join(tree, 'usr/share/doc/postfleet/copyright'), 'utf8');
    const shipped = [...entries.keys()].flatMap((p) => /^\/usr\/lib\/postfleet\/(?:.*\/)?node_modules\/((?:@[^/]+\/)?[^/]+)\/package\.json$/.exec(p)?.slice(1) ?? []);
    expect(shipped.length).toBeGreaterThan(10);
    for (const name of shipped) expect([name, copyright.includes(`\n ${name} `)]).toEqual([name, true]);
  });

  it('the program runs from its tree: --version and templates on the direct route, answering as on oclif\'s', () => {
    // Run as /usr/sbin/postfleet does (node on /usr/lib/postfleet/bin/run.js), from the
    // extracted tree; neither command reads a Postfix configuration.
    const run = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [path.join(tree, 'usr/lib/postfleet/bin/run.js'), ...args], {
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin', HOME: tree, ...env },
      });
    for (const args of [['--version'], ['templates', '--json'], ['templates']]) {
      const direct = run(args);
      const oclif = run(args, { POSTFLEET_DIRECT: '0' });
      expect({ args, status: direct.status, stdout: direct.stdout, stderr: direct.stderr }).toEqual({ args, status: 0, stdout: oclif.stdout, stderr: oclif.stderr });
      expect(oclif.status).toBe(0);
      // Which route ran: oclif's runner (dist/bundle/cli.js) is loaded only on the oclif route.
      const trace = run(args, { NODE_DEBUG: 'esm,module' }).stderr;
      expect([args, trace.includes('/dist/bundle/direct/run.cjs'), trace.includes('/dist/bundle/cli.js')]).toEqual([args, true, false]);
      expect([args, run(args, { NODE_DEBUG: 'esm', POSTFLEET_DIRECT: '0' }).stderr.includes('/dist/bundle/cli.js')]).toEqual([args, true]);
    }
    expect(run(['--version']).stdout).toBe(`postfleet/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
  });

  it('lintian reports no errors', () => {
    const r = spawnSync('lintian', ['--tag-display-limit', '0', deb.file], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const errors = `${r.stdout}`.split('\n').filter((l) => l.startsWith('E: '));
    expect(errors).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
  }, 600_000);

  it('man renders postfleet(1) without warnings, with the sections an operator looks for', () => {
    const page = path.join(tree, 'usr/share/man/man1/postfleet.1.gz');
    const r = spawnSync('man', ['--warnings', '-l', page], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat', LC_ALL: 'C.UTF-8' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'POSTMULTI COMPATIBILITY', 'SYSTEMD', 'FILES', 'EXIT STATUS', 'EXAMPLES']) {
      expect(r.stdout).toMatch(new RegExp(`^${section}$`, 'm'));
    }
    expect(r.stdout).toContain(`postfleet ${pkg.version}`);
    expect(r.stdout).toContain('multi_instance_wrapper = /usr/sbin/postfleet -p --');
    // Every command of the tree is in the page.
    const manifest = JSON.parse(readFileSync(path.join(tree, 'usr/lib/postfleet/oclif.manifest.json'), 'utf8')) as { commands: Record<string, { hidden?: boolean }> };
    const text = r.stdout.replace(/\s+/g, ' ');
    for (const [id, c] of Object.entries(manifest.commands)) if (!c.hidden) expect([id, text.includes(id.replace(/:/g, ' '))]).toEqual([id, true]);
  });

  it('the bash completion completes commands, flags and arguments', () => {
    const file = path.join(tree, 'usr/share/bash-completion/completions/postfleet');
    // A postfleet that lists two instances and a nameless one, for the values completed from `postfleet -l`.
    const bin = mkdtempSync(path.join(os.tmpdir(), 'postfleet-completion-'));
    writeFileSync(
      path.join(bin, 'postfleet'),
      '#!/bin/sh\nprintf "%s\\n" "-               -               y         /etc/postfix" "postfix-a       web             n         /etc/postfix-a" "postfix-b       web             n         /etc/postfix-b" "-               -               n         /srv/anon"\n',
      { mode: 0o755 },
    );
    const complete = (...words: string[]): string[] => {
      const script = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _postfleet; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const out = execFileSync('bash', ['-c', script, 'bash', file, 'postfleet', ...words], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` } });
      return out.split('\n').filter(Boolean).sort();
    };
    expect(complete('po')).toEqual(['postfix']);
    expect(complete('pr')).toEqual(['probe']);
    expect(complete('postfix', '--roll')).toEqual(['--rolling']);
    expect(complete('config', 'set', '--max')).toEqual(['--max-failed']);
    expect(complete('probe', '--probe-rcpt', '')).toEqual(['none']);
    expect(complete('postfix', '--batch', '')).toEqual([]);
    expect(complete('postfix', 're')).toEqual(['reload', 'restart']);
    expect(complete('postfix', '--no-s')).toEqual(['--no-systemd']);
    expect(complete('unit', '')).toEqual(['reload', 'start', 'stop']);
    expect(complete('list', '--j')).toEqual(['--json']);
    expect(complete('-p', 'st')).toEqual(['start', 'status', 'stop']);
    // Instances for every argument of the commands that take several, by name or directory; groups; directories for import.
    expect(complete('destroy', 'postfix-')).toEqual(['postfix-a', 'postfix-b']);
    expect(complete('destroy', 'postfix-a', 'postfix-')).toEqual(['postfix-a', 'postfix-b']);
    expect(complete('deport', '/s')).toEqual(['/srv/anon']);
    expect(complete('disable', '-g', 'w')).toEqual(['web']);
    expect(complete('destroy', '--dis')).toEqual(['--disabled']);
    expect(complete('import', '/us')).toEqual(['/usr']);
    expect(complete('queue', '')).toEqual(['delete', 'flush', 'hold', 'list', 'release', 'requeue', 'summary']);
    expect(complete('queue', 'list', '--queue', 'd')).toEqual(['deferred']);
    expect(complete('queue', 'summary', '--by', '')).toEqual(['instance', 'queue', 'recipient-domain', 'sender-domain']);
    expect(complete('queue', 'delete', '--a')).toEqual(['--all']);
    rmSync(bin, { recursive: true, force: true });
  });
});
