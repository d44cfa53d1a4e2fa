/**
 * Hand-made snapshots for the pure planners: a fleet of main.cf texts in memory, with the
 * prototypes, postfix-files and ids a Debian Postfix has. No root, no Postfix.
 */
import { PostfleetError } from '../../src/instances/errors.js';
import { editMainCf } from '../../src/instances/maincf/edit.js';
import { parseMainCf } from '../../src/instances/maincf/parse.js';
import { loadFleet } from '../../src/instances/registry.js';
import type { Plan } from '../../src/instances/lifecycle/plan.js';
import { reportOf } from '../../src/instances/lifecycle/report.js';
import type { DirectoryState, Snapshot } from '../../src/instances/lifecycle/snapshot.js';

/** Compiled-in defaults that matter here; shared directories that exist on any Linux machine. */
const DEFAULTS: ReadonlyMap<string, string> = new Map([
  ['config_directory', '/etc/postfix'],
  ['queue_directory', '/var/spool/postfix'],
  ['data_directory', '/var/lib/postfix'],
  ['command_directory', '/usr/bin'],
  ['daemon_directory', '/usr/lib'],
  ['meta_directory', '/etc'],
  ['shlib_directory', 'no'],
  ['mail_owner', 'postfix'],
  ['setgid_group', 'postdrop'],
  ['multi_instance_directories', ''],
  ['multi_instance_enable', 'no'],
  ['multi_instance_wrapper', ''],
  ['multi_instance_name', ''],
  ['multi_instance_group', ''],
  ['alternate_config_directories', ''],
  ['postmulti_start_commands', 'start'],
  ['postmulti_stop_commands', 'stop abort drain quick-stop'],
  ['postmulti_control_commands', 'reload flush'],
]);

const POSTFIX_FILES = [
  '$queue_directory:d:root:-:755:uc',
  '$queue_directory/active:d:$mail_owner:-:700:ucr',
  '$queue_directory/maildrop:d:$mail_owner:$setgid_group:730:uc',
  '$queue_directory/pid:d:root:-:755:uc',
  '$data_directory:d:$mail_owner:-:700:uc',
  '$command_directory/postfix:f:root:-:755',
].join('\n');

const MAIN_PROTO = '# main.cf prototype\n#queue_directory = /var/spool/postfix\ncommand_directory = /usr/sbin\n#mail_owner = postfix\n';
const MASTER_PROTO = 'smtp      inet  n       -       y       -       -       smtpd\n';

export const INITIALISED = 'multi_instance_wrapper = postfleet -p --\nmulti_instance_enable = yes\n';

export interface FleetSpec {
  /** main.cf text by config directory; '/etc/postfix' is the primary. */
  readonly mainCf: Record<string, string>;
  /** Directories that also hold master.cf (default: every one with a main.cf). */
  readonly masterCf?: readonly string[];
  /** Running masters and queued messages, by config directory. */
  readonly status?: Record<string, { pid: number | null; queued: number }>;
  /** Directories with debris of a killed create. */
  readonly temporaries?: Record<string, readonly string[]>;
}

/** A secondary's main.cf as postfleet create leaves it (enough of it). */
export function secondary(name: string | undefined, opts: { group?: string; enabled?: boolean; queue?: string; data?: string } = {}): string {
  const base = name ?? 'anon';
  return [
    `queue_directory = ${opts.queue ?? `/var/spool/${base}`}`,
    `data_directory = ${opts.data ?? `/var/lib/${base}`}`,
    ...(opts.group ? [`multi_instance_group = ${opts.group}`] : []),
    ...(name ? [`multi_instance_name = ${name}`] : []),
    `multi_instance_enable = ${opts.enabled ? 'yes' : 'no'}`,
    '',
  ].join('\n');
}

export function snapshotOf(spec: FleetSpec): Snapshot {
  const settings = new Map<string, ReadonlyMap<string, string>>();
  const read = (dir: string): Map<string, string> => {
    const text = spec.mainCf[dir];
    if (text === undefined) throw new PostfleetError(`cannot read ${dir}/main.cf: No such file or directory`);
    const m = parseMainCf(text, `${dir}/main.cf`);
    settings.set(dir, m);
    return m;
  };
  const fleet = loadFleet({ configDirectory: '/etc/postfix', defaults: DEFAULTS, read });
  const masters = new Set(spec.masterCf ?? Object.keys(spec.mainCf));
  const dirs = new Set([...Object.keys(spec.mainCf), ...masters, ...Object.keys(spec.temporaries ?? {})]);
  const directories = new Map<string, DirectoryState>(
    [...dirs].map((d) => [d, { mainCf: spec.mainCf[d], masterCf: masters.has(d), temporaries: spec.temporaries?.[d] ?? [], status: spec.status?.[d] ?? { pid: null, queued: 0 } }]),
  );
  return {
    fleet,
    primaryMainCf: spec.mainCf['/etc/postfix'] ?? '',
    mainCfProto: { path: '/etc/main.cf.proto', text: MAIN_PROTO, mode: 0o644 },
    masterCfProto: { path: '/etc/master.cf.proto', text: MASTER_PROTO, mode: 0o644 },
    postfixFiles: POSTFIX_FILES,
    users: new Map([['root', 0], ['postfix', 100]]),
    groups: new Map([['root', 0], ['postdrop', 101]]),
    directories,
    settings,
  };
}

/** The main.cf texts after the plan, as its report's files say (a removed one is gone). */
export function afterPlan(spec: FleetSpec, plan: Plan, snap: Snapshot): FleetSpec {
  const report = reportOf(plan, { configDirectory: '/etc/postfix', mainCf: snap.primaryMainCf }, false, []);
  const mainCf: Record<string, string> = { ...spec.mainCf };
  for (const d of report.files) {
    const dir = d.path.replace(/\/main\.cf$/, '');
    if (d.after === '') delete mainCf[dir];
    else mainCf[dir] = d.after;
  }
  const masterCf = new Set(spec.masterCf ?? Object.keys(spec.mainCf));
  for (const i of plan.instances) for (const s of i.steps) if (s.kind === 'write' && s.path.endsWith('/master.cf')) masterCf.add(i.configDirectory);
  return { ...spec, mainCf, masterCf: [...masterCf] };
}

/** Applies the primary edits of a plan to a text, as the transaction's final write does. */
export const primaryAfter = (snap: Snapshot, plan: Plan): string => editMainCf(snap.primaryMainCf, plan.primaryEdits);
