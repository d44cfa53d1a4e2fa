/**
 * The apply manifest: an INI file with one section per instance.
 *
 *   [postfix-out]
 *   group = mta
 *   enabled = yes
 *   template = outbound-relay
 *   set.listen_address = 127.0.0.1     ; a template variable, or else a main.cf parameter
 *   set.relayhost = [smtp.example.com]:587
 *   config_directory = /etc/postfix-out  ; optional, as create's path arguments
 *
 *   [postfix-old]
 *   state = absent                       ; destroyed (deported: taken off the list)
 *
 * Pure: parsing and validation only. Section names are split off here rather
 * than by ini, because instance names may contain dots (ini nests on them)
 * and duplicate sections must be refused (ini merges them).
 */
import { unsafe } from 'ini';
import { PostfleetError } from '../errors.js';
import { checkGroupName, checkInstanceName, checkPrivatePath, type PrivatePathParam } from './names.js';
import { checkSettingValue, isParameterName, splitNameValue } from '../maincf/edit.js';
import { parseBoolean } from '../instance.js';
import { ownedParameterHint } from './reserved.js';

/** present: created or brought in line; absent: destroyed; deported: taken off the list, its files kept. */
type ManifestState = 'present' | 'absent' | 'deported';
const STATES: readonly ManifestState[] = ['present', 'absent', 'deported'];

export interface ManifestInstance {
  readonly name: string;
  readonly state: ManifestState;
  readonly group: string | undefined;
  /** undefined: leave as it is */
  readonly enabled: boolean | undefined;
  readonly template: string | undefined;
  readonly settings: ReadonlyArray<readonly [string, string]>;
  readonly paths: Partial<Record<PrivatePathParam, string>>;
}

const PATH_KEYS: readonly PrivatePathParam[] = ['config_directory', 'queue_directory', 'data_directory'];
const KEYS = new Set(['state', 'group', 'enabled', 'template', ...PATH_KEYS]);
interface Section {
  readonly name: string;
  readonly body: Array<{ readonly name: string; readonly value: string }>;
}

/** Each line `key = value`, split as postconf -e splits NAME=VALUE (splitNameValue()). */
export function parseManifest(text: string, source: string): ManifestInstance[] {
  const sections: Section[] = [];
  let current: Section | undefined;
  text.split(/\r?\n/).forEach((raw, k) => {
    const line = raw.trim();
    const header = /^\[(.*)\]$/.exec(line);
    if (header) {
      const name = header[1]!.trim();
      if (sections.some((s) => s.name === name)) {
        throw new PostfleetError(`${source}, line ${k + 1}: duplicate instance [${name}]`);
      }
      current = { name, body: [] };
      sections.push(current);
      return;
    }
    if (line === '' || line.startsWith(';') || line.startsWith('#')) return;
    if (!current) throw new PostfleetError(`${source}, line ${k + 1}: setting outside an [instance] section: '${line}'`);
    const entry = splitNameValue(line);
    if (entry === undefined) throw new PostfleetError(`${source}, line ${k + 1}: expected key = value: '${line}'`);
    if (current.body.some((b) => b.name === entry.name)) {
      throw new PostfleetError(`${source}, line ${k + 1}: duplicate key '${entry.name}' in [${current.name}]`);
    }
    current.body.push(entry);
  });
  return sections.map((s) => toInstance(s.name, decodeSection(s.body), `${source} [${s.name}]`));
}

/**
 * Each line's value unquoted and unescaped as ini does it, but always as text: ini's decode
 * reads true, false and null as a boolean or null (and nests a key with a dot and a null
 * value), while a main.cf value is always text.
 */
function decodeSection(body: Section['body']): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const { name, value } of body) values[name] = unsafe(value);
  return values;
}

function toInstance(name: string, values: Record<string, unknown>, where: string): ManifestInstance {
  checkInstanceName(name);
  if (name === '') throw new PostfleetError(`${where}: an instance needs a name`);
  const str = (k: string): string | undefined => {
    const v = values[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new PostfleetError(`${where}: '${k}' must be a single value`);
    return v;
  };
  const settings: Array<[string, string]> = [];
  for (const key of Object.keys(values)) {
    if (key.startsWith('set.')) {
      const param = key.slice(4);
      if (!isParameterName(param)) throw new PostfleetError(`${where}: bad parameter name in '${key}'`);
      const instead = ownedParameterHint(param, 'manifest');
      if (instead !== undefined) throw new PostfleetError(`${where}: '${key}' is not allowed: ${instead}`);
      const value = str(key) ?? '';
      checkSettingValue(param, value, where);
      settings.push([param, value]);
    } else if (!KEYS.has(key)) {
      throw new PostfleetError(`${where}: unknown key '${key}' (known: ${[...KEYS].join(', ')}, set.NAME)`);
    }
  }
  const stateText = str('state') ?? 'present';
  const state = STATES.find((s) => s === stateText);
  if (state === undefined) throw new PostfleetError(`${where}: state must be present, absent or deported, not '${stateText}'`);
  if (state !== 'present') {
    // An instance that goes is described by its name alone: anything else would be ignored.
    const other = Object.keys(values).filter((k) => k !== 'state');
    if (other.length > 0) throw new PostfleetError(`${where}: state = ${state} takes no other key (got ${other.join(', ')})`);
  }
  const group = str('group');
  if (group !== undefined) checkGroupName(group);
  const enabledText = str('enabled');
  const enabled = enabledText === undefined ? undefined : parseBoolean(enabledText);
  if (enabledText !== undefined && enabled === undefined) throw new PostfleetError(`${where}: enabled must be yes or no, not '${enabledText}'`);
  const paths: Partial<Record<PrivatePathParam, string>> = {};
  for (const p of PATH_KEYS) {
    const v = str(p);
    if (v !== undefined) paths[p] = checkPrivatePath(p, v);
  }
  return { name, state, group, enabled, template: str('template'), settings, paths };
}
