/**
 * An instance's master process as the probe sees it, from its pid file and /proc: running,
 * the same one as before a reload, a new one after a restart. A reload is asynchronous
 * (`postfix reload` returns once master(8) is sent SIGHUP): until the master has handled it,
 * an idle daemon of the old configuration may still accept the probe's connection. So the
 * daemons that ran before a reload are waited for: master(8) closes their status pipes when
 * it re-reads its configuration, and idle ones exit at once; busy ones finish their session
 * first, so the wait is bounded.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readMasterPid } from '../observe/status.js';

/** The live master of a queue directory (the pid file names a live, non-zombie process called master), else null. */
export function liveMaster(queueDirectory: string): number | null {
  const pid = readMasterPid(queueDirectory);
  return pid !== null && isLiveMaster(pid) ? pid : null;
}

function isLiveMaster(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.comm === 'master' && stat.state !== 'Z';
}

function procStat(pid: number): { comm: string; state: string; ppid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // pid (comm) state ppid …: comm may hold spaces and parentheses, so split at the last ')'.
  const close = text.lastIndexOf(')');
  const [state = '', ppid = '0'] = text.slice(close + 2).split(' ');
  return { comm: text.slice(text.indexOf('(') + 1, close), state, ppid: Number(ppid) };
}

/** The children of each of `parents` (live, not zombies), in one pass over /proc. */
export function childrenOf(parents: ReadonlySet<number>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  if (parents.size === 0) return out;
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    const st = procStat(pid);
    if (st === undefined || st.state === 'Z' || !parents.has(st.ppid)) continue;
    const list = out.get(st.ppid);
    if (list) list.push(pid);
    else out.set(st.ppid, [pid]);
  }
  return out;
}

/** Whether `pid` still lives as a child of `parent`. */
function stillChild(pid: number, parent: number): boolean {
  const st = procStat(pid);
  return st !== undefined && st.state !== 'Z' && st.ppid === parent;
}

/**
 * Waits until no daemon of `before` (master pid → its children before the reload) is still
 * that master's child, or `withinMs` has passed, or `signal` aborts: whichever comes first.
 */
export async function waitForOldDaemons(before: ReadonlyMap<number, readonly number[]>, withinMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = performance.now() + withinMs;
  let pending = [...before].flatMap(([master, pids]) => pids.map((pid) => [pid, master] as const));
  while (pending.length > 0 && performance.now() < deadline && !signal?.aborted) {
    pending = pending.filter(([pid, master]) => stillChild(pid, master));
    if (pending.length > 0) await new Promise((r) => setTimeout(r, 10));
  }
}
