/** How the queue readers open a file: read-only, never through a symbolic link, never writing. */
import { constants, openSync } from 'node:fs';

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Reading a queue must not write to it: without O_NOATIME every read of a deferred file (its
 * mtime is the next attempt, in the future) updates its atime, a write of the inode per
 * message — over half the system time of a large queue. Only the owner of a file or root may
 * ask for it: after one EPERM the files are opened without it.
 */
let noAtime: number = constants.O_NOATIME ?? 0;

/** open(2) for reading: O_NOFOLLOW (ELOOP on a symbolic link), O_NONBLOCK (a FIFO never blocks), O_NOATIME where allowed. */
export function openForReading(path: string): number {
  if (noAtime !== 0) {
    try {
      return openSync(path, OPEN_FLAGS | noAtime);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
      noAtime = 0;
    }
  }
  return openSync(path, OPEN_FLAGS);
}
