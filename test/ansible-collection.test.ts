/**
 * The collection postfleet.fleet (ansible/) without a Postfix host: ansible-galaxy builds and
 * installs it, ansible-doc renders every module, its Python unit tests pass, the INI manifest
 * the modules write is read back by postfleet's own manifest parser value for value, and bad
 * module arguments are refused before postfleet is run.
 */
import { execa } from 'execa';
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../src/instances/lifecycle/manifest.js';
import { buildCollection, COLLECTION_SOURCE, PYTHON, requireAnsible, type BuiltCollection } from './helpers/ansible.js';

const MODULES = ['instance', 'manifest', 'info', 'postfix', 'queue'] as const;

describe.runIf(requireAnsible())('ansible collection postfleet.fleet', { timeout: 300_000 }, () => {
  let coll: BuiltCollection;
  let installed: string;
  const py = (args: string[], input?: string) =>
    execa(PYTHON, args, { env: { ...coll.env, PYTHONPATH: coll.collectionsPath }, extendEnv: false, reject: false, input, cwd: coll.dir });

  beforeAll(async () => {
    coll = await buildCollection();
    installed = path.join(coll.collectionsPath, 'ansible_collections', 'postfleet', 'fleet');
  }, 300_000);
  afterAll(() => coll?.dispose());

  it('ansible-galaxy collection build makes the tarball, and it installs', async () => {
    expect(path.basename(coll.tarball)).toBe('postfleet-fleet-0.1.0.tar.gz');
    const listing = await execa('tar', ['-tzf', coll.tarball]);
    const files = listing.stdout.split('\n');
    for (const f of ['MANIFEST.json', 'FILES.json', 'README.md', 'meta/runtime.yml', 'plugins/module_utils/postfleet.py', 'plugins/doc_fragments/postfleet.py']) {
      expect(files).toContain(f);
    }
    for (const m of MODULES) expect(files).toContain(`plugins/modules/${m}.py`);
    expect(files.filter((f) => f.includes('__pycache__') || f.endsWith('.tar.gz'))).toEqual([]);
    expect(existsSync(path.join(installed, 'MANIFEST.json'))).toBe(true);
    const list = await execa('ansible-galaxy', ['collection', 'list', '-p', coll.collectionsPath, 'postfleet.fleet'], { env: coll.env, extendEnv: false, reject: false });
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/postfleet\.fleet\s+0\.1\.0/);
  });

  it('requires ansible-core >= 2.14', async () => {
    const runtime = await execa('cat', [path.join(installed, 'meta', 'runtime.yml')]);
    expect(runtime.stdout).toMatch(/^requires_ansible: '>=2\.14'$/m);
  });

  it.each(MODULES)('ansible-doc renders postfleet.fleet.%s', async (m) => {
    const r = await execa('ansible-doc', [`postfleet.fleet.${m}`], { env: coll.env, extendEnv: false, reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`> POSTFLEET.FLEET.${m.toUpperCase()}`);
    for (const section of ['OPTIONS (= is mandatory):', 'EXAMPLES:', 'RETURN VALUES:']) expect(r.stdout).toContain(section);
    // Options of the shared doc fragment are rendered too.
    expect(r.stdout).toContain('- executable');
    expect(r.stdout).toContain('- primary_config_dir');
    // The snippet form parses the argument spec as well.
    const snippet = await execa('ansible-doc', ['-s', `postfleet.fleet.${m}`], { env: coll.env, extendEnv: false, reject: false });
    expect(snippet.exitCode, snippet.stderr).toBe(0);
  });

  it('ansible-doc documents the options the issue names', async () => {
    const r = await execa('ansible-doc', ['--json', 'postfleet.fleet.instance', 'postfleet.fleet.manifest', 'postfleet.fleet.postfix'], {
      env: coll.env,
      extendEnv: false,
    });
    const docs = JSON.parse(r.stdout) as Record<string, { doc: { options: Record<string, { type?: string; choices?: string[] }> } }>;
    const instance = docs['postfleet.fleet.instance']!.doc.options;
    for (const o of ['name', 'group', 'state', 'enabled', 'template', 'settings', 'config_directory', 'queue_directory', 'data_directory', 'primary_config_dir', 'force', 'executable']) {
      expect(Object.keys(instance)).toContain(o);
    }
    expect(instance.state!.choices).toEqual(['present', 'absent', 'deported']);
    expect(Object.keys(docs['postfleet.fleet.manifest']!.doc.options)).toEqual(expect.arrayContaining(['content', 'src']));
    expect(docs['postfleet.fleet.postfix']!.doc.options.state!.choices).toEqual(['started', 'stopped', 'reloaded', 'restarted']);
    // The roll-out options (issue 20), on the postfix and manifest modules alike.
    for (const m of ['postfleet.fleet.postfix', 'postfleet.fleet.manifest']) {
      const options = docs[m]!.doc.options;
      expect(Object.keys(options)).toEqual(expect.arrayContaining(['rolling', 'batch', 'pause', 'max_failed', 'probe_timeout', 'probe_rcpt']));
      expect([options.rolling!.type, options.batch!.type, options.max_failed!.type]).toEqual(['bool', 'str', 'int']);
    }
  });

  it('passes the ansible-test sanity tests that need no download', async () => {
    // validate-modules, pep8, pylint, import … install their requirements from the network
    // into a venv; these run with ansible-core alone. The tree must sit in ansible_collections/NS/NAME.
    const tree = path.join(coll.dir, 'sanity', 'ansible_collections', 'postfleet', 'fleet');
    await execa('mkdir', ['-p', path.dirname(tree)]);
    await execa('cp', ['-r', COLLECTION_SOURCE, tree]);
    const tests = [
      'action-plugin-docs', 'compile', 'empty-init', 'future-import-boilerplate', 'line-endings', 'metaclass-boilerplate', 'no-assert', 'no-basestring',
      'no-dict-iteritems', 'no-get-exception', 'no-main-display', 'no-smart-quotes', 'no-unicode-literals', 'replace-urlopen', 'shebang', 'symlinks',
      'use-argspec-type-path', 'use-compat-six',
    ];
    const version = (await py(['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'])).stdout.trim();
    const r = await execa('ansible-test', ['sanity', '--python', version, ...tests.flatMap((t) => ['--test', t])], {
      env: coll.env, extendEnv: false, reject: false, cwd: tree, all: true,
    });
    expect(r.exitCode, r.all).toBe(0);
    for (const t of tests) expect(r.all).toContain(`Running sanity test "${t}"`);
  });

  it('passes its Python unit tests', async () => {
    const root = path.join(installed, 'tests', 'unit');
    const files = (await execa('find', [root, '-name', 'test_*.py'])).stdout.split('\n').filter(Boolean);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const r = await py([f, '-v']);
      expect(r.exitCode, `${f}\n${r.stderr}`).toBe(0);
      expect(r.stderr).toMatch(/^OK$/m);
    }
  });

  it("writes manifests that postfleet's parser reads back value for value", async () => {
    const settings: Record<string, unknown> = {
      relayhost: '[relay.example.com]:587',
      semicolon: 'a; b',
      hash: 'x # not a comment',
      quotes: `"double" and 'single'`,
      edge_quotes: '"quoted"',
      spaces: '  padded  ',
      backslash: 'C:\\path\\;x',
      unicode: 'smtpd: Grüße ✉',
      dollar: '$myhostname ${name?{value}}',
      empty: '',
      list: ['127.0.0.0/8', '[::1]/128'],
      flag: true,
      off: false,
      number: 25,
    };
    const spec = { group: 'mta', enabled: true, template: 'null-client', config_directory: '/srv/mail/out', settings };
    const code = [
      'import json, sys',
      'from ansible_collections.postfleet.fleet.plugins.module_utils.postfleet import manifest_text',
      'spec = json.load(sys.stdin)',
      "sys.stdout.write(manifest_text([('postfix-out', spec), ('postfix-in', {'enabled': False}), ('postfix-old', {'state': 'absent'})]))",
    ].join('\n');
    const r = await py(['-c', code], JSON.stringify(spec));
    expect(r.exitCode, r.stderr).toBe(0);
    const parsed = parseManifest(r.stdout, 'module manifest');
    expect(parsed).toEqual([
      {
        name: 'postfix-out',
        state: 'present',
        group: 'mta',
        enabled: true,
        template: 'null-client',
        paths: { config_directory: '/srv/mail/out' },
        settings: [
          ['relayhost', '[relay.example.com]:587'],
          ['semicolon', 'a; b'],
          ['hash', 'x # not a comment'],
          ['quotes', `"double" and 'single'`],
          ['edge_quotes', '"quoted"'],
          ['spaces', '  padded  '],
          ['backslash', 'C:\\path\\;x'],
          ['unicode', 'smtpd: Grüße ✉'],
          ['dollar', '$myhostname ${name?{value}}'],
          ['empty', ''],
          ['list', '127.0.0.0/8, [::1]/128'],
          ['flag', 'yes'],
          ['off', 'no'],
          ['number', '25'],
        ],
      },
      { name: 'postfix-in', state: 'present', group: undefined, enabled: false, template: undefined, settings: [], paths: {} },
      { name: 'postfix-old', state: 'absent', group: undefined, enabled: undefined, template: undefined, settings: [], paths: {} },
    ]);
  });

  describe('refuses bad arguments before running postfleet', () => {
    // executable names a program that does not exist: reaching it would fail differently.
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['instance', { name: 'postfix-a', state: 'absent', settings: { a: 1 } }, /^state=absent takes no settings$/],
      ['instance', { name: 'postfix-a', force: true }, /^force applies to state=absent or deported only$/],
      ['instance', { name: 'postfix-a', state: 'deported', group: 'mta' }, /^state=deported takes no group$/],
      ['instance', { name: 'postfix-a', state: 'gone' }, /value of state must be one of: present, absent, deported, got: gone/],
      ['instance', { state: 'present' }, /missing required arguments: name/],
      ['instance', { name: 'postfix-a', settings: { 'relayhost\n[postfix-evil]': 'x' } }, /bad parameter name/],
      ['instance', { name: 'postfix-a', settings: { relayhost: 'a\nb' } }, /must be one line/],
      ['instance', { name: 'postfix-a]\n[postfix-b', state: 'present' }, /bad instance name/],
      ['instance', { name: 'postfix-a', enabled: 'maybe' }, /enabled.*bool/],
      ['manifest', {}, /one of the following is required: content, src/],
      ['manifest', { content: { 'postfix-a': {} }, src: '/etc/fleet.ini' }, /mutually exclusive: content\|src/],
      ['manifest', { content: { 'postfix-a': { setting: { x: 1 } } } }, /instance postfix-a: unknown key 'setting'/],
      ['manifest', { content: { 'postfix-a': { enabled: 'yes' } } }, /enabled must be true or false/],
      ['manifest', { content: { 'postfix-a': { state: 'gone' } } }, /instance postfix-a: state must be present, absent, deported, not 'gone'/],
      ['manifest', { content: {} }, /content names no instance/],
      ['postfix', { state: 'started', name: 'postfix-a', group: 'mta' }, /mutually exclusive: name\|group/],
      ['postfix', { state: 'up' }, /value of state must be one of: started, stopped, reloaded, restarted, got: up/],
      ['postfix', { state: 'started', parallel: 0 }, /parallel must be at least 1/],
      ['info', { name: 'postfix-a', group: 'mta' }, /mutually exclusive: name\|group/],
      ['postfix', { state: 'reloaded', batch: '2' }, /^batch is a roll-out option: set rolling: true too$/],
      ['postfix', { state: 'reloaded', rolling: true, batch: '0' }, /^bad batch '0'/],
      ['postfix', { state: 'restarted', rolling: true, pause: 'later' }, /^bad pause 'later'/],
      ['postfix', { state: 'stopped', rolling: true }, /^rolling applies to started, reloaded and restarted, not stopped$/],
      ['manifest', { content: { 'postfix-a': {} }, rolling: true, batch: '150%' }, /^bad batch '150%'/],
      ['manifest', { content: { 'postfix-a': {} }, max_failed: 1 }, /^max_failed is a roll-out option/],
      ['queue', { action: 'delete', queue: ['deferred'] }, /^action=delete without a message filter \(sender, recipient, older, younger, reason, id\) deletes every message/],
      ['queue', { action: 'hold', all: true }, /^all is for action=delete only$/],
      ['queue', { queue: ['bogus'] }, /value of queue must be one or more of: maildrop, incoming, active, deferred, hold, corrupt/],
      ['queue', { action: 'flush' }, /value of action must be one of: list, hold, release, delete, requeue, got: flush/],
      ['queue', { name: 'postfix-a', group: 'mta' }, /mutually exclusive: name\|group/],
    ];
    it.each(cases)('%s %j', async (module, args, msg) => {
      const file = path.join(coll.dir, `args-${Math.abs(hash(JSON.stringify([module, args])))}.json`);
      await writeFile(file, JSON.stringify({ ANSIBLE_MODULE_ARGS: { executable: '/nonexistent/postfleet', ...args } }));
      const r = await py([path.join(installed, 'plugins', 'modules', `${module}.py`), file]);
      expect(r.exitCode, r.stdout + r.stderr).toBe(1);
      const out = JSON.parse(r.stdout) as { failed: boolean; msg: string };
      expect(out.failed).toBe(true);
      expect(out.msg).toMatch(msg);
      expect(out.msg).not.toContain('/nonexistent/postfleet');
    });
  });

  it('ships no byte-compiled files or build leftovers in the source tree', () => {
    const walk = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    expect(walk(COLLECTION_SOURCE).filter((f) => /__pycache__|\.pyc$|\.tar\.gz$/.test(f))).toEqual([]);
  });
});

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (Math.imul(h, 31) + c.charCodeAt(0)) | 0;
  return h;
}
