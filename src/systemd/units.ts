/**
 * Which systemd unit runs which instance, and what postfleet-generator makes of a fleet.
 * Pure: no files, no processes (generator.ts writes the files, unit.ts resolves a unit).
 *
 * Unit names: postfleet@ID.service, where ID is
 *  - `-` for the primary instance (as Debian's postfix@-.service),
 *  - the instance's name when every character of it may stand in a unit name
 *    ([A-Za-z0-9:_.-], not leading '.'), else the name escaped as `systemd-escape NAME`,
 *  - for a nameless secondary, its config directory escaped as `systemd-escape --path DIR`
 *    (Debian's generator makes `postfix@.service` of every one of them).
 * unit.ts finds the instance of a unit by computing these IDs again, so the two cannot disagree.
 */
import { describeBroken, type FleetEntry, type Instance } from '../instances/instance.js';
import { systemdEscape, systemdEscapePath } from './escape.js';

export const UNIT_PREFIX = 'postfleet@';
export const UNIT_SUFFIX = '.service';
export const UNIT_TEMPLATE = `${UNIT_PREFIX}${UNIT_SUFFIX}`;
/** The unit that wants every instance's unit: Debian's postfix.service. */
export const WANTED_BY = 'postfix.service';
/** systemd's UNIT_NAME_MAX. */
const UNIT_NAME_MAX = 255;

const PLAIN_NAME = /^[A-Za-z0-9:_.-]+$/;

/** The unit instance string of an instance; undefined when its directory cannot be escaped. */
export function unitInstanceId(i: Pick<Instance, 'primary' | 'name' | 'configDirectory'>): string | undefined {
  if (i.primary) return '-';
  if (i.name !== undefined) return PLAIN_NAME.test(i.name) && !i.name.startsWith('.') ? i.name : systemdEscape(i.name);
  return systemdEscapePath(i.configDirectory);
}

export function unitName(id: string): string {
  return `${UNIT_PREFIX}${id}${UNIT_SUFFIX}`;
}

/** The unit of an instance, or why it has none. */
export function unitOf(i: Instance): { unit: string } | { error: string } {
  const id = unitInstanceId(i);
  if (id === undefined) return { error: `config directory ${i.configDirectory} cannot be a unit name (systemd-escape --path refuses it)` };
  const unit = unitName(id);
  if (unit.length > UNIT_NAME_MAX) return { error: `unit name ${unit} is longer than systemd's ${UNIT_NAME_MAX} characters` };
  return { unit };
}

interface PlannedUnit {
  readonly instance: Instance;
  readonly unit: string;
  /** With START_ORDER=list: the unit started just before this one (the previous enabled instance in list order). */
  readonly after: string | undefined;
}

interface SkippedInstance {
  readonly configDirectory: string;
  /** One line, for the journal. */
  readonly message: string;
}

export interface UnitPlan {
  /** Enabled instances in list order: start in this order, stop in reverse. */
  readonly units: readonly PlannedUnit[];
  /** Broken instances and those whose unit name cannot be made or is taken. */
  readonly skipped: readonly SkippedInstance[];
  readonly order: StartOrder;
}

/**
 * How the units start: all at once (systemd starts them in parallel; the default), or, opted
 * into with START_ORDER=list in /etc/default/postfleet, each after the previous one in list
 * order, as postmulti starts them (and stopped in reverse).
 */
export type StartOrder = 'parallel' | 'list';

/**
 * The generator's plan: every enabled instance gets a unit; disabled instances get none (as
 * postmulti starts none); a broken instance, or one whose unit name is unusable or already
 * taken by an instance listed earlier, is skipped with a message and the others go on.
 */
export function planUnits(entries: readonly FleetEntry[], order: StartOrder = 'parallel'): UnitPlan {
  const units: PlannedUnit[] = [];
  const skipped: SkippedInstance[] = [];
  const owners = new Map<string, string>();
  let previous: string | undefined;
  for (const e of entries) {
    if (e.kind === 'broken') {
      skipped.push({ configDirectory: e.broken.configDirectory, message: describeBroken(e.broken) });
      continue;
    }
    const i = e.instance;
    const u = unitOf(i);
    if ('error' in u) {
      if (i.enabled) skipped.push({ configDirectory: i.configDirectory, message: `skipping instance ${i.configDirectory}: ${u.error}` });
      continue;
    }
    const owner = owners.get(u.unit);
    if (owner !== undefined) {
      skipped.push({
        configDirectory: i.configDirectory,
        message: `skipping instance ${i.configDirectory}: its unit name ${u.unit} is already that of ${owner}`,
      });
      continue;
    }
    owners.set(u.unit, i.configDirectory);
    if (!i.enabled) continue;
    units.push({ instance: i, unit: u.unit, after: order === 'list' ? previous : undefined });
    previous = u.unit;
  }
  return { units, skipped, order };
}

/** The entry a unit instance string stands for, by the same rules (first in list order). */
export function entryOfUnit(entries: readonly FleetEntry[], id: string): FleetEntry | undefined {
  const wanted = unitName(id);
  for (const e of entries) {
    if (e.kind === 'ok') {
      const u = unitOf(e.instance);
      if ('unit' in u && u.unit === wanted) return e;
    } else if (e.broken.primary ? id === '-' : systemdEscapePath(e.broken.configDirectory) === id) {
      // A broken secondary's name is unknown: it can only be recognised by its directory.
      return e;
    }
  }
  return undefined;
}

export interface GeneratedFile {
  /** Relative to the generator's output directory. */
  readonly path: string;
  readonly symlinkTo?: string;
  readonly content?: string;
}

/** systemd expands specifiers (%) in most settings; a literal % is written %%. */
function unitValue(text: string): string {
  return text.replace(/%/g, '%%').replace(/[\n\\]$/, ' ');
}

/**
 * The generator's output: postfix.service.wants/UNIT -> the template, and per unit a drop-in
 * with a description naming the instance and its After= on the previous unit.
 */
export function generatedFiles(plan: UnitPlan, templatePath: string, source: string): GeneratedFile[] {
  const files: GeneratedFile[] = [];
  plan.units.forEach((u, index) => {
    const i = u.instance;
    const label = i.primary ? `primary instance` : i.name !== undefined ? `instance ${i.name}` : 'nameless instance';
    files.push({ path: `${WANTED_BY}.wants/${u.unit}`, symlinkTo: templatePath });
    const lines = [
      `# Made by postfleet-generator from ${unitValue(source)}: enabled instance ${index + 1} of ${plan.units.length}${plan.order === 'list' ? ', started in list order' : ''}.`,
      '[Unit]',
      `Description=${unitValue(`Postfix ${label} ${i.configDirectory} (postfleet)`)}`,
    ];
    if (u.after !== undefined) lines.push(`After=${u.after}`);
    // Queues and configurations often live on file systems of their own (mounted after the
    // generators run): the unit waits for them, as a unit for a daemon on /srv would.
    const paths = [...new Set([i.configDirectory, i.queueDirectory, i.dataDirectory])].filter((p) => p.startsWith('/') && !/[\s\\%]/.test(p));
    if (paths.length > 0) lines.push(`RequiresMountsFor=${paths.join(' ')}`);
    files.push({ path: `${u.unit}.d/50-postfleet-generator.conf`, content: `${lines.join('\n')}\n` });
  });
  return files;
}
