/**
 * The few find(1) walks postfix-script's check-warn makes, done in-process, visiting what
 * GNU find visits in the order it visits it: each starting point, then (unless pruned) its
 * tree in pre-order, each directory's entries in the order the file system returns them
 * (opendir, not Node's sorted readdir), so that warnings come out in find's order. Paths are
 * printed as find prints them: the starting point as given, children joined with `/`.
 */
import { lstatSync, opendirSync, statSync, type Stats } from 'node:fs';

export interface Visit {
  readonly path: string;
  readonly stats: Stats;
}

/** Entries of a directory in file-system order; [] when it cannot be read (find warns and goes on). */
function entriesInDirectoryOrder(dir: string): string[] {
  let handle;
  try {
    handle = opendirSync(dir);
  } catch {
    return [];
  }
  const names: string[] = [];
  try {
    for (let d = handle.readSync(); d !== null; d = handle.readSync()) names.push(d.name);
  } catch {
    // An unreadable remainder: find reports it on stderr and goes on.
  } finally {
    handle.closeSync();
  }
  return names;
}

const statOrNull = (path: string, follow: boolean): Stats | null => {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch {
    // find -L falls back to the link itself when its target is gone.
    if (!follow) return null;
    try {
      return lstatSync(path);
    } catch {
      return null;
    }
  }
};

/**
 * `find START...` (with `follow`: `find -L`), every visited path, pre-order. With `prune`,
 * only the starting points themselves (`-prune` at the top). Loops through symbolic links
 * under -L are not descended twice (find reports them and skips).
 */
export function* walk(starts: readonly string[], options: { follow?: boolean; prune?: boolean } = {}): Generator<Visit> {
  const follow = options.follow ?? false;
  for (const start of starts) {
    const stats = statOrNull(start, follow);
    if (stats === null) continue;
    yield { path: start, stats };
    if (options.prune || !stats.isDirectory()) continue;
    yield* descend(start, follow, [`${stats.dev}:${stats.ino}`]);
  }
}

function* descend(dir: string, follow: boolean, ancestors: string[]): Generator<Visit> {
  for (const name of entriesInDirectoryOrder(dir)) {
    const path = `${dir}/${name}`;
    const stats = statOrNull(path, follow);
    if (stats === null) continue;
    yield { path, stats };
    if (!stats.isDirectory()) continue;
    const id = `${stats.dev}:${stats.ino}`;
    if (ancestors.includes(id)) continue;
    yield* descend(path, follow, [...ancestors, id]);
  }
}

/** test -d (following symbolic links). */
export const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

/** test -f (following symbolic links). */
export const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** `-perm -020 -o -perm -002`. */
export const groupOrOtherWritable = (s: Stats): boolean => (s.mode & 0o022) !== 0;
