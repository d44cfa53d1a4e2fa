/** Flags shared by the modern commands: instance selection and parallelism. */
import { availableParallelism } from 'node:os';
import * as Flags from '@oclif/core/flags';
import type { Selection } from '../instances/selection.js';

export const configDirFlag = {
  'config-dir': Flags.string({
    char: 'c',
    description: 'primary instance configuration directory (default: postconf -d config_directory)',
    helpValue: 'DIR',
  }),
};

export const selectionFlags = {
  all: Flags.boolean({ char: 'a', description: 'select all instances (the default)', exclusive: ['group', 'instance'] }),
  group: Flags.string({ char: 'g', description: 'select the instances of this group', helpValue: 'GROUP', exclusive: ['all', 'instance'] }),
  instance: Flags.string({
    char: 'i',
    description: "select one instance: its name, its name without 'postfix-', its config directory, or '-' for the primary",
    helpValue: 'NAME',
    exclusive: ['all', 'group'],
  }),
};

export const reverseFlag = {
  reverse: Flags.boolean({ char: 'R', description: 'reverse the iteration order' }),
};

export const parallelFlag = {
  parallel: Flags.integer({
    char: 'P',
    description: 'instances in flight at once (default: number of CPU cores)',
    min: 1,
    helpValue: 'N',
  }),
};

export function selectionFromFlags(flags: { all?: boolean; group?: string | undefined; instance?: string | undefined }): Selection {
  if (flags.group !== undefined) return { type: 'group', group: flags.group };
  if (flags.instance !== undefined) return { type: 'name', name: flags.instance };
  return { type: 'all' };
}

export function defaultParallelism(): number {
  return availableParallelism();
}
