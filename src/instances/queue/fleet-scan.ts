/**
 * The queues of many instances read at once, on every core: the calling thread and worker
 * threads (bundle/workers/queue-read.js) take jobs from one shared counter. A job is an
 * instance, or with few instances a shard of one (the queue ids whose hash falls in it, so
 * that a message that moves between queues is still seen by one thread only). Each job
 * reads, filters and, for a summary, tallies its messages where it runs; the caller merges
 * the parts in fleet order. The worker is started before the fleet is loaded, so that its
 * start-up overlaps that work; where there is no bundled worker (the sources under vitest),
 * or with POSTFLEET_QUEUE_THREADS=1, the calling thread reads everything.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { compileFilter, type FilterSpec } from './filters.js';
import { MESSAGE_QUEUES, type MessageQueue } from './layout.js';
import { scanInstance, type QueueMessage, type QueueSource, type ScanProblem } from './scan.js';
import { SerializedList, SerializedWriter, type SerializedMessages } from './serialized.js';
import { SummaryCounter, type SummaryOptions, type Tallies } from './summary.js';

export interface FleetScanRequest {
  readonly sources: readonly QueueSource[];
  /** The queues to read, in MESSAGE_QUEUES order. */
  readonly queues: readonly MessageQueue[];
  /** Read the defer logs (delay reasons). */
  readonly reasons: boolean;
  readonly filter: FilterSpec;
  /** Seconds since the epoch. */
  readonly now: number;
  /** Tally a summary of the selected messages instead of returning them. */
  readonly summary?: SummaryOptions | undefined;
  /**
   * Return the selected messages as JSON text (InstanceQueues.json) instead of objects: each
   * message is serialized where it is read, so that a large queue is never held as objects
   * (nor copied between threads as such).
   */
  readonly json?: boolean | undefined;
  /** The read cache's directory (scan.ts's ScanOptions.cacheDirectory); undefined: none. */
  readonly cacheDirectory?: string | undefined;
}

export interface InstanceQueues {
  readonly instance: string;
  /** The selected messages, by queue (showq's order), arrival and id; empty for a summary or JSON. */
  readonly messages: QueueMessage[];
  /** With a JSON request: the selected messages as JSON, in the same order. */
  readonly json: SerializedList;
  /** How many messages were selected. */
  readonly selected: number;
  readonly error?: string;
}

export interface FleetScan {
  /** In the order of the request's sources. */
  readonly instances: InstanceQueues[];
  readonly problems: ScanProblem[];
  /** With a summary request: the merged tallies. */
  readonly tallies?: Tallies;
}

export interface Job {
  readonly source: number;
  readonly shard: number;
  readonly shards: number;
}

export interface JobResult {
  readonly job: Job;
  readonly messages: QueueMessage[];
  readonly json?: SerializedMessages;
  readonly selected: number;
  readonly problems: ScanProblem[];
  readonly tallies?: Tallies;
  readonly error?: string;
}

/** Reads, filters and (for a summary) tallies one job. */
function runJob(request: FleetScanRequest, job: Job): JobResult {
  const keep = compileFilter(request.filter, request.now);
  const counter = request.summary === undefined ? undefined : new SummaryCounter(request.summary);
  const messages: QueueMessage[] = [];
  const json = request.json ? new SerializedWriter() : undefined;
  let selected = 0;
  const sink = (m: QueueMessage): void => {
    if (!keep(m)) return;
    selected++;
    if (counter !== undefined) counter.add(m);
    else if (json !== undefined) json.add(m);
    else messages.push(m);
  };
  const scan = scanInstance(request.sources[job.source]!, {
    queues: request.queues,
    reasons: request.reasons,
    shard: { index: job.shard, count: job.shards },
    sink,
    cacheDirectory: request.cacheDirectory,
  });
  return {
    job,
    messages,
    ...(json !== undefined ? { json: json.finish() } : {}),
    selected,
    problems: scan.problems,
    ...(scan.error !== undefined ? { error: scan.error } : {}),
    ...(counter !== undefined ? { tallies: counter.entries() } : {}),
  };
}

/** Runs the jobs the shared counter hands out, until none is left. */
export function takeJobs(request: FleetScanRequest, jobs: readonly Job[], next: Int32Array): JobResult[] {
  const done: JobResult[] = [];
  for (let k = Atomics.add(next, 0, 1); k < jobs.length; k = Atomics.add(next, 0, 1)) done.push(runJob(request, jobs[k]!));
  return done;
}

// This module's URL is that of dist/instances/queue/fleet-scan.js, in the bundle too (scripts/bundle.mjs).
const WORKER = fileURLToPath(new URL('../../bundle/workers/queue-read.js', import.meta.url));

/** Threads that read queues: every core up to four, or POSTFLEET_QUEUE_THREADS. */
function readerThreads(env: NodeJS.ProcessEnv = process.env): number {
  const asked = Number(env['POSTFLEET_QUEUE_THREADS']);
  return Number.isInteger(asked) && asked >= 1 ? Math.min(asked, 16) : Math.min(availableParallelism(), 4);
}

/** The jobs of a request: whole instances when there are enough of them to share, else shards. */
function planJobs(sources: number, threads: number): Job[] {
  const shards = sources >= threads * 4 ? 1 : threads;
  const jobs: Job[] = [];
  for (let source = 0; source < sources; source++) for (let shard = 0; shard < shards; shard++) jobs.push({ source, shard, shards });
  return jobs;
}

const QUEUE_ORDER = new Map<string, number>(MESSAGE_QUEUES.map((q, k) => [q, k]));

function compareMessages(a: QueueMessage, b: QueueMessage): number {
  return QUEUE_ORDER.get(a.queue_name)! - QUEUE_ORDER.get(b.queue_name)! || a.arrival_time - b.arrival_time || (a.queue_id < b.queue_id ? -1 : a.queue_id > b.queue_id ? 1 : 0);
}

export class FleetQueueReader {
  private readonly workers: Array<{ worker: Worker; answer: Promise<JobResult[]> }> = [];

  constructor(threads = readerThreads()) {
    if (!existsSync(WORKER)) return;
    for (let k = 1; k < threads; k++) {
      const worker = new Worker(WORKER);
      // Until read() waits for it, a worker does not hold the process (a command that fails first exits).
      worker.unref();
      const answer = new Promise<JobResult[]>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`queue reading worker exited with status ${code}`)));
      });
      answer.catch(() => undefined);
      this.workers.push({ worker, answer });
    }
  }

  async read(request: FleetScanRequest): Promise<FleetScan> {
    const jobs = planJobs(request.sources.length, this.workers.length + 1);
    const next = new Int32Array(new SharedArrayBuffer(4));
    for (const { worker } of this.workers) worker.postMessage({ request, jobs, next });
    const results = takeJobs(request, jobs, next);
    for (const { worker, answer } of this.workers) {
      worker.ref();
      results.push(...(await answer));
      void worker.terminate();
    }
    return merge(request, results);
  }

  /** Ends the workers without a request (a command that failed before reading). */
  close(): void {
    for (const { worker } of this.workers) void worker.terminate();
  }
}

function merge(request: FleetScanRequest, results: readonly JobResult[]): FleetScan {
  const bySource = request.sources.map(() => ({ messages: [] as QueueMessage[], json: [] as SerializedMessages[], selected: 0, error: undefined as string | undefined }));
  const problems: Array<[number, ScanProblem]> = [];
  const counter = request.summary === undefined ? undefined : new SummaryCounter(request.summary);
  for (const r of results) {
    const into = bySource[r.job.source]!;
    for (const m of r.messages) into.messages.push(m);
    if (r.json !== undefined) into.json.push(r.json);
    into.selected += r.selected;
    if (r.error !== undefined) into.error = r.error;
    for (const p of r.problems) problems.push([r.job.source, p]);
    if (r.tallies !== undefined) counter?.merge(r.tallies);
  }
  const instances = bySource.map((s, k) => ({
    instance: request.sources[k]!.instance,
    messages: s.messages.sort(compareMessages),
    json: new SerializedList(s.json),
    selected: s.selected,
    ...(s.error !== undefined ? { error: s.error } : {}),
  }));
  problems.sort((a, b) => a[0] - b[0] || (a[1].path < b[1].path ? -1 : a[1].path > b[1].path ? 1 : 0));
  return { instances, problems: problems.map(([, p]) => p), ...(counter ? { tallies: counter.entries() } : {}) };
}
