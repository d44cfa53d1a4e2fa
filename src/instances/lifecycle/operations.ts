/**
 * postmulti's life-cycle actions (-e init, create, import, deport, destroy,
 * enable, disable, assign), with postmulti-script's file work done here.
 *
 * Every action that changes the instance list runs while holding the lock on
 * the primary main.cf (the same lock `postconf -e` takes) and re-reads the
 * fleet under it, so concurrent actions never lose each other's changes. The
 * primary main.cf is rewritten last, atomically: an instance is registered
 * only once its files are complete.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import pMap from 'p-map';
import { instanceClaims } from '../claims.js';
import { PostfleetError } from '../errors.js';
import { describeBroken, type BrokenInstance, type FleetEntry, type Instance } from '../instance.js';
import { editMainCf, type MainCfEdit } from '../maincf/edit.js';
import { readMainCf } from '../maincf/defaults.js';
import { ParameterSet } from '../maincf/expand.js';
import { withMainCfLock, type MainCfUpdate } from '../maincf/write.js';
import { loadFleet, readSecondary, splitList, type Fleet } from '../registry.js';
import { matchesSelection, nothingMatchedMessage, selectEntries, type Selection } from '../selection.js';
import { countQueueFiles, readInstanceStatus, QUEUE_NAMES } from '../status.js';
import { renderTemplate, type Template } from '../templates.js';
import { checkGroupName, checkInstanceName, makePrivatePath, type PrivatePathParam } from './names.js';
import { instanceDirectorySpecs, lookupIds, readPostfixFiles } from './permissions.js';
import { applySteps, describeEdit, describeStep, leftoverTemporaries, type Step } from './steps.js';

export type Action = 'init' | 'create' | 'import' | 'deport' | 'destroy' | 'enable' | 'disable' | 'assign';

export interface LifecycleContext {
  readonly primaryConfigDirectory?: string | undefined;
  readonly defaults: ReadonlyMap<string, string>;
  readonly dryRun?: boolean;
}

export interface ActionResult {
  readonly action: Action;
  readonly instance: string | null;
  readonly configDirectory: string;
  readonly changed: boolean;
  /** What was (or, with --dry-run, would be) done, one line each. */
  readonly changes: readonly string[];
  readonly warnings: readonly string[];
  readonly dryRun: boolean;
}

/** What an action plans: instance file steps, then edits of the primary main.cf. */
interface Planned {
  readonly instance: string | null;
  readonly configDirectory: string;
  readonly steps: readonly Step[];
  readonly primaryEdits: readonly MainCfEdit[];
  /**
   * Files of an instance the primary main.cf no longer lists (destroy), removed only
   * after that main.cf is written: a crash in between leaves an unlisted instance, as
   * postmulti-script's order does, never a listed half-removed one. `dirs` are the
   * instance's directories: if another instance claims one by then, nothing is removed.
   */
  readonly removal?: { readonly dirs: readonly string[]; readonly steps: readonly Step[] };
}

/** Nothing to do (postmulti's assign without changes exits 0 doing nothing). */
const nothing = (configDirectory: string, instance: string | null): Planned => ({ configDirectory, instance, steps: [], primaryEdits: [] });

const loader = (ctx: LifecycleContext) => (): Fleet => loadFleet({ configDirectory: ctx.primaryConfigDirectory, defaults: ctx.defaults });

/**
 * The frame of every change: planned first on the files as they are, without the lock (bad
 * input is refused before anything is touched, Postfix's main.cf.tmp lock file included);
 * with --dry-run, `preview` says what would be done. Otherwise planned again under the
 * primary's lock, on the fleet as it is now (concurrent actions never lose each other's
 * changes), and `apply` makes the change and returns the primary main.cf to write, if any.
 */
async function underPrimaryLock<P, T>(
  ctx: LifecycleContext,
  plan: (fleet: Fleet) => P,
  preview: (planned: P, primaryDir: string, current: string) => T,
  apply: (planned: P, primaryDir: string, current: string) => Promise<MainCfUpdate<T>>,
): Promise<T> {
  const load = loader(ctx);
  const fleet = load();
  const previewPlan = plan(fleet);
  const primaryDir = fleet.primaryConfigDirectory;
  if (ctx.dryRun) return preview(previewPlan, primaryDir, readFileSync(`${primaryDir}/main.cf`, 'utf8'));
  return withMainCfLock(primaryDir, (current) => apply(plan(load()), primaryDir, current));
}

async function transact(action: Action, ctx: LifecycleContext, plan: (fleet: Fleet) => Planned): Promise<ActionResult> {
  const done = await underPrimaryLock(
    ctx,
    plan,
    (p, primaryDir, current) => ({ planned: p, primaryDir, warnings: [], primaryChanged: p.primaryEdits.length > 0 && editMainCf(current, p.primaryEdits) !== current }),
    async (p, primaryDir, current) => {
      const { warnings } = await applySteps(p.steps);
      const next = p.primaryEdits.length > 0 ? editMainCf(current, p.primaryEdits) : current;
      const primaryChanged = next !== current;
      return { next: primaryChanged ? next : undefined, result: { planned: p, primaryDir, warnings, primaryChanged } };
    },
  );
  const warnings = [...done.warnings];
  if (!ctx.dryRun && done.planned.removal) warnings.push(...(await removeReleased(done.primaryDir, loader(ctx), done.planned.removal)));
  return result(action, done.planned, done.primaryDir, done.primaryChanged, warnings, Boolean(ctx.dryRun));
}

/** The removal steps of Planned.removal, under the lock again; returns warnings. */
async function removeReleased(primaryDir: string, load: () => Fleet, removal: NonNullable<Planned['removal']>): Promise<string[]> {
  return withMainCfLock(primaryDir, async () => {
    const fleet = load();
    // A concurrent create or import took the directories over since: they are its now.
    for (const d of removal.dirs) {
      const owner = fleet.claims.ownerOf(d);
      if (owner !== undefined) return { result: [`${d} is in use again by instance ${owner}: its files were left in place`] };
    }
    return { result: (await applySteps(removal.steps)).warnings };
  });
}

function result(action: Action, p: Planned, primaryDir: string, primaryChanged: boolean, warnings: string[], dryRun: boolean): ActionResult {
  const changes = p.steps.flatMap((s) => describeStep(s).split('\n'));
  if (primaryChanged) for (const e of p.primaryEdits) changes.push(`edit ${primaryDir}/main.cf: ${describeEdit(e)}`);
  for (const s of p.removal?.steps ?? []) changes.push(...describeStep(s).split('\n'));
  return { action, instance: p.instance, configDirectory: p.configDirectory, changed: changes.length > 0, changes, warnings, dryRun };
}

// ---------------------------------------------------------------- init

export function init(ctx: LifecycleContext, wrapperCommand: string): Promise<ActionResult> {
  return transact('init', ctx, (fleet) => ({
    instance: null,
    configDirectory: fleet.primaryConfigDirectory,
    steps: [],
    primaryEdits: [
      { op: 'set', name: 'multi_instance_wrapper', value: wrapperCommand },
      { op: 'set', name: 'multi_instance_enable', value: 'yes' },
    ],
  }));
}

/** postmulti-script refuses every other action until init was done. */
function requireInit(fleet: Fleet): void {
  if (fleet.primaryParameters.get('multi_instance_wrapper') === '') {
    throw new PostfleetError("multi_instance_wrapper is empty, run 'postfleet init' first.");
  }
  if (fleet.primaryParameters.get('multi_instance_enable') !== 'yes') {
    throw new PostfleetError("multi_instance_enable!=yes, run 'postfleet init' first.");
  }
}

// ---------------------------------------------------------------- create / import

export interface AddRequest {
  /** undefined: not given; '' : no name (postmulti's -I -) */
  readonly name: string | undefined;
  readonly group: string | undefined;
  readonly paths: Partial<Record<PrivatePathParam, string>>;
  /** where to insert: before the first secondary matching this; undefined: at the end */
  readonly placement: Selection | undefined;
  readonly template?: Template | undefined;
  /** --set name=value: template variables and extra parameters */
  readonly settings?: ReadonlyArray<readonly [string, string]>;
}

/** Parameters of a new main.cf that are shared installation settings (postmulti-script). */
const SHARED_PARAMETERS = [
  'command_directory',
  'daemon_directory',
  'meta_directory',
  'mail_owner',
  'setgid_group',
  'sendmail_path',
  'mailq_path',
  'newaliases_path',
  'html_directory',
  'manpage_directory',
  'sample_directory',
  'readme_directory',
  'shlib_directory',
] as const;

/**
 * Settings a template or --set may not make: they would bypass the checks and
 * claims of the name, group and private directories (an instance sharing the
 * primary's queue, say), or the rule that a new instance starts disabled.
 */
const RESERVED_SETTINGS: ReadonlyMap<string, string> = new Map([
  ['config_directory', 'use --config-directory'],
  ['queue_directory', 'use --queue-directory'],
  ['data_directory', 'use --data-directory'],
  ['multi_instance_name', 'the name is the argument of create'],
  ['multi_instance_group', 'use --group'],
  ['multi_instance_enable', "new instances start disabled; use 'postfleet enable' afterwards"],
]);

export function create(ctx: LifecycleContext, req: AddRequest): Promise<ActionResult> {
  return transact('create', ctx, (fleet) => planAdd('create', fleet, req));
}

export function importInstance(ctx: LifecycleContext, req: AddRequest): Promise<ActionResult> {
  return transact('import', ctx, (fleet) => planAdd('import', fleet, req));
}

/**
 * Several creates in one transaction (apply): every instance is planned against one read of
 * the fleet, whose claims table accumulates, so two new instances cannot share a name or a
 * directory; all their files are made, then the primary main.cf is written once, with the
 * new instances appended to the list in request order. A bad request refuses the whole
 * batch before anything is touched; a failure while making files undoes every step taken.
 */
export async function createMany(ctx: LifecycleContext, reqs: readonly AddRequest[]): Promise<ActionResult[]> {
  const plan = (fleet: Fleet): { planned: Planned[]; primaryEdits: MainCfEdit[] } => {
    const planned = reqs.map((req) => planAdd('create', fleet, { ...req, placement: undefined }));
    const added = new Set(planned.map((p) => p.configDirectory));
    const list = [...fleet.entries.slice(1).map(entryDir), ...added];
    const alternates = splitList(fleet.primaryParameters.raw('alternate_config_directories') ?? '');
    const primaryEdits: MainCfEdit[] = [{ op: 'set', name: 'multi_instance_directories', value: list.join(' ') }];
    if (alternates.some((d) => added.has(d))) primaryEdits.push({ op: 'set', name: 'alternate_config_directories', value: alternates.filter((d) => !added.has(d)).join(' ') });
    return { planned, primaryEdits };
  };
  // Each result names its own share of the one primary edit.
  const results = (planned: readonly Planned[], primaryDir: string, primaryChanged: boolean, warnings: string[], dryRun: boolean): ActionResult[] =>
    planned.map((p, k) => {
      const r = result('create', { ...p, primaryEdits: [] }, primaryDir, false, k === planned.length - 1 ? warnings : [], dryRun);
      const registered = primaryChanged ? [`edit ${primaryDir}/main.cf: multi_instance_directories += ${p.configDirectory}`] : [];
      return { ...r, changes: [...r.changes, ...registered], changed: r.changed || registered.length > 0 };
    });
  if (reqs.length === 0) return [];
  return underPrimaryLock(
    ctx,
    plan,
    ({ planned }, primaryDir) => results(planned, primaryDir, true, [], true),
    async ({ planned, primaryEdits }, primaryDir, current) => {
      const { warnings } = await applySteps(planned.flatMap((p) => p.steps));
      const next = editMainCf(current, primaryEdits);
      return { next: next !== current ? next : undefined, result: results(planned, primaryDir, next !== current, warnings, false) };
    },
  );
}

function planAdd(action: 'create' | 'import', fleet: Fleet, req: AddRequest): Planned {
  if (req.name !== undefined) checkInstanceName(req.name);
  if (req.group !== undefined) checkGroupName(req.group);
  const primary = fleet.primaryParameters;

  const configDirectory = req.paths.config_directory ?? makePrivatePath('config_directory', fleet.primaryConfigDirectory, req.name);
  const owner = fleet.claims.ownerOf(configDirectory);
  if (owner !== undefined) {
    throw new PostfleetError(`new config_directory=${configDirectory} is already in use by instance ${owner}=${configDirectory}`, { value: configDirectory });
  }
  const complete = existsSync(`${configDirectory}/main.cf`) && existsSync(`${configDirectory}/master.cf`);

  // What the instance is now (import, or a create over a complete instance) or will be.
  let existing: Instance | undefined;
  if (action === 'import') {
    if (!existsSync(`${configDirectory}/main.cf`)) throw new PostfleetError(`'${configDirectory}' lacks a main.cf file`, { value: configDirectory });
    if (!existsSync(`${configDirectory}/master.cf`)) throw new PostfleetError(`'${configDirectory}' lacks a master.cf file`, { value: configDirectory });
  }
  if (action === 'import' || complete) existing = readSecondary(configDirectory, fleet.defaults);

  const queueDirectory = existing?.queueDirectory ?? req.paths.queue_directory ?? makePrivatePath('queue_directory', primary.get('queue_directory'), req.name);
  const dataDirectory = existing?.dataDirectory ?? req.paths.data_directory ?? makePrivatePath('data_directory', primary.get('data_directory'), req.name);

  const nameEdit = req.name !== undefined && req.name !== (existing?.name ?? '') ? req.name : undefined;
  const groupEdit = req.group !== undefined && req.group !== (existing?.group ?? '') ? req.group : undefined;
  const name = nameEdit !== undefined ? nameEdit || undefined : existing?.name;
  const group = groupEdit !== undefined ? groupEdit || undefined : existing?.group;

  // claimAll is all-or-nothing, and the table goes with this fleet snapshot.
  const conflict = fleet.claims.claimAll(configDirectory, instanceClaims({ name, configDirectory, queueDirectory, dataDirectory }));
  if (conflict) throw new PostfleetError(conflict, { value: configDirectory });

  const secondaries = fleet.entries.slice(1);
  const position = insertPosition(secondaries, req.placement);
  requireInit(fleet);

  const nameGroupEdits: MainCfEdit[] = [];
  if (groupEdit !== undefined) nameGroupEdits.push({ op: 'set', name: 'multi_instance_group', value: groupEdit });
  if (nameEdit !== undefined) nameGroupEdits.push({ op: 'set', name: 'multi_instance_name', value: nameEdit });

  const steps: Step[] = [];
  if (complete || action === 'import') {
    if (req.template || (req.settings?.length ?? 0) > 0) {
      throw new PostfleetError(`${configDirectory} already holds main.cf and master.cf: a template or --set applies only to a new instance`, { value: configDirectory });
    }
    if (nameGroupEdits.length > 0) steps.push({ kind: 'edit', configDirectory, edits: nameGroupEdits });
  } else {
    const meta = fleet.shared.metaDirectory;
    const mainProto = readProto(`${meta}/main.cf.proto`, 'main.cf');
    const masterProto = readProto(`${meta}/master.cf.proto`, 'master.cf');
    const rendered = renderTemplate(req.template, req.settings ?? []);
    for (const [param, value] of rendered.settings) {
      const instead = RESERVED_SETTINGS.get(param);
      if (instead !== undefined) throw new PostfleetError(`${param} = ${value}: not settable by a template or --set; ${instead}`, { value: param });
    }
    // A create killed while writing left its temporary files; we hold the lock, so they are debris.
    for (const tmp of leftoverTemporaries(configDirectory)) steps.push({ kind: 'unlink', path: tmp });
    const mainCf = newMainCf(mainProto.text, fleet, { queueDirectory, dataDirectory }, rendered.settings, nameGroupEdits);
    steps.push(
      { kind: 'mkdir', path: configDirectory, mode: 0o755 },
      { kind: 'mkdir', path: queueDirectory, mode: 0o755 },
      { kind: 'mkdir', path: dataDirectory, mode: 0o700 },
      { kind: 'write', path: `${configDirectory}/main.cf`, content: mainCf, mode: mainProto.mode },
      // master.cf last: with it present the instance is complete.
      { kind: 'write', path: `${configDirectory}/master.cf`, content: rendered.masterCf ?? masterProto.text, mode: masterProto.mode },
    );
  }
  steps.push(...permissionSteps(fleet, configDirectory, queueDirectory, dataDirectory, complete || action === 'import'));

  const dirs = secondaries.map(entryDir);
  dirs.splice(position, 0, configDirectory);
  return {
    instance: name ?? null,
    configDirectory,
    steps,
    primaryEdits: [{ op: 'set', name: 'multi_instance_directories', value: dirs.join(' ') }, ...alternateEdits(fleet, configDirectory, 'del')],
  };
}

function readProto(path: string, what: string): { text: string; mode: number } {
  try {
    return { text: readFileSync(path, 'utf8'), mode: statSync(path).mode & 0o7777 };
  } catch {
    throw new PostfleetError(`Missing ${what} prototype: ${path}`, { value: path });
  }
}

/**
 * The new main.cf, built as postmulti-script builds it with postconf: shared
 * settings the primary sets explicitly are copied, the others commented out;
 * then the private directories and the safe defaults for a new instance;
 * then the template's settings and --set values; then name and group.
 */
function newMainCf(
  proto: string,
  fleet: Fleet,
  dirs: { queueDirectory: string; dataDirectory: string },
  extra: ReadonlyArray<readonly [string, string]>,
  nameGroupEdits: readonly MainCfEdit[],
): string {
  const explicit: MainCfEdit[] = [];
  const commentOut: MainCfEdit[] = [];
  for (const p of SHARED_PARAMETERS) {
    // postconf -nh: only what the primary sets itself, unexpanded
    const raw = fleet.primaryParameters.isExplicit(p) ? fleet.primaryParameters.raw(p) : undefined;
    if (raw !== undefined && raw !== '') explicit.push({ op: 'set', name: p, value: raw });
    else commentOut.push({ op: 'comment', name: p });
  }
  return editMainCf(proto, [
    ...commentOut,
    { op: 'set', name: 'queue_directory', value: dirs.queueDirectory },
    { op: 'set', name: 'data_directory', value: dirs.dataDirectory },
    { op: 'set', name: 'authorized_submit_users', value: '' },
    { op: 'set', name: 'master_service_disable', value: 'inet' },
    ...explicit,
    ...extra.map(([name, value]): MainCfEdit => ({ op: 'set', name, value })),
    ...nameGroupEdits,
  ]);
}

function permissionSteps(fleet: Fleet, configDirectory: string, queueDirectory: string, dataDirectory: string, existing: boolean): Step[] {
  // mail_owner and setgid_group as the instance will have them: copied from
  // the primary when set there explicitly, else the defaults.
  const instanceParams = existing ? new ParameterSet(readMainCf(configDirectory), fleet.defaults, { configDirectory }) : fleet.primaryParameters;
  const specs = instanceDirectorySpecs(readPostfixFiles(fleet.shared.metaDirectory), {
    queue_directory: queueDirectory,
    data_directory: dataDirectory,
    mail_owner: instanceParams.get('mail_owner'),
    setgid_group: instanceParams.get('setgid_group'),
  });
  const ids = lookupIds();
  return specs.map((s): Step => {
    const uid = s.owner === undefined ? undefined : ids.uid(s.owner);
    const gid = s.group === undefined ? undefined : ids.gid(s.group);
    if (s.owner !== undefined && uid === undefined) throw new PostfleetError(`unknown user '${s.owner}' (mail_owner)`, { value: s.owner });
    if (s.group !== undefined && gid === undefined) throw new PostfleetError(`unknown group '${s.group}' (setgid_group)`, { value: s.group });
    return { kind: 'own', path: s.path, uid, gid, mode: s.mode, recursive: s.recursive };
  });
}

/** Index in the secondary list before which a new instance goes (postmulti insert_instance()). */
function insertPosition(secondaries: readonly FleetEntry[], placement: Selection | undefined): number {
  if (placement === undefined) return secondaries.length;
  const k = secondaries.findIndex((e) => e.kind === 'ok' && matchesSelection(e.instance, placement));
  if (k >= 0) return k;
  if (placement.type !== 'all') throw new PostfleetError('No matching secondary instances');
  return secondaries.length;
}

const entryDir = (e: FleetEntry): string => (e.kind === 'ok' ? e.instance.configDirectory : e.broken.configDirectory);

/** postmulti-script's update_cfdirs: keep alternate_config_directories consistent. */
function alternateEdits(fleet: Fleet, dir: string, op: 'add' | 'del'): MainCfEdit[] {
  const alt = splitList(fleet.primaryParameters.raw('alternate_config_directories') ?? '');
  const found = alt.includes(dir);
  const keep = alt.filter((d) => d !== dir);
  if (op === 'add' && !found) return [{ op: 'set', name: 'alternate_config_directories', value: [...keep, dir].join(' ') }];
  if (op === 'del' && found) return [{ op: 'set', name: 'alternate_config_directories', value: keep.join(' ') }];
  return [];
}

// ---------------------------------------------------------------- deport / destroy

/** postmulti's select_existing_instance(): -i is required; the first match wins. */
function selectExisting(fleet: Fleet, selection: Selection | undefined): FleetEntry {
  if (selection?.type !== 'name') throw new PostfleetError("Select an instance via '-i name'");
  const found = fleet.entries.find((e) =>
    e.kind === 'ok' ? matchesSelection(e.instance, selection) : e.broken.configDirectory === selection.name,
  );
  if (!found) throw new PostfleetError(`No instance named ${selection.name}`, { value: selection.name });
  return found;
}

function removable(fleet: Fleet, selection: Selection | undefined): FleetEntry {
  const e = selectExisting(fleet, selection);
  const primary = e.kind === 'ok' ? e.instance.primary : e.broken.primary;
  if (primary) throw new PostfleetError(`Cannot remove the primary instance: ${entryDir(e)}`, { value: entryDir(e) });
  if (e.kind === 'ok' && e.instance.enabled) throw new PostfleetError(`Cannot remove enabled instances: ${label(e)} is enabled`, { value: label(e) });
  return e;
}

const label = (e: FleetEntry): string => (e.kind === 'ok' ? (e.instance.name ?? e.instance.configDirectory) : e.broken.configDirectory);

function requireStopped(i: Instance): void {
  const st = readInstanceStatus(i);
  if (st.running) throw new PostfleetError(`Instance '${i.configDirectory}' is not stopped (master pid ${st.pid})`, { value: i.configDirectory });
}

function listWithout(fleet: Fleet, dir: string): MainCfEdit {
  const dirs = fleet.entries.slice(1).map(entryDir).filter((d) => d !== dir);
  return { op: 'set', name: 'multi_instance_directories', value: dirs.join(' ') };
}

export function deport(ctx: LifecycleContext, selection: Selection | undefined): Promise<ActionResult> {
  return transact('deport', ctx, (fleet) => {
    const e = removable(fleet, selection);
    requireInit(fleet);
    const dir = entryDir(e);
    // Deporting an instance whose files are already gone just drops it.
    if (!existsSync(`${dir}/main.cf`)) {
      return { ...nothing(dir, null), primaryEdits: [listWithout(fleet, dir), ...alternateEdits(fleet, dir, 'del')] };
    }
    if (e.kind === 'broken') throw new PostfleetError(`cannot deport ${dir}: ${e.broken.reason}`, { value: dir });
    requireStopped(e.instance);
    return { ...nothing(dir, e.instance.name ?? null), primaryEdits: [listWithout(fleet, dir), ...alternateEdits(fleet, dir, 'add')] };
  });
}

/** The queue subdirectories Postfix makes; destroy removes these and nothing else there. */
export const QUEUE_SUBDIRS = ['active', 'bounce', 'corrupt', 'defer', 'deferred', 'flush', 'hold', 'incoming', 'maildrop', 'pid', 'private', 'public', 'saved', 'trace'];

export function destroy(ctx: LifecycleContext, selection: Selection | undefined): Promise<ActionResult> {
  return transact('destroy', ctx, (fleet) => {
    const e = removable(fleet, selection);
    requireInit(fleet);
    const dir = entryDir(e);
    if (!existsSync(`${dir}/main.cf`)) throw new PostfleetError(`${dir}/main.cf file not found`, { value: dir });
    if (e.kind === 'broken') throw new PostfleetError(`cannot destroy ${dir}: ${e.broken.reason}`, { value: dir });
    const i = e.instance;
    requireStopped(i);
    const queued = QUEUE_NAMES.reduce((n, q) => n + (countQueueFiles(`${i.queueDirectory}/${q}`) ?? 0), 0);
    if (queued > 0) throw new PostfleetError(`Instance '${dir}' has ${queued} message(s) in its queue ${i.queueDirectory}`, { value: dir });
    const removal: Step[] = [
      ...QUEUE_SUBDIRS.map((q): Step => ({ kind: 'rmdir', path: `${i.queueDirectory}/${q}` })),
      { kind: 'rmdir', path: i.dataDirectory },
      { kind: 'rmdir', path: i.queueDirectory },
      { kind: 'unlink', path: `${dir}/master.cf` },
      { kind: 'unlink', path: `${dir}/main.cf` },
      { kind: 'rmdir', path: dir },
    ];
    return {
      instance: i.name ?? null,
      configDirectory: dir,
      steps: [],
      primaryEdits: [listWithout(fleet, dir), ...alternateEdits(fleet, dir, 'del')],
      removal: { dirs: [dir, i.queueDirectory, i.dataDirectory], steps: removal },
    };
  });
}

// ---------------------------------------------------------------- enable / disable / assign

/** An edit of the selected instance's main.cf; the primary's goes through the lock we hold. */
function editOf(i: Instance, edits: MainCfEdit[]): Pick<Planned, 'steps' | 'primaryEdits'> {
  if (i.primary) return { steps: [], primaryEdits: edits };
  // An edit that leaves the file as it is (disable of a disabled instance) is no change to report.
  const text = readMainCfText(i.configDirectory);
  if (editMainCf(text, edits) === text) return { steps: [], primaryEdits: [] };
  return { steps: [{ kind: 'edit', configDirectory: i.configDirectory, edits }], primaryEdits: [] };
}

function readMainCfText(configDirectory: string): string {
  try {
    return readFileSync(`${configDirectory}/main.cf`, 'utf8');
  } catch (e) {
    throw new PostfleetError(`cannot read ${configDirectory}/main.cf: ${(e as NodeJS.ErrnoException).code ?? e}`, { value: configDirectory });
  }
}

function selectOk(fleet: Fleet, selection: Selection | undefined): Instance {
  const e = selectExisting(fleet, selection);
  if (e.kind === 'broken') throw new PostfleetError(`instance ${e.broken.configDirectory} is broken: ${e.broken.reason}`, { value: e.broken.configDirectory });
  return e.instance;
}

/** postmulti's -e enable / -e disable: one instance, named by -i. */
export async function setEnabled(ctx: LifecycleContext, selection: Selection | undefined, enabled: boolean): Promise<ActionResult> {
  if (selection?.type !== 'name') throw new PostfleetError("Select an instance via '-i name'");
  return (await setEnabledOfNamed(ctx, [selection.name], enabled))[0]!;
}

/** setEnabledOf for named instances that must all change: a failed edit is thrown, not reported. */
export async function setEnabledOfNamed(ctx: LifecycleContext, names: readonly string[], enabled: boolean): Promise<readonly ActionResult[]> {
  const { results, failed } = await setEnabledOf(ctx, { names }, enabled);
  if (failed[0]) throw new PostfleetError(failed[0].error, { value: failed[0].configDirectory });
  return results;
}

/**
 * Several instances to enable or disable (a postfleet extra): names, a group, or every
 * secondary. "All" leaves the primary out: its multi_instance_enable = yes is what init set
 * and every other action requires, so only naming it ('-') changes it.
 */
export type EnableTargets = { readonly names: readonly string[] } | { readonly group: string } | { readonly secondaries: true };

export interface BatchOutcome {
  /** One per instance acted on, in list order (unchanged ones included). */
  readonly results: readonly ActionResult[];
  /** Instances reported and skipped: broken ones a group or --all selected, and failed edits. */
  readonly failed: ReadonlyArray<{ readonly configDirectory: string; readonly error: string }>;
}

const EDITS_IN_FLIGHT = 8;

/**
 * enable/disable of several instances in one transaction: one read of the fleet and one
 * hold of the primary's lock, whatever the count (one setEnabled per instance would read
 * the whole fleet twice each). Named instances must all exist and be sound, or nothing is
 * changed. An instance whose edit fails is reported; the others are still changed.
 */
export async function setEnabledOf(ctx: LifecycleContext, targets: EnableTargets, enabled: boolean): Promise<BatchOutcome> {
  const action: Action = enabled ? 'enable' : 'disable';
  const edit: MainCfEdit = { op: 'set', name: 'multi_instance_enable', value: enabled ? 'yes' : 'no' };
  const plan = (fleet: Fleet): { planned: Planned[]; broken: BrokenInstance[] } => {
    const { chosen, broken } = enableTargets(fleet, targets);
    requireInit(fleet);
    return { planned: chosen.map((i) => ({ instance: i.name ?? null, configDirectory: i.configDirectory, ...editOf(i, [edit]) })), broken };
  };
  const brokenFailures = (broken: readonly BrokenInstance[]): BatchOutcome['failed'] =>
    broken.map((b) => ({ configDirectory: b.configDirectory, error: describeBroken(b) }));
  return underPrimaryLock(
    ctx,
    plan,
    ({ planned, broken }, primaryDir, current) => {
      const changesPrimary = (p: Planned): boolean => p.primaryEdits.length > 0 && editMainCf(current, p.primaryEdits) !== current;
      return { results: planned.map((p) => result(action, p, primaryDir, changesPrimary(p), [], true)), failed: brokenFailures(broken) };
    },
    async ({ planned, broken }, primaryDir, current) => {
      const primaryEdits = planned.flatMap((p) => p.primaryEdits);
      const next = primaryEdits.length > 0 ? editMainCf(current, primaryEdits) : current;
      // Each instance's main.cf has a lock of its own, and taking one costs a flock(1)
      // process: the edits go several at a time (results stay in list order).
      const applied = await pMap(
        planned,
        async (p): Promise<ActionResult | { configDirectory: string; error: string }> => {
          if (p.primaryEdits.length > 0) return result(action, p, primaryDir, next !== current, [], false);
          try {
            const { warnings } = await applySteps(p.steps);
            return result(action, p, primaryDir, false, warnings, false);
          } catch (e) {
            return { configDirectory: p.configDirectory, error: e instanceof Error ? e.message : String(e) };
          }
        },
        { concurrency: EDITS_IN_FLIGHT },
      );
      const results: ActionResult[] = [];
      const failed = [...brokenFailures(broken)];
      for (const a of applied) {
        if ('error' in a) failed.push(a);
        else results.push(a);
      }
      return { next: next !== current ? next : undefined, result: { results, failed } };
    },
  );
}

/** The instances EnableTargets name, in list order, each once. */
function enableTargets(fleet: Fleet, targets: EnableTargets): { chosen: Instance[]; broken: BrokenInstance[] } {
  if ('names' in targets) {
    const wanted = new Set(targets.names.map((name) => selectOk(fleet, { type: 'name', name }).configDirectory));
    const chosen = [...new Map(fleet.entries.flatMap((e) => (e.kind === 'ok' && wanted.has(e.instance.configDirectory) ? [[e.instance.configDirectory, e.instance] as const] : []))).values()];
    return { chosen, broken: [] };
  }
  const selection: Selection = 'group' in targets ? { type: 'group', group: targets.group } : { type: 'all' };
  const isPrimary = (e: FleetEntry): boolean => (e.kind === 'ok' ? e.instance.primary : e.broken.primary);
  const selected = selectEntries('group' in targets ? fleet.entries : fleet.entries.filter((e) => !isPrimary(e)), selection);
  if (selected.length === 0) throw new PostfleetError('group' in targets ? nothingMatchedMessage(selection) : 'no secondary instances');
  const seen = new Set<string>();
  const chosen: Instance[] = [];
  const broken: BrokenInstance[] = [];
  for (const e of selected) {
    const dir = entryDir(e);
    if (seen.has(dir)) continue; // an instance listed twice is edited once
    seen.add(dir);
    if (e.kind === 'ok') chosen.push(e.instance);
    else broken.push(e.broken);
  }
  return { chosen, broken };
}

export function assign(ctx: LifecycleContext, selection: Selection | undefined, name: string | undefined, group: string | undefined): Promise<ActionResult> {
  return transact('assign', ctx, (fleet) => {
    const i = selectOk(fleet, selection);
    if (name !== undefined) checkInstanceName(name);
    if (group !== undefined) checkGroupName(group);
    const edits: MainCfEdit[] = [];
    if (group !== undefined && group !== (i.group ?? '')) edits.push({ op: 'set', name: 'multi_instance_group', value: group });
    if (name !== undefined && name !== (i.name ?? '')) {
      if (name !== '') {
        const conflict = fleet.claims.claimAll(i.configDirectory, [{ param: 'multi_instance_name', value: name }]);
        if (conflict) throw new PostfleetError(conflict, { value: name });
      }
      edits.push({ op: 'set', name: 'multi_instance_name', value: name });
    }
    if (edits.length === 0) return nothing(i.configDirectory, i.name ?? null);
    requireInit(fleet);
    return { instance: (name === undefined ? i.name : name || undefined) ?? null, configDirectory: i.configDirectory, ...editOf(i, edits) };
  });
}
