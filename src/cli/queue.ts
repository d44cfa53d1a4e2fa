/** What the `queue` commands share: the filter flags, and how problems and failed instances are told. */
import * as Flags from '@oclif/core/flags';
import { parseFilters, type FilterSpec } from '../instances/queue/filters.js';
import type { InstanceQueues } from '../instances/queue/fleet-scan.js';
import type { ScanProblem } from '../instances/queue/scan.js';
import { escapeCell } from './table.js';

const many = { multiple: true, multipleNonGreedy: true } as const;

export const queueFilterFlags = {
  from: Flags.string({ description: 'sender: an address, @domain, or a glob (with * or ?) such as *@*.example.com (repeatable: any of them)', helpValue: 'PATTERN', ...many }),
  to: Flags.string({ description: 'a recipient: an address, @domain, or a glob with * or ? (repeatable: any of them)', helpValue: 'PATTERN', ...many }),
  queue: Flags.string({ description: 'maildrop, incoming, active, deferred, hold or corrupt (repeatable, or comma-separated)', helpValue: 'QUEUE', ...many }),
  older: Flags.string({ description: 'arrived longer ago than this: 30m, 2h, 3d, 1w, 1h30m …', helpValue: 'DURATION' }),
  younger: Flags.string({ description: 'arrived less long ago than this', helpValue: 'DURATION' }),
  reason: Flags.string({ description: "a recipient's delay reason matches this regular expression (case-insensitive)", helpValue: 'REGEX' }),
  id: Flags.string({ description: 'this queue id (repeatable, or comma-separated)', helpValue: 'ID', ...many }),
};

export interface QueueFilterFlagValues {
  readonly from?: string[] | undefined;
  readonly to?: string[] | undefined;
  readonly queue?: string[] | undefined;
  readonly older?: string | undefined;
  readonly younger?: string | undefined;
  readonly reason?: string | undefined;
  readonly id?: string[] | undefined;
}

export function filtersFromFlags(flags: QueueFilterFlagValues): FilterSpec {
  return parseFilters({ from: flags.from, to: flags.to, queue: flags.queue, older: flags.older, younger: flags.younger, reason: flags.reason, id: flags.id });
}

/**
 * Problems with single files are warnings (the rest was read); an instance whose queues
 * could not be read at all is an error and makes the exit status 1.
 */
export function reportScanTrouble(instances: readonly InstanceQueues[], problems: readonly ScanProblem[]): void {
  for (const p of problems) process.stderr.write(`postfleet: warning: ${escapeCell(p.instance)}: ${escapeCell(p.path)}: ${p.problem}\n`);
  for (const i of instances) {
    if (i.error === undefined) continue;
    process.stderr.write(`postfleet: ${escapeCell(i.instance)}: ${escapeCell(i.error)}\n`);
    process.exitCode = 1;
  }
}

/** Local time as YYYY-MM-DD HH:MM:SS. */
export function formatTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Bytes as du -h shows them (1024-based, one decimal below 10). */
export function formatBytes(n: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? String(n) : `${v < 10 ? (Math.ceil(v * 10) / 10).toFixed(1) : Math.ceil(v)}${units[u]}`;
}
