/**
 * The worker thread of count.ts's QueueScanner: given the directories and the shared
 * counter, it scans the ones the counter hands it and answers with them (and the recipient
 * domains it counted, when asked to).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { takeScans, type WorkerAnswer } from './count.js';

const { ages, domains } = workerData as { ages: boolean; domains: boolean };
parentPort?.once('message', ({ directories, next }: { directories: string[]; next: Int32Array }) => {
  const counted = domains ? new Map<string, number>() : undefined;
  const answer: WorkerAnswer = { scans: takeScans(directories, next, ages, counted), domains: [...(counted ?? [])] };
  parentPort?.postMessage(answer);
});
