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
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { isPostfleetError } from '../instances/errors.js';
import { loadDefaults } from '../instances/maincf/defaults.js';
import { loadFleet } from '../instances/registry.js';
import { generatedFiles, planUnits, unitName, UNIT_TEMPLATE, WANTED_BY, type GeneratedFile, type StartOrder } from './units.js';

const PROG = 'postfleet-generator';
/** Where the package installs the template unit (the links point there, as Debian's generator's do). */
const TEMPLATE_PATH = `/lib/systemd/system/${UNIT_TEMPLATE}`;
/** The generator's settings (START_ORDER), in the Debian way. */
const DEFAULTS_FILE = '/etc/default/postfleet';

/** START_ORDER from /etc/default/postfleet's shell-style assignments: list, or parallel (default). */
function startOrderOf(text: string | undefined): { order: StartOrder; warning?: string } {
  let value: string | undefined;
  for (const line of (text ?? '').split('\n')) {
    const m = /^\s*(?:export\s+)?START_ORDER=(?:"([^"]*)"|'([^']*)'|(\S*))\s*(?:#.*)?$/.exec(line);
    if (m) value = m[1] ?? m[2] ?? m[3] ?? '';
  }
  if (value === undefined || value === '' || value === 'parallel') return { order: 'parallel' };
  if (value === 'list') return { order: 'list' };
  return { order: 'parallel', warning: `${DEFAULTS_FILE}: START_ORDER=${value} is neither list nor parallel: starting in parallel` };
}

/**
 * Where the generator's lines go: run by systemd as PID 1 (which sets SYSTEMD_SCOPE), to the
 * kernel log as systemd's own generators write, so that they reach the journal; stderr
 * otherwise (systemd-analyze --generators, a container without /dev/kmsg, by hand).
 */
function logger(env: NodeJS.ProcessEnv): (line: string) => void {
  if (env['SYSTEMD_SCOPE'] !== undefined && pid1IsSystemd()) {
    try {
      const fd = openSync('/dev/kmsg', 'a');
      return (line) => {
        try {
          writeSync(fd, `<4>${PROG}[${process.pid}]: ${line}\n`);
        } catch {
          process.stderr.write(`${PROG}: ${line}\n`);
        }
      };
    } catch {
      /* no kmsg: stderr */
    }
  }
  return (line) => process.stderr.write(`${PROG}: ${line}\n`);
}

function pid1IsSystemd(): boolean {
  try {
    return readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd';
  } catch {
    return false;
  }
}

export function runGenerator(args: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const log = logger(env);
  const [normal] = args;
  if (normal === undefined || !normal.startsWith('/')) {
    process.stderr.write(`${PROG}: usage: ${PROG} NORMAL-DIR [EARLY-DIR LATE-DIR] (absolute paths)\n`);
    return 1;
  }
  // POSTFLEET_CONFIG_DIRECTORY: for trying the generator on another tree; systemd sets nothing.
  let primary = env['POSTFLEET_CONFIG_DIRECTORY'] || '/etc/postfix';
  const write = (files: readonly GeneratedFile[]): void => {
    for (const f of files) {
      const target = path.join(normal, f.path);
      mkdirSync(path.dirname(target), { recursive: true });
      if (f.symlinkTo !== undefined) symlinkSync(f.symlinkTo, target);
      else writeFileSync(target, f.content ?? '');
    }
  };
  try {
    const defaults = loadDefaults();
    primary = env['POSTFLEET_CONFIG_DIRECTORY'] || (defaults.get('config_directory') ?? primary);
    if (!existsSync(path.join(primary, 'main.cf'))) return 0;
    const { order, warning } = startOrderOf(readIfPresent(env['POSTFLEET_DEFAULTS_FILE'] || DEFAULTS_FILE));
    if (warning !== undefined) log(warning);
    const fleet = loadFleet({ defaults, configDirectory: primary });
    const plan = planUnits(fleet.entries, order);
    for (const s of plan.skipped) log(s.message);
    // A primary that cannot be read still gets its unit, as Debian's generator gives it one:
    // its start then fails with the reason, where the operator looks for it.
    const brokenPrimary = fleet.entries.some((e) => e.kind === 'broken' && e.broken.primary);
    write([...(brokenPrimary ? primaryOnly(primary) : []), ...generatedFiles(plan, TEMPLATE_PATH, path.join(primary, 'main.cf'))]);
    return 0;
  } catch (e) {
    // Whatever it is, one line in the journal (a stack trace there helps nobody at boot), and
    // the primary instance still gets its unit: mail keeps flowing through it.
    log(isPostfleetError(e) ? e.message : (e as Error).message);
    if (!existsSync(path.join(primary, 'main.cf'))) return 1;
    try {
      rmSync(path.join(normal, `${WANTED_BY}.wants`), { recursive: true, force: true });
      write(primaryOnly(primary));
      log(`only the primary instance's unit ${unitName('-')} was made`);
    } catch (e2) {
      log((e2 as Error).message);
    }
    return 1;
  }
}

/** The primary's unit alone: what is left when the fleet cannot be read. */
function primaryOnly(primary: string): GeneratedFile[] {
  return [
    { path: `${WANTED_BY}.wants/${unitName('-')}`, symlinkTo: TEMPLATE_PATH },
    {
      path: `${unitName('-')}.d/50-postfleet-generator.conf`,
      content: `# Made by postfleet-generator: the fleet could not be read; the primary instance's unit only.\n[Unit]\nDescription=Postfix primary instance ${primary.replace(/%/g, '%%')} (postfleet)\n`,
    },
  ];
}

function readIfPresent(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
