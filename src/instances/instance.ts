/** What postfleet knows of one Postfix instance, as postmulti knows it. */
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
