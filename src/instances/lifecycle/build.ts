/**
 * Planning create and import (postmulti -e create / -e import with postmulti-script's file
 * work): the new instance's directories, main.cf and master.cf, the permissions
 * `postfix set-permissions` would set, and its place in the instance list. Pure: everything
 * comes from the snapshot.
 */
import { ClaimTable, instanceClaims } from '../claims.js';
import { PostfleetError } from '../errors.js';
import { secondaryFromSettings, type Instance } from '../instance.js';
import { editMainCf, type MainCfEdit } from '../maincf/edit.js';
import { ParameterSet } from '../maincf/expand.js';
import { parseMainCf } from '../maincf/parse.js';
import type { Fleet } from '../registry.js';
import { ownedParameterHint } from './reserved.js';
import type { Selection } from '../selection.js';
import { renderTemplate, type Template } from '../templates/render.js';
import { insertPosition, listEdits, listNote, type ListChange } from './instance-list.js';
import { checkGroupName, checkInstanceName, makePrivatePath, type PrivatePathParam } from './names.js';
import { instanceDirectorySpecs } from './permissions.js';
import { entryDirectory, mainCfText, requireInit, type InstancePlan, type Plan } from './plan.js';
import type { Snapshot } from './snapshot.js';
import type { Step } from './steps.js';

export interface AddRequest {
  /** undefined: not given; '': no name (postmulti's -I -) */
  readonly name: string | undefined;
  readonly group: string | undefined;
  readonly paths: Partial<Record<PrivatePathParam, string>>;
  /** where to insert: before the first secondary matching this; undefined: at the end */
  readonly placement?: Selection | undefined;
  readonly template?: Template | undefined;
  /** --set name=value: template variables and extra parameters */
  readonly settings?: ReadonlyArray<readonly [string, string]>;
  /** apply: a new instance made enabled (create makes them disabled) */
  readonly enabled?: boolean | undefined;
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

/** The config directory a request names: its own, else derived from its name (best effort, for the snapshot). */
export function requestedDirectory(fleet: Fleet, req: AddRequest): string | undefined {
  try {
    return req.paths.config_directory ?? makePrivatePath('config_directory', fleet.primaryConfigDirectory, req.name);
  } catch {
    return undefined;
  }
}

/**
 * Several instances added in one plan: each is checked against the claims of the fleet and
 * of those before it, so no two can share a name or a directory; one request may be placed
 * (create --before), several are appended in order.
 */
export function planAdd(snap: Snapshot, action: 'create' | 'import', reqs: readonly AddRequest[]): Plan {
  const { instances, add } = planAdditions(snap, action, reqs);
  return { instances, primaryEdits: listEdits(snap.fleet, { add }), skipped: [] };
}

/** planAdd() without the list edit, for a plan that also takes instances off the list (apply). */
export function planAdditions(snap: Snapshot, action: 'create' | 'import', reqs: readonly AddRequest[]): { instances: InstancePlan[]; add: NonNullable<ListChange['add']> } {
  const fleet = snap.fleet;
  const claims = fleet.claims.clone();
  const added = reqs.map((req) => planOne(snap, claims, action, req));
  const position = reqs.length === 1 ? added[0]!.position : undefined;
  const directories = added.map((a) => a.entry.configDirectory);
  const secondaries = fleet.entries.slice(1).map(entryDirectory);
  const before = position === undefined ? undefined : secondaries[position];
  const instances: InstancePlan[] = added.map(({ entry }) => ({
    ...entry,
    notes: [listNote(fleet, entry.configDirectory, 'add', before)],
  }));
  return { instances, add: { directories, position } };
}

function planOne(snap: Snapshot, claims: ClaimTable, action: 'create' | 'import', req: AddRequest): { entry: InstancePlan; position: number | undefined } {
  const fleet = snap.fleet;
  if (req.name !== undefined) checkInstanceName(req.name);
  if (req.group !== undefined) checkGroupName(req.group);
  const primary = fleet.primaryParameters;

  const configDirectory = req.paths.config_directory ?? makePrivatePath('config_directory', fleet.primaryConfigDirectory, req.name);
  const owner = claims.ownerOf(configDirectory);
  if (owner !== undefined) {
    throw new PostfleetError(`new config_directory=${configDirectory} is already in use by instance ${owner}=${configDirectory}`);
  }
  const dir = snap.directories.get(configDirectory);
  const hasMain = dir?.mainCf !== undefined || dir?.mainCfError !== undefined;
  const complete = hasMain && Boolean(dir?.masterCf);

  // What the instance is now (import, or a create over a complete instance) or will be.
  let existing: Instance | undefined;
  if (action === 'import') {
    if (!hasMain) throw new PostfleetError(`'${configDirectory}' lacks a main.cf file`);
    if (!dir?.masterCf) throw new PostfleetError(`'${configDirectory}' lacks a master.cf file`);
  }
  const existingText = action === 'import' || complete ? mainCfText(snap, configDirectory) : undefined;
  if (existingText !== undefined) existing = secondaryFromSettings(configDirectory, parseMainCf(existingText, `${configDirectory}/main.cf`), fleet.defaults);

  const queueDirectory = existing?.queueDirectory ?? req.paths.queue_directory ?? makePrivatePath('queue_directory', primary.get('queue_directory'), req.name);
  const dataDirectory = existing?.dataDirectory ?? req.paths.data_directory ?? makePrivatePath('data_directory', primary.get('data_directory'), req.name);

  const nameEdit = req.name !== undefined && req.name !== (existing?.name ?? '') ? req.name : undefined;
  const groupEdit = req.group !== undefined && req.group !== (existing?.group ?? '') ? req.group : undefined;
  const name = nameEdit !== undefined ? nameEdit || undefined : existing?.name;

  // claimAll is all-or-nothing; the table is this plan's own copy.
  const conflict = claims.claimAll(configDirectory, instanceClaims({ name, configDirectory, queueDirectory, dataDirectory }));
  if (conflict) throw new PostfleetError(conflict);

  const position = insertPosition(fleet, req.placement);
  requireInit(fleet);

  const nameGroupEdits: MainCfEdit[] = [];
  if (groupEdit !== undefined) nameGroupEdits.push({ op: 'set', name: 'multi_instance_group', value: groupEdit });
  if (nameEdit !== undefined) nameGroupEdits.push({ op: 'set', name: 'multi_instance_name', value: nameEdit });
  const enableEdits: MainCfEdit[] = req.enabled ? [{ op: 'set', name: 'multi_instance_enable', value: 'yes' }] : [];

  const steps: Step[] = [];
  let mainCf: InstancePlan['mainCf'];
  let ownerParams: ParameterSet;
  if (existingText !== undefined) {
    if (req.template || (req.settings?.length ?? 0) > 0) {
      throw new PostfleetError(`${configDirectory} already holds main.cf and master.cf: a template or --set applies only to a new instance`);
    }
    const edits = [...nameGroupEdits, ...enableEdits];
    if (edits.length > 0) {
      steps.push({ kind: 'edit', configDirectory, edits });
      mainCf = { before: existingText, after: editMainCf(existingText, edits) };
    }
    ownerParams = new ParameterSet(parseMainCf(existingText), fleet.defaults, { configDirectory });
  } else {
    const mainProto = snap.mainCfProto;
    const masterProto = snap.masterCfProto;
    if (!mainProto) throw new PostfleetError(`Missing main.cf prototype: ${fleet.shared.metaDirectory}/main.cf.proto`);
    if (!masterProto) throw new PostfleetError(`Missing master.cf prototype: ${fleet.shared.metaDirectory}/master.cf.proto`);
    const rendered = renderTemplate(req.template, req.settings ?? []);
    for (const [param, value] of rendered.settings) {
      const instead = ownedParameterHint(param, 'create');
      if (instead !== undefined) throw new PostfleetError(`${param} = ${value}: not settable by a template or --set; ${instead}`);
    }
    // A create killed while writing left its temporary files; we hold the lock, so they are debris.
    for (const tmp of dir?.temporaries ?? []) steps.push({ kind: 'unlink', path: tmp });
    const text = newMainCf(mainProto.text, fleet, { queueDirectory, dataDirectory }, rendered.settings, [...nameGroupEdits, ...enableEdits]);
    steps.push(
      { kind: 'mkdir', path: configDirectory, mode: 0o755 },
      { kind: 'mkdir', path: queueDirectory, mode: 0o755 },
      { kind: 'mkdir', path: dataDirectory, mode: 0o700 },
      { kind: 'write', path: `${configDirectory}/main.cf`, content: text, mode: mainProto.mode },
      // master.cf last: with it present the instance is complete.
      { kind: 'write', path: `${configDirectory}/master.cf`, content: rendered.masterCf ?? masterProto.text, mode: masterProto.mode },
    );
    mainCf = { before: dir?.mainCf ?? '', after: text };
    // mail_owner and setgid_group as the instance will have them: copied from the primary when set there.
    ownerParams = primary;
  }
  steps.push(...permissionSteps(snap, ownerParams, queueDirectory, dataDirectory));
  return { entry: { action, name: name ?? null, configDirectory, primary: false, steps, notes: [], mainCf }, position };
}

/**
 * The new main.cf, built as postmulti-script builds it with postconf: shared settings the
 * primary sets explicitly are copied, the others commented out; then the private
 * directories and the safe defaults for a new instance; then the template's settings and
 * --set values; then name and group.
 */
function newMainCf(
  proto: string,
  fleet: Fleet,
  dirs: { queueDirectory: string; dataDirectory: string },
  extra: ReadonlyArray<readonly [string, string]>,
  identityEdits: readonly MainCfEdit[],
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
    ...identityEdits,
  ]);
}

/** The directory part of `postfix set-permissions` for the instance (see permissions.ts). */
function permissionSteps(snap: Snapshot, params: ParameterSet, queueDirectory: string, dataDirectory: string): Step[] {
  const meta = snap.fleet.shared.metaDirectory;
  if (snap.postfixFiles === undefined) throw new PostfleetError(`cannot read ${meta}/postfix-files`);
  const specs = instanceDirectorySpecs(snap.postfixFiles, {
    queue_directory: queueDirectory,
    data_directory: dataDirectory,
    mail_owner: params.get('mail_owner'),
    setgid_group: params.get('setgid_group'),
  });
  return specs.map((s): Step => {
    const uid = s.owner === undefined ? undefined : snap.users.get(s.owner);
    const gid = s.group === undefined ? undefined : snap.groups.get(s.group);
    if (s.owner !== undefined && uid === undefined) throw new PostfleetError(`unknown user '${s.owner}' (mail_owner)`);
    if (s.group !== undefined && gid === undefined) throw new PostfleetError(`unknown group '${s.group}' (setgid_group)`);
    return { kind: 'own', path: s.path, uid, gid, mode: s.mode, recursive: s.recursive };
  });
}
