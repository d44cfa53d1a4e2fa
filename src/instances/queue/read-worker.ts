/**
 * A worker thread of fleet-scan.ts's FleetQueueReader: given the request, the jobs and the
 * shared counter, it runs the jobs the counter hands it and answers with their results.
 */
import { parentPort } from 'node:worker_threads';
import { takeJobs, type FleetScanRequest, type Job } from './fleet-scan.js';
import { transferables } from './serialized.js';

parentPort?.once('message', ({ request, jobs, next }: { request: FleetScanRequest; jobs: Job[]; next: Int32Array }) => {
  const results = takeJobs(request, jobs, next);
  // The messages' JSON texts are moved, not copied.
  parentPort?.postMessage(results, results.flatMap((r) => (r.json !== undefined ? transferables(r.json) : [])));
});
