/**
 * Where Postfix keeps a message: the queue directories, the hashed subdirectories
 * (hash_queue_names, hash_queue_depth: global/mail_queue.c's mail_queue_dir() and
 * util/dir_forest.c), and what a queue id looks like (short: hexadecimal; long, with
 * enable_long_queue_ids: time and inode in a base-52 alphabet around a 'z').
 */

/** The message queues in the order showq(8) reads them, then corrupt (which showq does not list). */
export const MESSAGE_QUEUES = ['maildrop', 'active', 'incoming', 'deferred', 'hold', 'corrupt'] as const;
export type MessageQueue = (typeof MESSAGE_QUEUES)[number];

export function isMessageQueue(name: string): name is MessageQueue {
  return (MESSAGE_QUEUES as readonly string[]).includes(name);
}

/** mail_queue_id_ok(): what showq and postsuper accept as a file name in a queue. */
export function isQueueFileName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && /^[A-Za-z0-9_]+$/.test(name);
}

/**
 * What postfleet accepts as a queue id on its command line: a short id (at least six
 * upper-case hexadecimal digits: five of microseconds, then the inode) or a long one (ten
 * or more characters of time in base 52, 'z', the inode in base 51), in Postfix's alphabets.
 */
export function looksLikeQueueId(id: string): boolean {
  return /^[0-9A-F]{6,32}$/.test(id) || /^[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,32}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{1,20}$/.test(id);
}

/** global/safe_ultostr.c's alphabet. */
const SAFE_CHARS = '0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz';

export interface HashLayout {
  /** hash_queue_names, lower-cased. */
  readonly names: ReadonlySet<string>;
  /** hash_queue_depth. */
  readonly depth: number;
}

export const DEFAULT_HASH_LAYOUT: HashLayout = { names: new Set(['deferred', 'defer']), depth: 1 };

export function hashLayout(hashQueueNames: string, hashQueueDepth: string): HashLayout {
  const depth = Number.parseInt(hashQueueDepth, 10);
  return {
    names: new Set(hashQueueNames.split(/[\s,]+/).filter(Boolean).map((n) => n.toLowerCase())),
    depth: Number.isFinite(depth) && depth >= 1 ? depth : 1,
  };
}

/** The subdirectories (with a trailing '/') of a file of `queue`, as mail_queue_dir() makes them. */
export function hashPath(layout: HashLayout, queue: string, id: string): string {
  if (!layout.names.has(queue)) return '';
  let source = id;
  // MQID_FIND_LG_INUM_SEPARATOR: the last 'z', at least ten characters in.
  const z = id.lastIndexOf('z');
  if (z >= 10) {
    // MQID_LG_GET_HEX_USEC: the four characters before it are the microseconds, in base 52.
    let usec = 0;
    for (const ch of id.slice(z - 4, z)) {
      const v = SAFE_CHARS.indexOf(ch);
      if (v < 0) {
        usec = 0;
        break;
      }
      usec = usec * 52 + v;
    }
    source = usec.toString(16).toUpperCase().padStart(5, '0');
  }
  let path = '';
  for (let n = 0; n < layout.depth; n++) path += `${n < source.length ? source[n] : '_'}/`;
  return path;
}
