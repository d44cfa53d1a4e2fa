#!/usr/bin/env node
// Builds the Debian package postfleet_<version>_<arch>.deb with dpkg-deb, offline, from the
// built tree (npm run build) and the installed node_modules. Run by `npm run deb`.
//
//   node scripts/deb.mjs [--out DIR]     (default: the repository root)
//
// Layout:
//   /usr/sbin/postfleet                          sh wrapper: node /usr/lib/postfleet/bin/run.js
//   /usr/lib/postfleet/{bin,dist/bundle,templates,package.json,oclif.manifest.json}
//   /usr/lib/postfleet/node_modules/             production dependencies (package-lock.json)
//   /lib/systemd/system/postfleet@.service       systemd/
//   /lib/systemd/system-generators/postfleet-generator
//   /usr/share/man/man1/postfleet.1.gz           man/postfleet.1
//   /usr/share/bash-completion/completions/postfleet   from oclif.manifest.json
//   /usr/share/doc/postfleet/{copyright,changelog.gz}
//   DEBIAN/{control,postinst,postrm,md5sums}     postinst masks Debian's postfix-instance-generator
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { bashCompletion } from './completion.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
function die(message) {
  console.error(`deb: ${message}`);
  process.exit(1);
}

const outDir = path.resolve(arg('--out', ROOT));
for (const needed of ['dist/bundle/cli.js', 'dist/bundle/systemd/generator.js', 'oclif.manifest.json']) {
  if (!existsSync(path.join(ROOT, needed))) die(`${needed} is missing: run npm run build first`);
}
const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
const version = pkg.version;
const stage = mkdtempSync(path.join(os.tmpdir(), 'postfleet-deb-'));
const at = (p) => path.join(stage, p);

/** Copies a file or tree, dropping what only developers read (source maps, type declarations). */
function copy(from, to, { filter } = {}) {
  mkdirSync(path.dirname(to), { recursive: true });
  cpSync(from, to, {
    recursive: true,
    dereference: true,
    filter: (src) =>
      !/\.(map|d\.ts|d\.mts|d\.cts|tsbuildinfo)$/.test(src) && !/^\.(npmignore|github|travis\.yml|eslintrc.*|editorconfig)$/.test(path.basename(src)) && (filter ? filter(src) : true),
  });
}
function write(p, content, mode = 0o644) {
  mkdirSync(path.dirname(at(p)), { recursive: true });
  writeFileSync(at(p), content);
  chmodSync(at(p), mode);
}

try {
  // The program.
  const lib = '/usr/lib/postfleet';
  copy(path.join(ROOT, 'bin'), at(`${lib}/bin`));
  copy(path.join(ROOT, 'dist', 'bundle'), at(`${lib}/dist/bundle`), { filter: (src) => !src.endsWith('meta.json') });
  copy(path.join(ROOT, 'templates'), at(`${lib}/templates`));
  copy(path.join(ROOT, 'oclif.manifest.json'), at(`${lib}/oclif.manifest.json`));
  const { devDependencies: _dev, scripts: _scripts, ...runtimePkg } = pkg;
  write(`${lib}/package.json`, `${JSON.stringify(runtimePkg, null, 2)}\n`);

  // Production dependencies, as package-lock.json lists them (those installed here: optional
  // packages for other platforms are not).
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  let deps = 0;
  const licences = [];
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    if (key === '' || entry.dev || entry.devOptional || !key.startsWith('node_modules/')) continue;
    const src = path.join(ROOT, key);
    if (!existsSync(src)) {
      if (entry.optional) continue;
      die(`${key} is missing: run npm ci first`);
    }
    // Nested node_modules are copied as entries of their own.
    copy(src, at(`${lib}/${key}`), { filter: (p) => !path.relative(src, p).split(path.sep).includes('node_modules') });
    const meta = JSON.parse(readFileSync(path.join(src, 'package.json'), 'utf8'));
    licences.push(` ${meta.name} ${meta.version}: ${typeof meta.license === 'string' ? meta.license : 'see its files'}`);
    deps++;
  }

  write('/usr/sbin/postfleet', readFileSync(path.join(ROOT, 'debian', 'postfleet')), 0o755);
  write('/lib/systemd/system/postfleet@.service', readFileSync(path.join(ROOT, 'systemd', 'postfleet@.service')));
  write('/lib/systemd/system-generators/postfleet-generator', readFileSync(path.join(ROOT, 'systemd', 'postfleet-generator')), 0o755);

  // Documentation.
  const man = readFileSync(path.join(ROOT, 'man', 'postfleet.1'), 'utf8').replaceAll('@VERSION@', version);
  write('/usr/share/man/man1/postfleet.1.gz', gzipSync(man, { level: 9 }));
  const copyright = readFileSync(path.join(ROOT, 'debian', 'copyright'), 'utf8');
  write('/usr/share/doc/postfleet/copyright', copyright.replace('@DEPENDENCIES@', [...new Set(licences)].sort().join('\n')));
  const date = execFileSync('date', ['-uR', '-d', `@${commitTime()}`], { encoding: 'utf8' }).trim();
  const changelog = `postfleet (${version}) unstable; urgency=medium\n\n  * Release ${version}: see README.md.\n\n -- postfleet developers <postfleet@users.noreply.github.com>  ${date}\n`;
  write('/usr/share/doc/postfleet/changelog.gz', gzipSync(changelog, { level: 9 }));
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8'));
  write('/usr/share/bash-completion/completions/postfleet', bashCompletion(manifest));

  // Modes as Debian wants them, whatever the umask and the npm packages said.
  normaliseModes(stage);
  chmodSync(stage, 0o755);

  // Control files.
  const installedKb = Math.ceil(treeSize(stage) / 1024);
  const control = [
    'Package: postfleet',
    `Version: ${version}`,
    `Architecture: ${arch}`,
    'Maintainer: postfleet developers <postfleet@users.noreply.github.com>',
    `Installed-Size: ${installedKb}`,
    // node-pty (postfix(1)'s messages are read through a pseudo-terminal) is a native addon.
    'Depends: nodejs (>= 20.19), postfix, libc6, libgcc-s1, libstdc++6',
    'Section: mail',
    'Priority: optional',
    'Description: multi-instance manager for Postfix, postmulti-compatible',
    ' postfleet manages the instances of a Postfix installation: everything postmulti',
    ' does, with the same meaning, and a drop-in multi_instance_wrapper for postfix;',
    ' on top, concurrency with live progress, JSON output, fault isolation (a broken',
    ' instance is reported and skipped), atomic and serialised main.cf edits,',
    ' templates and declarative manifests.',
    ' .',
    ' This package also ships a systemd template unit and a generator that run each',
    ' enabled instance in a unit of its own, all started at once; it masks Debian\'s',
    ' postfix-instance-generator while installed. Installing it moves the running',
    ' instances from Debian\'s postfix@ units into postfleet@ units, one at a time;',
    ' removing it hands them back. It changes no Postfix configuration but',
    ' multi_instance_wrapper on removal (back to postmulti\'s).',
  ];
  write('/DEBIAN/control', `${control.join('\n')}\n`);
  write('/DEBIAN/postinst', readFileSync(path.join(ROOT, 'debian', 'postinst')), 0o755);
  write('/DEBIAN/prerm', readFileSync(path.join(ROOT, 'debian', 'prerm')), 0o755);
  write('/DEBIAN/postrm', readFileSync(path.join(ROOT, 'debian', 'postrm')), 0o755);
  write('/DEBIAN/md5sums', md5sums(stage));

  mkdirSync(outDir, { recursive: true });
  const deb = path.join(outDir, `postfleet_${version}_${arch}.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '-z6', '--build', stage, deb], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, SOURCE_DATE_EPOCH: commitTime() },
  });
  console.log(`${deb} (${deps} production dependencies, ${installedKb} KiB installed)`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}

/** When HEAD was committed (reproducible dates); now outside a git checkout. */
function commitTime() {
  try {
    return execFileSync('git', ['-C', ROOT, 'log', '-1', '--format=%ct'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return String(Math.floor(Date.now() / 1000));
  }
}

function files(dir, rel = '') {
  const out = [];
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...files(dir, p));
    else out.push(p);
  }
  return out.sort();
}
function normaliseModes(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      chmodSync(p, 0o755);
      normaliseModes(p);
    } else if (e.isFile()) {
      // Executable: scripts (#!) only; shared objects (node-pty's addon) are not.
      const head = readFileSync(p).subarray(0, 2).toString('latin1');
      chmodSync(p, statSync(p).mode & 0o111 && head === '#!' ? 0o755 : 0o644);
      if (e.name.endsWith('.node')) strip(p);
    }
  }
}
/** Debug symbols out of a native addon, as dh_strip would (when binutils is installed). */
function strip(file) {
  try {
    execFileSync('strip', ['--strip-unneeded', '--remove-section=.comment', '--remove-section=.note', file], { stdio: 'ignore' });
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
}
function treeSize(dir) {
  return files(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
}
function md5sums(dir) {
  return files(dir)
    .filter((f) => !f.startsWith('DEBIAN/'))
    .map((f) => `${createHash('md5').update(readFileSync(path.join(dir, f))).digest('hex')}  ${f}\n`)
    .join('');
}
