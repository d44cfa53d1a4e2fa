/**
 * Builds the Debian package from this checkout (scripts/deb.mjs, after `npm run build`) into a
 * temp dir, once per test file; and says which of the Debian tools a test needs are missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './sandbox.js';

/** Commands missing from PATH, of those named. */
export function missingCommands(commands: readonly string[]): string[] {
  return commands.filter((c) => {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', c], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
}

/**
 * For describe.runIf(): whether the tools are there. When they are not: throws if
 * POSTFLEET_REQUIRE_INTEGRATION=1 (CI installs them all), else warns and skips.
 */
export function requireCommands(what: string, commands: readonly string[]): boolean {
  const missing = missingCommands(commands);
  if (missing.length === 0) return true;
  const reason = `${what} needs ${missing.join(', ')}`;
  if (process.env.POSTFLEET_REQUIRE_INTEGRATION === '1') throw new Error(`required (POSTFLEET_REQUIRE_INTEGRATION=1) but cannot run: ${reason}`);
  console.warn(`[postfleet] skipping: ${reason}`);
  return false;
}

export interface BuiltDeb {
  readonly file: string;
  readonly dispose: () => void;
}

/** `node scripts/deb.mjs --out TMP`: the .deb of the built tree (dist/ must be built). */
export function buildDeb(): BuiltDeb {
  if (!existsSync(path.join(REPO_ROOT, 'dist', 'bundle', 'cli.js'))) throw new Error('dist/ is not built: run npm run build first');
  const out = mkdtempSync(path.join(os.tmpdir(), 'postfleet-deb-test-'));
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'deb.mjs'), '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  const debs = readdirSync(out).filter((f) => f.endsWith('.deb'));
  if (debs.length !== 1) throw new Error(`scripts/deb.mjs made ${debs.length} .deb files in ${out}`);
  return { file: path.join(out, debs[0]!), dispose: () => rmSync(out, { recursive: true, force: true }) };
}
