/**
 * Differential test of the main.cf reader: every file in
 * test/fixtures/maincf/ is read by real `postconf -xc DIR` and by
 * readMainCf() + ParameterSet, and every parameter postfleet uses (plus the
 * fixture's own `# check: NAME ...` names) must come out the same.
 *
 * A fixture marked `# expect: error` must make postconf fail (it dies on bad
 * syntax and on expansion errors) and our reader must throw for at least one
 * of the names; every other fixture must make postconf succeed.
 *
 * postconf is asked for `name = value` lines rather than -h: it silently
 * omits a parameter it does not know, which with -h would shift every later
 * value onto the wrong name.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

import { loadDefaults, parsePostconfOutput, readMainCf } from '../src/instances/maincf/defaults.js';
import { ParameterSet } from '../src/instances/maincf/expand.js';
import { PostfleetError } from '../src/instances/errors.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'maincf');

/** Every parameter postfleet reads from a main.cf. */
const POSTFLEET_PARAMETERS = [
  'config_directory',
  'queue_directory',
  'data_directory',
  'multi_instance_name',
  'multi_instance_group',
  'multi_instance_enable',
  'multi_instance_directories',
  'command_directory',
  'daemon_directory',
  'shlib_directory',
  'meta_directory',
  'postmulti_start_commands',
  'postmulti_stop_commands',
  'postmulti_control_commands',
  'multi_instance_wrapper',
  'alternate_config_directories',
  'import_environment',
];

interface Fixture {
  readonly file: string;
  readonly names: string[];
  readonly expectError: boolean;
}

function loadFixtures(): Fixture[] {
  return fs
    .readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.cf'))
    .sort()
    .map((file) => {
      const text = fs.readFileSync(path.join(FIXTURES, file), 'latin1');
      const extra = [...text.matchAll(/^# check:(.*)$/gm)].flatMap((m) => (m[1] ?? '').trim().split(/\s+/));
      const names = [...new Set([...POSTFLEET_PARAMETERS, ...extra.filter((n) => n !== '')])];
      return { file, names, expectError: /^# expect: error\s*$/m.test(text) };
    });
}

async function postconfVersion(): Promise<string | undefined> {
  try {
    const r = await execa('postconf', ['-dh', 'mail_version'], { reject: false });
    return r.exitCode === 0 ? r.stdout.trim() : undefined;
  } catch {
    return undefined;
  }
}

const version = await postconfVersion();
const required = process.env['POSTFLEET_REQUIRE_INTEGRATION'] === '1';
if (version === undefined && !required) {
  console.warn('maincf-differential: postconf is not installed; skipping (set POSTFLEET_REQUIRE_INTEGRATION=1 to fail instead)');
}

const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'postfleet-maincf-diff-'));
afterAll(() => fs.rmSync(tempRoot, { recursive: true, force: true }));

/** A copy of the fixture as DIR/main.cf, older than Postfix's 1-second "still being written" window. */
function installFixture(fixture: Fixture): string {
  const dir = path.join(tempRoot, fixture.file.replace(/\.cf$/, ''));
  fs.mkdirSync(dir);
  const mainCf = path.join(dir, 'main.cf');
  fs.copyFileSync(path.join(FIXTURES, fixture.file), mainCf);
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(mainCf, old, old);
  return dir;
}

type Ours = { ok: true; values: Map<string, string> } | { ok: false; errors: string[] };

function readOurs(dir: string, names: readonly string[], defaults: ReadonlyMap<string, string>): Ours {
  let params: ParameterSet;
  try {
    params = new ParameterSet(readMainCf(dir), defaults, { configDirectory: dir });
  } catch (e) {
    if (!(e instanceof PostfleetError)) throw e;
    return { ok: false, errors: [e.message] };
  }
  const values = new Map<string, string>();
  const errors: string[] = [];
  for (const name of names) {
    try {
      values.set(name, params.get(name));
    } catch (e) {
      if (!(e instanceof PostfleetError)) throw e;
      errors.push(e.message);
    }
  }
  return errors.length === 0 ? { ok: true, values } : { ok: false, errors };
}

describe.skipIf(version === undefined && !required)(`main.cf reader vs postconf ${version ?? '(missing)'}`, () => {
  const fixtures = loadFixtures();
  let defaults: Map<string, string> | undefined;
  const getDefaults = (): Map<string, string> => (defaults ??= loadDefaults());

  it('has postconf available', () => {
    expect(version, 'postconf is required (POSTFLEET_REQUIRE_INTEGRATION=1)').toBeDefined();
  });

  it('has a corpus of at least 30 fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(30);
  });

  // Concurrent: postconf sleeps a second before dying on a fatal error.
  it.concurrent.for(fixtures)('$file', async (fixture, { expect }) => {
    const dir = installFixture(fixture);
    const postconf = await execa('postconf', ['-xc', dir, ...fixture.names], { reject: false, stripFinalNewline: false });
    const ours = readOurs(dir, fixture.names, getDefaults());

    if (fixture.expectError) {
      expect(postconf.exitCode, `postconf should fail on ${fixture.file}; stderr: ${postconf.stderr}`).not.toBe(0);
      expect(ours.ok, 'our reader should throw as postconf fails').toBe(false);
      return;
    }
    expect(postconf.exitCode, `postconf failed on ${fixture.file}: ${postconf.stderr}`).toBe(0);
    if (!ours.ok) throw new Error(`our reader failed where postconf did not: ${ours.errors.join('; ')}`);

    const theirs = parsePostconfOutput(postconf.stdout);
    for (const name of fixture.names) {
      expect(theirs.has(name), `postconf does not know ${name} (fix the fixture's # check line)`).toBe(true);
      expect({ name, value: ours.values.get(name) }).toEqual({ name, value: theirs.get(name) });
    }
  });
});
