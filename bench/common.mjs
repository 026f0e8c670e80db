// Shared helpers for benchmarks: medians, environment, JSON output.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = dirname(fileURLToPath(import.meta.url));

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function timeIt(fn, { warmup = 2, runs = 7 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return { median_ms: round(median(times)), min_ms: round(Math.min(...times)), runs };
}

export const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export function environment() {
  return {
    node: process.version,
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model,
    date: new Date().toISOString(),
  };
}

/** Prints the result as one JSON object on stdout and writes it to bench/results/<name>.json. */
export function report(name, result) {
  const out = { benchmark: name, ...result, environment: environment() };
  const dir = join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** The repository root (plugins are found from here, as `promax` finds them from its working directory). */
export const repoRoot = join(benchDir, '..');

/** A model or method plugin by id, found by package-name convention like `promax train --model`. */
export async function plugin(kind, id) {
  const { loadPlugin } = await import('../packages/pipeline/dist/index.js');
  return loadPlugin(kind, id, { cwd: repoRoot });
}

/** Ids of every installed plugin of a kind (the benchmarks' model lists are derived, never kept). */
export async function pluginIds(kind) {
  const { findPluginPackages } = await import('../packages/pipeline/dist/index.js');
  return findPluginPackages({ cwd: repoRoot })
    .filter((p) => p.kind === kind)
    .map((p) => p.id);
}
