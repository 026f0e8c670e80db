// A stand-in for one training run, shared by the queue integration test and its worker processes:
// deterministic "metrics" from the payload, a pause in the middle (so a worker can be killed
// mid-run), the result written to OUT/<key>.json only once (the finished-run key).
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function metricsOf(payload) {
  let s = 0;
  for (let i = 1; i <= 1000; i++) s += Math.sin(payload.seed * i + payload.lr * 1e3) / i;
  return { 'recall@20': Math.abs(s) / 10, seed: payload.seed, lr: payload.lr };
}

export async function simulatedRun(out, key, payload) {
  appendFileSync(join(out, 'events.log'), `start ${process.pid} ${key}\n`);
  await new Promise((r) => setTimeout(r, payload.sleepMs));
  const metrics = metricsOf(payload);
  const file = join(out, `${key}.json`);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(metrics));
  renameSync(tmp, file);
  appendFileSync(join(out, 'events.log'), `done ${process.pid} ${key}\n`);
  return metrics;
}

export function finishedRun(out, key) {
  const file = join(out, `${key}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}
