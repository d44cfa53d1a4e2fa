/**
 * A worker thread of fleet-scan.ts's FleetQueueReader: given the request, the jobs and the
 * shared counter, it runs the jobs the counter hands it and answers with their results.
 */
import { parentPort } from 'node:worker_threads';
import { takeJobs, type FleetScanRequest, type Job } from './fleet-scan.js';

parentPort?.once('message', ({ request, jobs, next }: { request: FleetScanRequest; jobs: Job[]; next: Int32Array }) => {
  parentPort?.postMessage(takeJobs(request, jobs, next));
});
