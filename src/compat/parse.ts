/**
 * postmulti's command line, read exactly as postmulti reads it: the same
 * options, the same order of checks, the same messages. Pure.
 */
import { getopt } from './getopt.js';
import type { Selection } from '../instances/selection.js';

const EDIT_ACTIONS = ['create', 'import', 'destroy', 'deport', 'enable', 'disable', 'assign', 'init'] as const;
export type EditAction = (typeof EDIT_ACTIONS)[number];

type CompatMode = 'list' | 'postfix' | 'unix' | EditAction;

export interface CompatRequest {
  readonly mode: CompatMode;
  /** undefined: no -a/-g/-i given (iterator mode treats that as -a). */
  readonly selection: Selection | undefined;
  readonly reverse: boolean;
  readonly json: boolean;
  readonly verbose: boolean;
  /** -I / -G: '' clears (postmulti's "-"); undefined: not given. */
  readonly assignName: string | undefined;
  readonly assignGroup: string | undefined;
  /** postfleet's own -P N; undefined keeps postmulti's one-at-a-time. */
  readonly parallel: number | undefined;
  /** postfleet's own -F: `start` of an enabled instance is a fast start (start/fast-start.ts). */
  readonly fastStart: boolean;
  readonly operands: readonly string[];
}

/** postfleet's extra options are -P N (parallelism) and -F (fast start); the rest are postmulti's. */
const COMPAT_OPTSTRING = 'ae:g:i:jG:I:lpRvxP:F';

export function usage(prog: string): string {
  return (
    `Usage:${prog} -l [-v] [-a] [-g group] [-i instance] | ` +
    `${prog} -p [-v] [-a] [-g group] [-i instance] command... | ` +
    `${prog} -x [-v] [-a] [-i name] [-g group] command... | ` +
    `${prog} -e action [-v] [-a] [-i name] [-g group] [-I name] ` +
    `[-G group] [param=value ...]`
  );
}

/** A fatal diagnostic: `prog: fatal: message` (usage errors may add a getopt line first). */
export interface CompatParseError {
  readonly lines: readonly string[];
}

const isEditMode = (m: CompatMode | undefined): m is EditAction => m !== undefined && (EDIT_ACTIONS as readonly string[]).includes(m);
const ADD_ACTIONS: readonly CompatMode[] = ['create', 'import'];
const ASSIGN_ACTIONS: readonly CompatMode[] = ['create', 'import', 'assign'];

export function parseCompatArgs(args: readonly string[], prog: string): CompatRequest | CompatParseError {
  const fatal = (message: string, before: string[] = []): CompatParseError => ({ lines: [...before, `${prog}: fatal: ${message}`] });
  const parsed = getopt(args, COMPAT_OPTSTRING, prog);

  let selection: Selection | undefined;
  let selectCount = 0;
  let modeCount = 0;
  let mode: CompatMode | undefined;
  let reverse = false;
  let json = false;
  let verbose = false;
  let assignName: string | undefined;
  let assignGroup: string | undefined;
  let parallel: number | undefined;
  let fastStart = false;
  const setMode = (m: CompatMode): void => {
    if (mode !== m) modeCount++;
    mode = m;
  };

  for (const { option, argument = '' } of parsed.options) {
    switch (option) {
      case 'a':
        if (selection?.type !== 'all') selectCount++;
        selection = { type: 'all' };
        break;
      case 'e':
        if (!(EDIT_ACTIONS as readonly string[]).includes(argument)) {
          return fatal(
            `Invalid '-e' edit action '${argument}'. Specify 'create', 'destroy', 'import', 'deport', 'enable', 'disable', 'assign' or 'init'`,
          );
        }
        setMode(argument as EditAction);
        break;
      case 'g':
        selectCount++;
        selection = { type: 'group', group: argument };
        break;
      case 'i':
        selectCount++;
        selection = { type: 'name', name: argument };
        break;
      case 'j':
        json = true;
        break;
      case 'G':
        if (assignGroup !== undefined) return fatal("Specify at most one '-G' option");
        assignGroup = argument === '-' ? '' : argument;
        break;
      case 'I':
        if (assignName !== undefined) return fatal("Specify at most one '-I' option");
        assignName = argument === '-' ? '' : argument;
        break;
      case 'l':
        setMode('list');
        break;
      case 'p':
        setMode('postfix');
        break;
      case 'R':
        reverse = !reverse;
        break;
      case 'v':
        verbose = true;
        break;
      case 'x':
        setMode('unix');
        break;
      case 'F':
        fastStart = true;
        break;
      case 'P': {
        if (!/^[1-9][0-9]{0,5}$/.test(argument)) return fatal(`Invalid '-P' parallelism '${argument}': specify a positive number`);
        parallel = Number(argument);
        break;
      }
    }
  }

  if (parsed.error !== undefined) return fatal(usage(prog), [parsed.error]);
  const operands = parsed.operands;
  if (selectCount > 1) return fatal("Specity no more than one of '-a', '-g', '-i'");
  if (modeCount !== 1 || mode === undefined) return fatal("Specify exactly one of '-e', '-l', '-p', '-x'");
  if (mode === 'list' && operands.length > 0) return fatal("Command not allowed with '-l'");
  if ((mode === 'postfix' || mode === 'unix') && operands.length === 0) return fatal("Command required with '-p' or '-x' option");
  if ((mode === 'postfix' || isEditMode(mode)) && reverse) return fatal("The '-p' and '-e' options preclude the use of '-R'");
  if (!ASSIGN_ACTIONS.includes(mode) && (assignName !== undefined || assignGroup !== undefined)) {
    return fatal(isEditMode(mode) ? `Cannot assign instance name or group with '-e ${mode}'` : "Cannot assign instance name or group without '-e assign'");
  }
  if (isEditMode(mode)) {
    if (mode === 'assign' && assignName === undefined && assignGroup === undefined) {
      return fatal("Specify new instance name or group with '-e assign'");
    }
    if (!ADD_ACTIONS.includes(mode) && operands.length > 0) return fatal(`Parameter overrides not valid with '-e ${mode}'`);
  }
  if (json && mode !== 'list') return fatal("JSON output available only with '-l'");
  if (fastStart && mode !== 'postfix') return fatal("The '-F' option (fast start) is valid only with '-p'");

  return { mode, selection, reverse, json, verbose, assignName, assignGroup, parallel, fastStart, operands };
}

export function isParseError(r: CompatRequest | CompatParseError): r is CompatParseError {
  return 'lines' in r;
}
