/**
 * Checks of what the operator asks a life-cycle action for: new names, group
 * names and private paths, with postmulti's rules and messages. Pure.
 */
import { PostfleetError } from '../errors.js';
import { splitNameValue } from '../maincf/edit.js';
import { NAME_PREFIX } from '../selection.js';

const SAFE_PUNCT = '!@%-_=+:./';

/** postmulti's check_safe_name(): letters, digits and !@%-_=+:./ only. */
export function isSafeName(s: string): boolean {
  if (s === '') return false;
  for (const ch of s) {
    if (!/^[A-Za-z0-9]$/.test(ch) && !SAFE_PUNCT.includes(ch)) return false;
  }
  return true;
}

/**
 * A new instance name ('' clears it). The name becomes a path component, so
 * besides postmulti's checks we refuse '.' and '..' path tricks outright.
 */
export function checkInstanceName(name: string): void {
  if (name === '') return;
  if (!isSafeName(name)) throw new PostfleetError(`Unsafe characters in new instance name: '${name}'`);
  if (name.includes('/')) throw new PostfleetError(`Illegal '/' character in new instance name: '${name}'`);
  if (!name.startsWith(NAME_PREFIX)) throw new PostfleetError(`New instance name must start with '${NAME_PREFIX}': '${name}'`);
}

export function checkGroupName(group: string): void {
  if (group === '') return;
  if (!isSafeName(group)) throw new PostfleetError(`Unsafe characters in '-G ${group}'`);
}

/** postmulti's make_private_path(): the primary's path, last component replaced by the name. */
export function makePrivatePath(param: string, primaryValue: string, name: string | undefined): string {
  if (name === undefined || name === '') throw new PostfleetError(`Missing ${param} parameter value`);
  if (!primaryValue.startsWith('/')) {
    throw new PostfleetError(`Invalid default ${param} parameter value: '${primaryValue}': specify an absolute pathname`);
  }
  const trimmed = primaryValue.replace(/\/+$/, '');
  const parent = trimmed.slice(0, trimmed.lastIndexOf('/')).replace(/\/+$/, '');
  return `${parent}/${name}`;
}

export type PrivatePathParam = 'config_directory' | 'queue_directory' | 'data_directory';

/**
 * A `name=value` argument of create/import (postmulti's assign_new_parameter(), which splits it
 * with split_nameval() as postconf -e does: splitNameValue()):
 * only the private directories, absolute, not '/', trailing '/' trimmed. We
 * also refuse '.' and '..' components, which postmulti lets through.
 */
export function parsePathAssignment(arg: string, action: 'create' | 'import'): { param: PrivatePathParam; value: string } {
  const setting = splitNameValue(arg);
  if (setting === undefined) throw new PostfleetError(`Malformed parameter setting '${arg}'`);
  const { name, value: raw } = setting;
  const allowed: readonly string[] = action === 'import' ? ['config_directory'] : ['config_directory', 'queue_directory', 'data_directory'];
  if (!allowed.includes(name)) throw new PostfleetError(`Parameter '${name}' not valid with action ${action}`);
  return { param: name as PrivatePathParam, value: checkPrivatePath(name, raw) };
}

export function checkPrivatePath(param: string, raw: string): string {
  if (!raw.startsWith('/')) throw new PostfleetError(`Parameter setting '${param}' is not an absolute path: '${raw}'`);
  const value = raw.length > 1 ? raw.replace(/\/+$/, '') : raw;
  if (value === '/' || value === '') throw new PostfleetError(`Parameter setting '${param}' is the root directory`);
  if (value.split('/').some((c) => c === '.' || c === '..')) {
    throw new PostfleetError(`Parameter setting '${param}' has a '.' or '..' component: '${raw}'`);
  }
  if (/[\s,]/.test(value)) throw new PostfleetError(`Parameter setting '${param}' contains white space or a comma: '${raw}'`);
  return value;
}
