// A queue worker process for the integration test: node worker.mjs REDIS_URL OUT_DIR QUEUE
import { runWorker } from '../dist/index.js';
import { finishedRun, simulatedRun } from './simulated-run.mjs';

const [url, out, queue] = process.argv.slice(2);
const worker = await runWorker(url, (payload, run) => simulatedRun(out, run.key, payload), {
  queue,
  lockDurationMs: 1000,
  stalledIntervalMs: 400,
  finished: async (key) => finishedRun(out, key),
});
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await worker.close();
  process.exit(0);
});
