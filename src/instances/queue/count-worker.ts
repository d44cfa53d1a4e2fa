/**
 * The worker thread of count.ts's QueueScanner: given the directories and the shared
 * counter, it scans the ones the counter hands it and answers with them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { takeScans } from './count.js';

const { ages } = workerData as { ages: boolean };
parentPort?.once('message', ({ directories, next }: { directories: string[]; next: Int32Array }) => {
  parentPort?.postMessage(takeScans(directories, next, ages));
});
