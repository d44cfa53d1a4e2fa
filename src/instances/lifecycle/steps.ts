/**
 * The file work of a life-cycle action, as data: planned without touching
 * anything (so --dry-run can print it). Pure: execute.ts applies the steps and undoes
 * them; planners import only this vocabulary.
 */
import type { MainCfEdit } from '../maincf/edit.js';

export type Step =
  /** mkdir -p; `mode` for the last component (parents get 0755, as under umask 022) */
  | { readonly kind: 'mkdir'; readonly path: string; readonly mode: number }
  /** a new file, written whole under a temporary name and renamed into place */
  | { readonly kind: 'write'; readonly path: string; readonly content: string; readonly mode: number }
  /** postconf -e/-X/-# on an existing instance's main.cf, under its lock */
  | { readonly kind: 'edit'; readonly configDirectory: string; readonly edits: readonly MainCfEdit[] }
  /** a directory of postfix-files: made if missing, then owned and moded */
  | { readonly kind: 'own'; readonly path: string; readonly uid: number | undefined; readonly gid: number | undefined; readonly mode: number; readonly recursive: boolean }
  /** remove if empty; otherwise warn and leave it */
  | { readonly kind: 'rmdir'; readonly path: string }
  | { readonly kind: 'unlink'; readonly path: string };

export function describeStep(s: Step): string {
  const octal = (m: number): string => m.toString(8).padStart(4, '0');
  switch (s.kind) {
    case 'mkdir':
      return `mkdir ${s.path} (mode ${octal(s.mode)})`;
    case 'write':
      return `write ${s.path} (mode ${octal(s.mode)}, ${s.content.split('\n').length - 1} lines)`;
    case 'edit':
      return s.edits.map((e) => `edit ${s.configDirectory}/main.cf: ${describeEdit(e)}`).join('\n');
    case 'own':
      return `set-permissions ${s.path} (mode ${octal(s.mode)}${s.uid === undefined ? '' : `, uid ${s.uid}`}${s.gid === undefined ? '' : `, gid ${s.gid}`})`;
    case 'rmdir':
      return `rmdir ${s.path}`;
    case 'unlink':
      return `remove ${s.path}`;
  }
}

export function describeEdit(e: MainCfEdit): string {
  switch (e.op) {
    case 'set':
      return `${e.name} = ${e.value}`.trimEnd();
    case 'remove':
      return `remove ${e.name}`;
    case 'comment':
      return `comment out ${e.name}`;
  }
}

/**
 * The names writeNewFile() writes under before its rename. Only create writes them, holding
 * the primary main.cf lock; so one found while the lock is held is debris of a killed create.
 */
export const TEMPORARY_FILE = /^\.postfleet-\d+-\d+\.tmp$/;

