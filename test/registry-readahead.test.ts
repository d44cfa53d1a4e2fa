/**
 * Reading main.cf files ahead, while `postconf -d` runs, must give the very fleet that
 * reading them afterwards gives: same entries, same broken ones, same reasons, whatever the
 * guess about the primary's directory and whether multi_instance_directories refers to
 * other parameters. No Postfix needed: a fake postconf prints the defaults.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { PostfleetError } from '../src/instances/errors.js';
import { loadDefaults } from '../src/instances/maincf/defaults.js';
import { loadFleet, loadFleetOverlapped, readAhead, readingAhead } from '../src/instances/registry.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'postfleet-readahead-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function fakePostconf(configDirectory: string): string {
  const bin = path.join(root, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const defaults = [
    `config_directory = ${configDirectory}`,
    `command_directory = ${bin}`,
    `daemon_directory = ${bin}`,
    `meta_directory = ${bin}`,
    'shlib_directory = no',
    'queue_directory = /var/spool/postfix',
    'data_directory = /var/lib/postfix',
    'multi_instance_directories =',
    'multi_instance_enable = no',
    'multi_instance_name =',
    'multi_instance_group =',
    'postmulti_start_commands = start',
    'postmulti_stop_commands = stop abort drain quick-stop',
    'postmulti_control_commands = reload flush',
  ];
  const file = path.join(bin, `postconf-${path.basename(configDirectory)}`);
  fs.writeFileSync(file, `#!/bin/sh\ncat <<'EOF'\n${defaults.join('\n')}\nEOF\n`, { mode: 0o755 });
  return file;
}

function instance(dir: string, lines: readonly string[]): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'main.cf'), `# instance\n${lines.join('\n')}\n`);
}

/** A primary at `primary` listing `list`, and secondaries good, broken and missing. */
function makeTree(primary: string, list: string): void {
  instance(primary, ['multi_instance_enable = yes', `multi_instance_directories = ${list}`, `base = ${root}`]);
  const s = (n: string, extra: readonly string[] = []): void =>
    instance(path.join(root, n), [
      `multi_instance_name = postfix-${n}`,
      `multi_instance_group = g`,
      'multi_instance_enable = yes',
      `queue_directory = /var/spool/postfix-${n}`,
      `data_directory = /var/lib/postfix-${n}`,
      ...extra,
    ]);
  s('a');
  s('b', ['multi_instance_enable = maybe']);
  s('c', ['this line is no setting']);
  s('d', [`queue_directory = /var/spool/postfix-a`]); // conflicts with a
  s('e', ['data_directory = $queue_directory/data']);
}

const LIST = (base: string): string => ['a', 'b', 'c', 'missing', 'd', 'e', 'a'].map((n) => `${base}/${n}`).join(', ');

describe('readAhead', () => {
  const cases: Array<[string, string, string]> = [
    ['primary where the guess looks, a literal list', 'p1', LIST(root)],
    ['primary where the guess looks, a list with $base', 'p2', LIST('$base')],
    ['primary elsewhere than the guess', 'p3', LIST(root)],
  ];
  it.each(cases)('%s: the same fleet as reading afterwards', async (_what, name, list) => {
    const primary = path.join(root, name);
    makeTree(primary, list);
    const postconf = fakePostconf(primary);
    const guess = name === 'p3' ? path.join(root, 'nowhere') : primary;

    const expected = loadFleet({ defaults: loadDefaults(postconf) });
    const ahead = readAhead(guess);
    const got = loadFleet({ defaults: loadDefaults(postconf), read: readingAhead(ahead) });
    expect(got.entries).toEqual(expected.entries);
    expect(got.primaryConfigDirectory).toBe(primary);
    expect((await loadFleetOverlapped({ configDirectory: primary, postconf })).entries).toEqual(expected.entries);

    // The broken ones stay broken, for the same reasons.
    const reasons = expected.entries.flatMap((e) => (e.kind === 'broken' ? [e.broken.reason] : []));
    expect(reasons).toEqual([
      `Unexpected ${root}/b/main.cf entry: multi_instance_enable = maybe`,
      `${root}/c/main.cf, line 7: missing '=' after attribute name: "this line is no setting"`,
      `cannot read ${root}/missing/main.cf: No such file or directory`,
      `instance ${root}/d, queue_directory=/var/spool/postfix-a conflicts with instance ${root}/a, queue_directory=/var/spool/postfix-a`,
    ]);
    // What was read ahead: everything for a literal list, only the primary otherwise.
    if (name === 'p1') expect([...ahead.keys()].sort()).toEqual([primary, ...['a', 'b', 'c', 'd', 'e', 'missing'].map((n) => `${root}/${n}`)].sort());
    if (name === 'p2') expect([...ahead.keys()]).toEqual([primary]);
    if (name === 'p1') expect(ahead.get(`${root}/missing`)).toBeInstanceOf(PostfleetError);
  });
});

describe('loadFleetOverlapped through the settings cache', () => {
  it('gives the fleet that reading every file gives, before and after main.cf files change', async () => {
    const primary = path.join(root, 'p4');
    makeTree(primary, LIST(root));
    const postconf = fakePostconf(primary);
    const cacheDir = path.join(root, 'cache-p4');
    const live = (): unknown => loadFleet({ configDirectory: primary, defaults: loadDefaults(postconf) }).entries;
    const cached = async (): Promise<unknown> => {
      process.env['POSTFLEET_CACHE_DIR'] = cacheDir;
      try {
        return (await loadFleetOverlapped({ configDirectory: primary, postconf })).entries;
      } finally {
        process.env['POSTFLEET_CACHE_DIR'] = '';
      }
    };
    // Files younger than 2 s are not kept (see settings-cache.ts): wait once, then fill.
    await new Promise((r) => setTimeout(r, 2100));
    expect(await cached()).toEqual(live());
    const stored = JSON.parse(fs.readFileSync(path.join(cacheDir, 'main.cf-settings.json'), 'utf8')) as { entries: object };
    // The good ones and those with a bad value are kept; unparsable and missing ones are not.
    expect(Object.keys(stored.entries).sort()).toEqual([primary, ...['a', 'b', 'd', 'e'].map((n) => `${root}/${n}`)].map((d) => `${d}/main.cf`).sort());
    expect(await cached()).toEqual(live());

    // An instance renamed and regrouped, one repaired, one made: the very next listing shows it.
    instance(path.join(root, 'a'), ['multi_instance_name = postfix-renamed', 'multi_instance_group = h', 'multi_instance_enable = no',
      'queue_directory = /var/spool/postfix-a', 'data_directory = /var/lib/postfix-a']);
    instance(path.join(root, 'b'), ['multi_instance_name = postfix-b', 'multi_instance_enable = yes', 'queue_directory = /var/spool/postfix-b', 'data_directory = /var/lib/postfix-b']);
    instance(path.join(root, 'missing'), ['multi_instance_name = postfix-missing', 'multi_instance_enable = yes', 'queue_directory = /var/spool/postfix-m', 'data_directory = /var/lib/postfix-m']);
    const after = live();
    expect(await cached()).toEqual(after);
    expect(JSON.stringify(after)).toContain('postfix-renamed');
    expect(JSON.stringify(after)).toContain('postfix-missing');
  });
});
