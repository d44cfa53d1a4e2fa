/** What postfleet knows of one Postfix instance, as postmulti knows it. Pure: registry.ts reads the files. */
import { PostfleetError } from './errors.js';
import { ParameterSet } from './maincf/expand.js';


export interface Instance {
  readonly configDirectory: string;
  readonly queueDirectory: string;
  readonly dataDirectory: string;
  /** undefined when the instance has no multi_instance_name */
  readonly name: string | undefined;
  /** undefined when the instance has no multi_instance_group */
  readonly group: string | undefined;
  readonly enabled: boolean;
  readonly primary: boolean;
}

/** An entry of the instance list that could not be loaded; reported and skipped. */
export interface BrokenInstance {
  readonly configDirectory: string;
  readonly primary: boolean;
  readonly reason: string;
}

export type FleetEntry =
  | { readonly kind: 'ok'; readonly instance: Instance }
  | { readonly kind: 'broken'; readonly broken: BrokenInstance };

/**
 * How every output names an instance (status, postfix and exec results, progress lines):
 * its name; a nameless primary is `-`, as `list` and postmulti -l show it and as `-i -`
 * selects it; a nameless secondary is its config directory, which tells it apart.
 */
export function instanceLabel(i: { readonly name?: string | undefined; readonly configDirectory: string; readonly primary: boolean }): string {
  return i.name ?? (i.primary ? '-' : i.configDirectory);
}

/** The settings every instance shares with the primary (postmulti's shared_dir_table). */
export interface SharedSettings {
  readonly commandDirectory: string;
  readonly daemonDirectory: string;
  readonly metaDirectory: string;
  readonly shlibDirectory: string;
}

export interface CommandLists {
  readonly start: readonly string[];
  readonly stop: readonly string[];
  readonly control: readonly string[];
}

/** How a broken instance is reported, by every interface alike. */
export function describeBroken(b: BrokenInstance): string {
  return `skipping instance ${b.configDirectory}: ${b.reason}`;
}

/** Fault isolation: each broken entry is reported in one line (`report`); returns how many. */
export function reportBroken(entries: readonly FleetEntry[], report: (line: string) => void): number {
  let n = 0;
  for (const e of entries) {
    if (e.kind !== 'broken') continue;
    n++;
    report(describeBroken(e.broken));
  }
  return n;
}

/** Splits a list parameter the way Postfix does (CHARS_COMMA_SP). */
export function splitList(value: string): string[] {
  return value.split(/[,\s]+/).filter((s) => s.length > 0);
}

/** mail_conf_bool(): yes/no in any case; anything else is no boolean. */
export function parseBoolean(value: string): boolean | undefined {
  const v = value.toLowerCase();
  if (v === 'yes') return true;
  if (v === 'no') return false;
  return undefined;
}

export const nonEmpty = (s: string): string | undefined => (s === '' ? undefined : s);

/**
 * A secondary as its main.cf settings describe it. Throws PostfleetError naming the directory
 * when multi_instance_enable is not a boolean (create and import over an existing instance, and
 * the check of a planned main.cf, use this on text that is not on disk yet).
 */
export function secondaryFromSettings(dir: string, settings: ReadonlyMap<string, string>, defaults: ReadonlyMap<string, string>): Instance {
  const params = new ParameterSet(settings, defaults, { configDirectory: dir });
  const enableValue = params.get('multi_instance_enable');
  const enabled = parseBoolean(enableValue);
  if (enabled === undefined) {
    throw new PostfleetError(`Unexpected ${dir}/main.cf entry: multi_instance_enable = ${enableValue}`);
  }
  return {
    configDirectory: dir,
    queueDirectory: params.get('queue_directory'),
    dataDirectory: params.get('data_directory'),
    name: nonEmpty(params.get('multi_instance_name')),
    group: nonEmpty(params.get('multi_instance_group')),
    enabled,
    primary: false,
  };
}
