// Shared helpers for benchmarks: medians, environment, JSON output.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
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

/**
 * Wraps a trainable's compiled onnxruntime session so each call is timed and the first call's
 * feeds are kept for `profileReplay`. Diagnostic only: it reads an internal field.
 */
export function captureRuns(trainable) {
  const compiled = trainable.program.compiled;
  const run = compiled.run.bind(compiled);
  const state = { feeds: undefined, ms: 0 };
  compiled.run = async (feeds, fetches) => {
    state.feeds ??= feeds;
    const t0 = performance.now();
    const out = await run(feeds, fetches);
    state.ms += performance.now() - t0;
    return out;
  };
  return state;
}

/**
 * Replays one captured call of a training program under onnxruntime's profiler and returns the
 * mean kernel milliseconds per replay, by operator type and by node (`op name [output shape]`).
 */
export async function profileReplay(trainable, feeds, engine, replays = 3) {
  const ort = createRequire(new URL('../packages/tensor/package.json', import.meta.url))('onnxruntime-node');
  const prefix = join(tmpdir(), `promax-profile-${process.pid}`);
  const session = await ort.InferenceSession.create(trainable.program.modelBytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...engine,
    enableProfiling: true,
    profileFilePrefix: prefix,
    logSeverityLevel: 3,
  });
  for (let i = 0; i < replays; i++) await session.run(feeds);
  await session.endProfiling();
  await session.release();
  const file = readdirSync(tmpdir()).find((f) => join(tmpdir(), f).startsWith(prefix));
  const events = JSON.parse(readFileSync(join(tmpdir(), file), 'utf8'));
  rmSync(join(tmpdir(), file));
  const byOp = {};
  const byNode = {};
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const ms = e.dur / 1000 / replays;
    byOp[e.args.op_name] = (byOp[e.args.op_name] ?? 0) + ms;
    const shape = JSON.stringify(e.args.output_type_shape ?? '');
    const node = `${e.args.op_name} ${e.name.replace(/_kernel_time$/, '')} ${shape}`;
    byNode[node] = (byNode[node] ?? 0) + ms;
  }
  return { byOp, byNode };
}

/** The largest `n` entries of a name → ms map, rounded, largest first. */
export const topMs = (m, n, min = 0) =>
  Object.fromEntries(
    Object.entries(m)
      .sort((a, b) => b[1] - a[1])
      .filter(([, ms]) => ms >= min)
      .slice(0, n)
      .map(([k, ms]) => [k, round(ms, 1)]),
  );

/**
 * A LightGCN trainable with one rival method at Amazon-book shapes (the methods benchmarks' setup):
 * the method's dataset preset, RLMRec-Gen's 2-layer LightGCN, embedding 32, seed 2025.
 */
export async function methodTrainable(id, ds, inputs, engine) {
  const { createModelTrainable, resolvePluginSettings } = await import('../packages/pipeline/dist/index.js');
  const def = await plugin('method', id);
  const lightgcn = await plugin('model', 'lightgcn');
  // RLMRec-Gen's released LightGCN uses 2 layers on Amazon; the others 3.
  const model = lightgcn.create(id === 'rlmrec-gen' ? { layers: 2 } : {});
  const settings = resolvePluginSettings(def, { dataset: 'amazon-book' }).settings;
  const prepared = await def.create(settings).doPrepare({
    dataset: { name: 'amazon-book', numUsers: ds.numUsers, numItems: ds.numItems, train: ds.train },
    model: { modelId: 'lightgcn', capabilities: model.capabilities, embeddingSize: 32, encodesViews: true },
    inputs,
    seed: 2025,
  });
  return createModelTrainable({ model, data: ds, seed: 2025, l2: 1e-6, engine, methods: [{ id, prepared }] });
}

/**
 * Times `steps` training batches (1..steps of the sampler, after batch 0 as a warm-up), split into
 * the onnxruntime call and the Adam step, and keeps one batch's feeds for `profileReplay`.
 * Returns per-batch wall, process-CPU, onnxruntime and Adam milliseconds.
 */
export async function timeBatches(trainable, sampler, steps) {
  const runs = captureRuns(trainable);
  await trainable.trainBatch(sampler.batch(0)); // warm-up
  runs.ms = 0;
  let adamMs = 0;
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  for (let b = 1; b <= steps; b++) {
    const { grads } = await trainable.computeGradients(sampler.batch(b));
    const a0 = performance.now();
    trainable.optimizer.step(trainable.store, grads);
    adamMs += performance.now() - a0;
  }
  const wallMs = (performance.now() - w0) / steps;
  const cpu = process.cpuUsage(c0);
  return {
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000 / steps,
    onnxruntimeMs: runs.ms / steps,
    adamMs: adamMs / steps,
    feeds: runs.feeds,
  };
}
