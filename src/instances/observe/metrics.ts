/**
 * Prometheus metrics of the selected instances, per instance (label
 * postfix_instance, plus group; never the reserved `instance`): up, enabled,
 * messages and oldest message age per queue, check problems by severity; and, across the
 * selected instances, the messages queued for the largest recipient domains (at most a
 * given number of series: the label count stays bounded whatever the queues hold).
 * Rendered by prom-client's registry in the text exposition format, no
 * timestamps (node_exporter's textfile collector refuses them), from what
 * the caller read: renderMetrics itself reads nothing.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { Gauge, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { Problem, Severity } from '../check/problems.js';
import { PostfleetError } from '../errors.js';
import { instanceLabel, type FleetEntry } from '../instance.js';
import { QUEUE_NAMES, type QueueScans } from '../queue/count.js';
import { fsError } from '../files.js';

const SEVERITIES: readonly Severity[] = ['error', 'warning'];

export interface MetricsInput {
  /** The selected entries, in list order. */
  readonly selected: readonly FleetEntry[];
  /** Problems of the check, each counted for every instance it names. */
  readonly problems: readonly Problem[];
  /** Whether each selected sound instance's master runs, by config directory (the check's facts hold it). */
  readonly running: ReadonlyMap<string, boolean>;
  /** The queues of each selected sound instance, by queue directory (queue/count.ts's QueueScanner). */
  readonly queues: ReadonlyMap<string, QueueScans>;
  /** Now, for message ages (ms since the epoch). */
  readonly now: number;
  /**
   * The largest recipient domains of the selected instances' queues (a summary by recipient
   * domain, largest first, already cut to the number wanted), and how many domains there are.
   */
  readonly domains?: LargestDomains | undefined;
}

export interface LargestDomains {
  /** Largest first. */
  readonly rows: ReadonlyArray<{ readonly domain: string; readonly messages: number }>;
  /** How many domains there are in all. */
  readonly total: number;
}

/** The `top` domains with the most messages (ties by name). */
export function largestDomains(counts: ReadonlyMap<string, number>, top: number): LargestDomains {
  const rows = [...counts]
    .map(([domain, messages]) => ({ domain, messages }))
    .sort((a, b) => b.messages - a.messages || (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
  return { rows: rows.slice(0, top), total: rows.length };
}

/**
 * A gauge whose values are given whole: the registry formats them as any gauge's, without
 * going through set() once per series (validation and hashing of every label set, ~16 000
 * times for 1000 instances: a third of the rendering).
 */
class GivenGauge<L extends string> extends Gauge<L> {
  private given: Array<{ labels: Partial<Record<L, string | number>>; value: number }> = [];

  add(labels: Partial<Record<L, string | number>>, value: number): void {
    this.given.push({ labels, value });
  }

  override async get(): Promise<MetricObjectWithValues<MetricValue<L>>> {
    const base = await super.get();
    return { ...base, values: this.given };
  }
}

export async function renderMetrics(input: MetricsInput): Promise<string> {
  const registry = new Registry();
  const labels = ['postfix_instance', 'group'] as const;
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]): GivenGauge<L> =>
    new GivenGauge({ name, help, labelNames, registers: [registry] });
  const up = gauge('postfleet_instance_up', 'Whether the master(8) of the instance runs (1) or not (0).', labels);
  const enabled = gauge('postfleet_instance_enabled', 'multi_instance_enable of the instance (the primary of a single-instance host counts as enabled).', labels);
  const messages = gauge('postfleet_queue_messages', 'Messages in the queue.', [...labels, 'queue']);
  const age = gauge('postfleet_queue_oldest_message_age_seconds', 'Age of the oldest message in the queue, by its arrival time (0 when empty).', [...labels, 'queue']);
  const problems = gauge('postfleet_check_problems', 'Problems postfleet check reports that concern the instance, by severity.', [...labels, 'severity']);
  const broken = gauge('postfleet_broken_instances', 'Selected instances that cannot be loaded (unreadable main.cf, conflicts).', []);
  if (input.domains !== undefined) {
    const domainMessages = gauge(
      'postfleet_queue_recipient_domain_messages',
      'Messages with a pending recipient in the domain, in the queues of the selected instances (corrupt aside); the largest domains only.',
      ['domain'],
    );
    const domainCount = gauge('postfleet_queue_recipient_domains', 'Recipient domains in the queues of the selected instances (series are exported for the largest only).', []);
    for (const row of input.domains.rows) domainMessages.add({ domain: row.domain }, row.messages);
    domainCount.add({}, input.domains.total);
  }

  const problemCount = new Map<string, number>();
  for (const p of input.problems) for (const i of new Set(p.instances)) problemCount.set(`${p.severity} ${i}`, (problemCount.get(`${p.severity} ${i}`) ?? 0) + 1);
  let brokenCount = 0;
  for (const e of input.selected) {
    if (e.kind === 'broken') {
      brokenCount++;
      continue;
    }
    const i = e.instance;
    const l = { postfix_instance: instanceLabel(i), group: i.group ?? '' };
    up.add(l, input.running.get(i.configDirectory) === true ? 1 : 0);
    enabled.add(l, i.enabled ? 1 : 0);
    const queues = input.queues.get(i.queueDirectory);
    for (const q of QUEUE_NAMES) {
      const scan = queues?.[q];
      messages.add({ ...l, queue: q }, scan?.messages ?? 0);
      const oldest = scan?.oldestArrivalMs ?? null;
      age.add({ ...l, queue: q }, oldest === null ? 0 : Math.max(0, Math.round((input.now - oldest) / 1000)));
    }
    for (const severity of SEVERITIES) problems.add({ ...l, severity }, problemCount.get(`${severity} ${l.postfix_instance}`) ?? 0);
  }
  broken.add({}, brokenCount);
  return registry.metrics();
}

/**
 * Writes the textfile collector's file atomically: a temporary file in the
 * same directory (the collector reads only *.prom, so it never sees it),
 * then rename(2) over the target.
 */
export function writeTextfile(path: string, text: string): void {
  if (!path.endsWith('.prom')) throw new PostfleetError(`textfile '${path}' must end in .prom (node_exporter's textfile collector reads only those)`);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never made
    }
    throw fsError('write', path, e);
  }
}
