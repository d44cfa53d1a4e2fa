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
 * Pure: postfix-files.ts reads the file.
 */

export interface DirectorySpec {
  readonly path: string;
  /** user name; undefined: leave as made (root) */
  readonly owner: string | undefined;
  readonly group: string | undefined;
  readonly mode: number;
  /** postfix-files flag r: the contents are owned recursively too */
  readonly recursive: boolean;
}

/** One line of postfix-files: `path:type:owner:group:mode[:flags]`, fields as written. */
export interface PostfixFilesEntry {
  readonly path: string;
  readonly type: string;
  readonly owner: string;
  readonly group: string;
  readonly mode: string;
  readonly flags: string;
}

/** The entries of postfix-files text, comments and blank lines left out. Pure. */
export function parsePostfixFiles(text: string): PostfixFilesEntry[] {
  const entries: PostfixFilesEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const [path, type, owner = '-', group = '-', mode, flags = ''] = line.split(':');
    if (path === undefined || type === undefined || mode === undefined) continue;
    entries.push({ path, type, owner, group, mode, flags });
  }
  return entries;
}

/** `$name` and `${name}` replaced from vars; unknown names left as written. */
export function expandPostfixFilesField(field: string, vars: Readonly<Record<string, string>>): string {
  return field.replace(/\$(\w+)|\$\{(\w+)\}/g, (m, a: string | undefined, b: string | undefined) => vars[(a ?? b)!] ?? m);
}

/** Parses postfix-files lines for directories under $queue_directory or $data_directory. Pure. */
export function instanceDirectorySpecs(
  postfixFiles: string,
  vars: { queue_directory: string; data_directory: string; mail_owner: string; setgid_group: string },
): DirectorySpec[] {
  const field = (f: string): string | undefined => (f === '-' ? undefined : expandPostfixFilesField(f, vars));
  return parsePostfixFiles(postfixFiles)
    .filter((e) => e.type === 'd' && /^\$(queue_directory|data_directory)(\/|$)/.test(e.path))
    .map((e) => ({
      path: expandPostfixFilesField(e.path, vars),
      owner: field(e.owner),
      group: field(e.group),
      mode: parseInt(e.mode, 8),
      recursive: e.flags.includes('r'),
    }));
}
