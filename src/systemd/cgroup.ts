/**
 * Which systemd unit a process belongs to, read from /proc/PID/cgroup: the unit that owns
 * a master is what tells postfleet whether systemd runs it under postfleet@, under Debian's
 * postfix@, or not at all (started by hand, from a login session).
 */
import { readFileSync } from 'node:fs';

/**
 * The unit of a cgroup file's text: the deepest `.service` or `.scope` component of systemd's
 * own hierarchy (`name=systemd` on cgroup v1 and hybrid hosts, the unified `0::` line
 * otherwise). undefined when the process is in no unit (the root, or a path outside this
 * system's cgroup namespace such as `/..`).
 */
export function unitOfCgroup(text: string): string | undefined {
  const lines = text.split('\n').filter(Boolean);
  const named = lines.find((l) => l.split(':')[1] === 'name=systemd') ?? lines.find((l) => l.startsWith('0::'));
  if (named === undefined) return undefined;
  const cgroupPath = named.split(':').slice(2).join(':');
  const units = cgroupPath.split('/').filter((c) => /\.(service|scope)$/.test(c) && c !== 'init.scope');
  return units.at(-1);
}

/** The unit of a running process, or undefined (none, or the process is gone). */
export function unitOfProcess(pid: number | 'self', procRoot = '/proc'): string | undefined {
  try {
    return unitOfCgroup(readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** A unit that runs services (not a login session's or a container's scope). */
export const isService = (unit: string | undefined): unit is string => unit !== undefined && unit.endsWith('.service');
