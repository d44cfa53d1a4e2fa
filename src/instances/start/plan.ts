/**
 * Which runs of a plan start fast, and with what facts: read once for the whole run
 * (postfix-files, users and groups), per instance from the parameters the fleet was read with.
 */
import type { Instance } from '../instance.js';
import { idTable } from '../lifecycle/snapshot.js';
import { readPostfixFiles } from '../lifecycle/postfix-files.js';
import type { ParameterSet } from '../maincf/expand.js';
import type { Fleet } from '../registry.js';
import { NotModelled, type StartFacts } from './checks.js';
import type { FastStart } from './fast-start.js';

/**
 * postfix-script's `instances`: the default instance's multi_instance_directories as
 * `postconf -h` prints it (unexpanded), with only its first comma made a space (`sed 's/,/ /'`).
 */
export function scriptInstanceList(raw: string | undefined): string[] {
  return (raw ?? '').replace(',', ' ').split(/\s+/).filter((w) => w !== '');
}

/** A function giving each instance's fast start, or undefined when postfix-files cannot be read (Postfix's own start then). */
export function fastStartFacts(fleet: Fleet, parametersOf: (i: Instance) => ParameterSet, postfixOptions: readonly string[]): ((i: Instance) => FastStart) | undefined {
  let postfixFiles: string;
  try {
    postfixFiles = readPostfixFiles(fleet.shared.metaDirectory);
  } catch {
    return undefined;
  }
  const ids = { users: idTable('/etc/passwd'), groups: idTable('/etc/group') };
  const defaultConfigDirectory = fleet.defaults.get('config_directory') ?? '/etc/postfix';
  const listed = scriptInstanceList(defaultConfigDirectory === fleet.primaryConfigDirectory ? fleet.primaryParameters.raw('multi_instance_directories') : undefined);
  return (i) => {
    const set = parametersOf(i);
    const facts: StartFacts = {
      configDirectory: i.configDirectory,
      defaultConfigDirectory,
      shared: i.configDirectory === defaultConfigDirectory || !listed.includes(i.configDirectory),
      param: (name) => {
        try {
          return set.get(name) ?? '';
        } catch (e) {
          throw new NotModelled((e as Error).message);
        }
      },
    };
    return { facts, postfixFiles, ids, postfixOptions };
  };
}
