/** Flags shared by the modern commands: instance selection and parallelism. */
import { availableParallelism } from 'node:os';
import * as Flags from '@oclif/core/flags';
import type { FleetSelection, Selection } from '../instances/selection.js';

export const configDirFlag = {
  'config-dir': Flags.string({
    char: 'c',
    description: 'primary instance configuration directory (default: postconf -d config_directory)',
    helpValue: 'DIR',
  }),
};

/**
 * The one selection of every modern command: -g and -i may be repeated and
 * combined (their union, in list order); --enabled/--disabled narrow it.
 * Non-greedy, so that `postfix -g mta reload` keeps `reload` as the command.
 */
export const selectionFlags = {
  all: Flags.boolean({ char: 'a', description: 'select all instances (the default)', exclusive: ['group', 'instance'] }),
  group: Flags.string({
    char: 'g',
    description: 'select the instances of this group (repeatable)',
    helpValue: 'GROUP',
    multiple: true,
    multipleNonGreedy: true,
    exclusive: ['all'],
  }),
  instance: Flags.string({
    char: 'i',
    description: "select an instance: its name, its name without 'postfix-', its config directory, or '-' for the primary (repeatable)",
    helpValue: 'NAME',
    multiple: true,
    multipleNonGreedy: true,
    exclusive: ['all'],
  }),
  enabled: Flags.boolean({ description: 'only the selected instances that are enabled (multi_instance_enable)', exclusive: ['disabled'] }),
  disabled: Flags.boolean({ description: 'only the selected instances that are disabled', exclusive: ['enabled'] }),
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

export interface SelectionFlagValues {
  readonly all?: boolean | undefined;
  readonly group?: readonly string[] | undefined;
  readonly instance?: readonly string[] | undefined;
  readonly enabled?: boolean | undefined;
  readonly disabled?: boolean | undefined;
}

/**
 * The selectors in the order given on the command line (oclif keeps each
 * flag's values apart, so -g before -i; the order only matters for
 * messages: the selection itself is always in list order).
 */
export function selectionFromFlags(flags: SelectionFlagValues): FleetSelection {
  const selectors: Selection[] = [
    ...(flags.group ?? []).map((group): Selection => ({ type: 'group', group })),
    ...(flags.instance ?? []).map((name): Selection => ({ type: 'name', name })),
  ];
  const state = flags.enabled ? 'enabled' : flags.disabled ? 'disabled' : undefined;
  return { selectors, state };
}

export function defaultParallelism(): number {
  return availableParallelism();
}
