/**
 * The directory part of `postfix set-permissions`, done natively.
 *
 * Why not run `postfix -c DIR set-permissions` as postmulti-script does?
 * Postfix programs pause (in 300 ms steps, up to ~2 s) when they read a
 * main.cf modified in the last second or so, and create has just written both
 * the new instance's main.cf and the primary's. Running it would cost every
 * create about two seconds of sleep. For a new or imported instance,
 * set-permissions makes and owns the queue and data directories exactly as
 * $meta_directory/postfix-files says; we read that same file, so the modes
 * and owners are the ones postmulti leaves (the differential tests compare).
 * The shared files (programs in command_directory etc.) belong to the
 * primary's installation and are not touched by adding an instance.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface DirectorySpec {
  readonly path: string;
  /** user name; undefined: leave as made (root) */
  readonly owner: string | undefined;
  readonly group: string | undefined;
  readonly mode: number;
  /** postfix-files flag r: the contents are owned recursively too */
  readonly recursive: boolean;
}

/** Parses postfix-files lines for directories under $queue_directory or $data_directory. Pure. */
export function instanceDirectorySpecs(
  postfixFiles: string,
  vars: { queue_directory: string; data_directory: string; mail_owner: string; setgid_group: string },
): DirectorySpec[] {
  const specs: DirectorySpec[] = [];
  const expand = (s: string): string => s.replace(/\$(\w+)|\$\{(\w+)\}/g, (m, a: string | undefined, b: string | undefined) => (vars as Record<string, string>)[(a ?? b)!] ?? m);
  for (const line of postfixFiles.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const [path, type, owner, group, mode, flags = ''] = line.split(':');
    if (type !== 'd' || path === undefined || mode === undefined) continue;
    if (!/^\$(queue_directory|data_directory)(\/|$)/.test(path)) continue;
    specs.push({
      path: expand(path),
      owner: owner === '-' || owner === undefined ? undefined : expand(owner),
      group: group === '-' || group === undefined ? undefined : expand(group),
      mode: parseInt(mode, 8),
      recursive: flags.includes('r'),
    });
  }
  return specs;
}

export function readPostfixFiles(metaDirectory: string): string {
  let text = readFileSync(`${metaDirectory}/postfix-files`, 'utf8');
  let extra: string[] = [];
  try {
    extra = readdirSync(`${metaDirectory}/postfix-files.d`).filter((f) => !f.startsWith('.')).sort();
  } catch {
    // no drop-in directory
  }
  for (const f of extra) text += '\n' + readFileSync(`${metaDirectory}/postfix-files.d/${f}`, 'utf8');
  return text;
}
