/**
 * postfleet-generator: run by systemd at boot and on every daemon-reload as
 * `postfleet-generator NORMAL EARLY LATE`. Reads the fleet with postfleet's own reader (one
 * `postconf -d`, no process per instance) and writes, in NORMAL, one
 * postfix.service.wants/postfleet@ID.service link per enabled instance plus a drop-in that
 * orders it after the previous one (units.ts). A broken instance gets no unit and one line on
 * stderr (the journal); the others all get theirs.
 *
 * Generators run early, possibly with /var not mounted and the root file system read-only:
 * nothing is written outside the output directory (no settings cache), and no Postfix
 * configuration at all (/etc/postfix/main.cf missing) means no units, silently, as
 * postfix.service's ConditionPathExists= says.
 */
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isPostfleetError } from '../instances/errors.js';
import { loadDefaults } from '../instances/maincf/defaults.js';
import { loadFleet } from '../instances/registry.js';
import { generatedFiles, planUnits, UNIT_TEMPLATE } from './units.js';

const PROG = 'postfleet-generator';
/** Where the package installs the template unit (the links point there, as Debian's generator's do). */
const TEMPLATE_PATH = `/lib/systemd/system/${UNIT_TEMPLATE}`;

export function runGenerator(args: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const [normal] = args;
  if (normal === undefined || !normal.startsWith('/')) {
    process.stderr.write(`${PROG}: usage: ${PROG} NORMAL-DIR [EARLY-DIR LATE-DIR] (absolute paths)\n`);
    return 1;
  }
  try {
    const defaults = loadDefaults();
    // POSTFLEET_CONFIG_DIRECTORY: for trying the generator on another tree; systemd sets nothing.
    const primary = env['POSTFLEET_CONFIG_DIRECTORY'] || (defaults.get('config_directory') ?? '/etc/postfix');
    if (!existsSync(path.join(primary, 'main.cf'))) return 0;
    const fleet = loadFleet({ defaults, configDirectory: primary });
    const plan = planUnits(fleet.entries);
    for (const s of plan.skipped) process.stderr.write(`${PROG}: ${s.message}\n`);
    for (const f of generatedFiles(plan, TEMPLATE_PATH, path.join(primary, 'main.cf'))) {
      const target = path.join(normal, f.path);
      mkdirSync(path.dirname(target), { recursive: true });
      if (f.symlinkTo !== undefined) symlinkSync(f.symlinkTo, target);
      else writeFileSync(target, f.content ?? '');
    }
    return 0;
  } catch (e) {
    // Whatever it is, one line in the journal: a stack trace there helps nobody at boot.
    process.stderr.write(`${PROG}: ${isPostfleetError(e) ? e.message : (e as Error).message}\n`);
    return 1;
  }
}
