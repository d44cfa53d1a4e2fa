/**
 * Instance status read natively: the master's pid file and the queue
 * directories. No postfix(1) process per instance (postmulti -p status spawns
 * several per instance), so a thousand instances take a fraction of a second.
 */
import { readFileSync } from 'node:fs';
import type { Instance } from '../instance.js';
import { instanceLabel } from '../instance.js';
import { QUEUE_NAMES, scanQueue, type QueueName } from '../queue/count.js';

export { QUEUE_NAMES } from '../queue/count.js';

export interface InstanceStatus {
  readonly instance: string;
  readonly name: string | null;
  readonly group: string | null;
  readonly configDirectory: string;
  readonly queueDirectory: string;
  readonly enabled: boolean;
  readonly running: boolean;
  readonly pid: number | null;
  /** null where a queue directory could not be read (e.g. never started). */
  readonly queues: Record<QueueName, number | null>;
}

export function readInstanceStatus(i: Instance): InstanceStatus {
  const pid = readMasterPid(i.queueDirectory);
  const running = pid !== null && isMasterRunning(pid);
  const queues = Object.fromEntries(QUEUE_NAMES.map((q) => [q, countQueueFiles(`${i.queueDirectory}/${q}`)])) as Record<QueueName, number | null>;
  return {
    instance: instanceLabel(i),
    name: i.name ?? null,
    group: i.group ?? null,
    configDirectory: i.configDirectory,
    queueDirectory: i.queueDirectory,
    enabled: i.enabled,
    running,
    pid: running ? pid : null,
    queues,
  };
}

/** Postfix writes the pid right-aligned in a fixed-width field. */
export function parsePidFile(text: string): number | null {
  const m = /^\s*(\d+)\s*$/.exec(text);
  if (!m?.[1]) return null;
  const pid = Number(m[1]);
  return pid > 0 ? pid : null;
}

export function readMasterPid(queueDirectory: string): number | null {
  try {
    return parsePidFile(readFileSync(`${queueDirectory}/pid/master.pid`, 'latin1'));
  } catch {
    return null;
  }
}

/** A stale pid file may name a recycled pid: the process must be a master. */
export function isMasterRunning(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'latin1').trim() === 'master';
  } catch {
    return false;
  }
}

/** Messages are files; deferred and friends hash them into subdirectories. */
function countQueueFiles(dir: string): number | null {
  return scanQueue(dir, false)?.messages ?? null;
}
