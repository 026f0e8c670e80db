// Training-engine benchmark at Amazon-book shapes. Imports the BUILT packages (run `npx tsc -b`
// first, or `pnpm bench:engine`). Prints one JSON object on stdout and writes it to
// bench/results/engine.json. Medians over several runs after warm-up.
//
//   node bench/engine-bench.mjs [--runs 7] [--warmup 2] [--no-torch] [--only promax_step]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { Rng } from '../packages/core/dist/index.js';
import {
  Adam,
  GraphBuilder,
  ParameterStore,
  adjacencyFeeds,
  compileTraining,
  normalizedBipartiteAdjacency,
  ort,
  xavierUniform,
} from '../packages/tensor/dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

export const SHAPES = {
  users: 11000,
  items: 9332,
  trainEdges: 120464,
  augEdges: 144663,
  dim: 32,
  layers: 3,
  batch: 4096,
  sdrUsers: 3000,
  tau: 0.2,
  lambdaReg: 1e-6,
  lambdaSdr: 1.5,
  lambdaS2dr: 0.05,
};

// ------------------------------------------------------------------ data

/** Entries of a .zip archive (stored or deflated), by name. */
function readZip(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip archive');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map();
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const lNameLen = buf.readUInt16LE(local + 26);
    const lExtraLen = buf.readUInt16LE(local + 28);
    const start = local + 30 + lNameLen + lExtraLen;
    const raw = buf.subarray(start, start + csize);
    out.set(name, method === 0 ? Buffer.from(raw) : inflateRawSync(raw));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** A little-endian, C-order .npy array. */
function readNpy(buf) {
  const headerLen = buf[6] === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const off = buf[6] === 1 ? 10 : 12;
  const header = buf.toString('latin1', off, off + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/
    .exec(header)[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const body = buf.subarray(off + headerLen);
  const copy = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength);
  const types = { '<i4': Int32Array, '<i8': BigInt64Array, '<f4': Float32Array, '<f8': Float64Array };
  if (descr.startsWith('|S')) return { shape, data: body.toString('latin1').replace(/\0+$/, '') };
  const T = types[descr];
  if (!T) throw new Error(`unsupported npy dtype ${descr}`);
  return { shape, data: new T(copy) };
}

/** scipy.sparse.save_npz CSR matrix → CsrMatrix. */
export function loadCsrNpz(path) {
  const files = readZip(readFileSync(path));
  const get = (k) => readNpy(files.get(`${k}.npy`));
  const shape = Array.from(get('shape').data, Number);
  const toI32 = (a) => (a instanceof Int32Array ? a : Int32Array.from(a, Number));
  return { rows: shape[0], cols: shape[1], indptr: toI32(get('indptr').data), indices: toI32(get('indices').data) };
}

/** A random CSR matrix with `nnz` distinct entries (fallback when the real data is absent). */
function randomCsr(rows, cols, nnz, rng) {
  const per = new Array(rows).fill(0).map(() => new Set());
  for (let u = 0; u < rows; u++) per[u].add(rng.nextInt(cols));
  let have = rows;
  while (have < nnz) {
    const u = rng.nextInt(rows);
    const i = rng.nextInt(cols);
    if (!per[u].has(i)) {
      per[u].add(i);
      have++;
    }
  }
  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(nnz);
  let k = 0;
  for (let u = 0; u < rows; u++) {
    for (const i of [...per[u]].sort((a, b) => a - b)) indices[k++] = i;
    indptr[u + 1] = k;
  }
  return { rows, cols, indptr, indices };
}

function dataDir() {
  if (process.env.PROMAX_DATA_DIR) return resolve(process.env.PROMAX_DATA_DIR);
  return resolve(root, '..', 'shared', 'data');
}

export function loadGraphs(rng) {
  const dir = join(dataDir(), 'amazon_book');
  const trn = join(dir, 'trn_mat.npz');
  const aug = join(dir, 'aug_trn_mat.npz');
  if (existsSync(trn) && existsSync(aug)) {
    return { source: `${dir}/{trn_mat,aug_trn_mat}.npz`, train: loadCsrNpz(trn), augmented: loadCsrNpz(aug) };
  }
  const train = randomCsr(SHAPES.users, SHAPES.items, SHAPES.trainEdges, rng);
  return { source: 'synthetic (random graphs of Amazon-book size)', train, augmented: randomCsr(SHAPES.users, SHAPES.items, SHAPES.augEdges, rng) };
}

/** B (user, positive, negative) triples: uniform train interactions, uniform negatives not in the row. */
export function sampleBatch(train, rng, size) {
  const nnz = train.indptr[train.rows];
  const users = new Int32Array(size);
  const pos = new Int32Array(size);
  const neg = new Int32Array(size);
  for (let b = 0; b < size; b++) {
    const k = rng.nextInt(nnz);
    let lo = 0;
    let hi = train.rows;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (train.indptr[mid] <= k) lo = mid;
      else hi = mid;
    }
    users[b] = lo;
    pos[b] = train.indices[k];
    const row = new Set(train.indices.subarray(train.indptr[lo], train.indptr[lo + 1]));
    let j = rng.nextInt(train.cols);
    while (row.has(j)) j = rng.nextInt(train.cols);
    neg[b] = j;
  }
  const uniq = (a) => Int32Array.from(new Set(a)).sort();
  return { users, pos, neg, uniqueUsers: uniq(users), uniqueItems: uniq(pos) };
}

function randomMatrix(rows, cols, rng) {
  const a = new Float32Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = rng.nextNormal();
  return a;
}

// ------------------------------------------------------------------ graphs

function lightgcn(g, x0, adj, layers) {
  let x = x0;
  const out = [];
  for (let l = 0; l < layers; l++) {
    x = g.propagate(x, adj);
    out.push(x);
  }
  return g.addN(out);
}

/** 1. Three-layer LightGCN propagation, loss Σ Z ⊙ G for a fixed G (forward + backward). */
export function buildPropagation() {
  const { users, items, dim, layers } = SHAPES;
  const n = users + items;
  const g = new GraphBuilder();
  const e = g.param('emb', [n, dim]);
  const adj = g.adjacency('A', { rows: n, form: 'factored', symmetric: true });
  const z = lightgcn(g, e, adj, layers);
  const loss = g.reduceSum(g.mul(z, g.input('G', 'float32', [n, dim])));
  return { g, loss };
}

/** 2. SDR: soft-target CE of softmax(cos(z_u, z_i)/τ) over all items against a given teacher p. */
export function buildSdr() {
  const { items, dim, sdrUsers, tau } = SHAPES;
  const g = new GraphBuilder();
  const zu = g.param('zu', [sdrUsers, dim]);
  const zi = g.param('zi', [items, dim]);
  const p = g.input('p', 'float32', [sdrUsers, items]);
  const loss = g.reduceMean(g.softCrossEntropy(g.cosineSimilarity(zu, zi, 1 / tau), p));
  return { g, loss };
}

/** 3. InfoNCE B×B with in-batch negatives. */
export function buildInfoNce() {
  const { batch, dim, tau } = SHAPES;
  const g = new GraphBuilder();
  const loss = g.infoNce(g.param('x', [batch, dim]), g.param('y', [batch, dim]), tau);
  return { g, loss };
}

/**
 * 4. The LightGCN + ProMax loss of method.md §4: propagation over A and A′ with the same
 * embeddings, BPR, λreg·(‖E_u‖² + ‖E_i‖²), SDR against the profile distribution p (computed
 * in-graph from the profile vectors, no gradient) weighted by its entropy, and S2DR's three
 * InfoNCE terms.
 */
export function buildPromaxStep(options = {}) {
  const { users: nU, items: nI, dim, layers, tau, lambdaReg, lambdaSdr, lambdaS2dr } = SHAPES;
  const epsilon = options.epsilon ?? 0;
  const g = new GraphBuilder();
  const eu = g.param('user_emb', [nU, dim]);
  const ei = g.param('item_emb', [nI, dim]);
  const a = g.adjacency('A', { rows: nU + nI, symmetric: true });
  const aAug = g.adjacency('A_aug', { rows: nU + nI, symmetric: true });
  const x0 = g.concat([eu, ei], 0);
  const [zu, zi] = g.split(lightgcn(g, x0, a, layers), [nU, nI]);
  const [zu2, zi2] = g.split(lightgcn(g, x0, aAug, layers), [nU, nI]);
  const users = g.input('users', 'int32', ['B']);
  const pos = g.input('pos', 'int32', ['B']);
  const neg = g.input('neg', 'int32', ['B']);
  const ub = g.input('batch_users', 'int32', ['U']);
  const ib = g.input('batch_items', 'int32', ['I']);
  const profU = g.input('profile_users', 'float32', ['U', dim]);
  const profI = g.input('profile_items', 'float32', [nI, dim]);

  const u = g.gather(zu, users);
  const bpr = g.bprLoss(g.rowDot(u, g.gather(zi, pos)), g.rowDot(u, g.gather(zi, neg)));
  const reg = g.mul(g.add(g.sumSquares(eu), g.sumSquares(ei)), lambdaReg);

  // SDR: p(i|u) from profiles (τp = 0.2), confidence weights from its entropy, no gradient.
  const pl = g.cosineSimilarity(profU, profI, 1 / tau);
  const p = g.softmax(pl);
  const entropy = g.sub(g.logSumExp(pl, 1), g.sumProduct(p, pl));
  const w = g.stopGradient(g.clip(g.sub(1, g.div(entropy, Math.log(nI))), 0.1, 1));
  const zuB = g.gather(zu, ub);
  const q = g.cosineSimilarity(zuB, zi, 1 / tau);
  const sdr = g.mul(g.reduceMean(g.mul(w, g.softCrossEntropy(q, p, { epsilon }))), lambdaSdr);

  // S2DR: original ↔ augmented views.
  const lu = g.infoNce(zuB, g.gather(zu2, ub), tau);
  const li = g.infoNce(g.gather(zi, ib), g.gather(zi2, ib), tau);
  const lui = g.mul(g.add(g.infoNce(u, g.gather(zi2, pos), tau), g.infoNce(g.gather(zu2, users), g.gather(zi, pos), tau)), 0.5);
  const s2dr = g.mul(g.addN([lu, li, lui]), lambdaS2dr);

  const loss = g.addN([bpr, reg, sdr, s2dr]);
  return { g, loss, outputs: { bpr, reg, sdr, s2dr } };
}

export function promaxFeeds(graphs, batch, profiles) {
  return {
    ...adjacencyFeeds('A', graphs.adj),
    ...adjacencyFeeds('A_aug', graphs.adjAug),
    users: batch.users,
    pos: batch.pos,
    neg: batch.neg,
    batch_users: batch.uniqueUsers,
    batch_items: batch.uniqueItems,
    profile_users: { data: gatherRows(profiles.users, batch.uniqueUsers, SHAPES.dim), dims: [batch.uniqueUsers.length, SHAPES.dim] },
    profile_items: profiles.items,
  };
}

function gatherRows(m, rows, d) {
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, k) => out.set(m.subarray(r * d, r * d + d), k * d));
  return out;
}

// ------------------------------------------------------------------ timing

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeIt(fn, runs, warmup) {
  for (let i = 0; i < warmup; i++) await fn();
  const ts = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ts.push(performance.now() - t);
  }
  return { median: median(ts), min: Math.min(...ts), runs: ts.map((t) => +t.toFixed(1)) };
}

function round(x, k = 1) {
  return Number(x.toFixed(k));
}

function parseArgs(argv) {
  const out = { runs: 7, warmup: 2, torch: true, only: null };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') out.runs = Number(argv[++i]);
    else if (a === '--warmup') out.warmup = Number(argv[++i]);
    else if (a === '--no-torch') out.torch = false;
    else if (a === '--only') out.only = argv[++i];
  }
  return out;
}

function runTorchPeer(runs, warmup) {
  const script = join(here, 'peers', 'promax_step_torch.py');
  const probe = spawnSync('python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) return { error: 'torch is not importable by python3' };
  const r = spawnSync('python3', [script, '--runs', String(runs), '--warmup', String(warmup), '--data', join(dataDir(), 'amazon_book')], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) return { error: `torch peer failed: ${r.stderr.slice(-2000)}` };
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

async function main() {
  const args = parseArgs(process.argv);
  const rng = new Rng(2025);
  const graphs = loadGraphs(rng);
  graphs.adj = normalizedBipartiteAdjacency(graphs.train);
  graphs.adjAug = normalizedBipartiteAdjacency(graphs.augmented);
  const engine = {};
  const result = {
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, onnxruntime: ort.env.versions?.common ?? 'onnxruntime-node' },
    shapes: { ...SHAPES, nodes: SHAPES.users + SHAPES.items, directedEdges: graphs.adj.src.length, directedEdgesAug: graphs.adjAug.src.length },
    data: graphs.source,
    runs: args.runs,
    warmup: args.warmup,
  };
  const want = (k) => !args.only || args.only.split(',').includes(k);
  const { users, items, dim, batch: B, sdrUsers } = SHAPES;

  if (want('propagation')) {
    const { g, loss } = buildPropagation();
    const program = await compileTraining({ graph: g, loss }, engine);
    const store = new ParameterStore().initialize(g, rng);
    const feeds = { ...adjacencyFeeds('A', graphs.adj), G: randomMatrix(users + items, dim, rng) };
    const t = await timeIt(() => program.run(feeds, store), args.runs, args.warmup);
    result.propagation_ms = round(t.median);
    result.propagation_runs = t.runs;
  }
  if (want('sdr')) {
    const { g, loss } = buildSdr();
    const program = await compileTraining({ graph: g, loss }, engine);
    const store = new ParameterStore().initialize(g, rng);
    const p = randomMatrix(sdrUsers, items, rng);
    for (let r = 0; r < sdrUsers; r++) {
      const row = p.subarray(r * items, (r + 1) * items);
      let s = 0;
      for (let j = 0; j < items; j++) s += row[j] = Math.exp(row[j]);
      for (let j = 0; j < items; j++) row[j] /= s;
    }
    const t = await timeIt(() => program.run({ p }, store), args.runs, args.warmup);
    result.sdr_ms = round(t.median);
    result.sdr_runs = t.runs;
  }
  if (want('infonce')) {
    const { g, loss } = buildInfoNce();
    const program = await compileTraining({ graph: g, loss }, engine);
    const store = new ParameterStore().initialize(g, rng);
    const t = await timeIt(() => program.run({}, store), args.runs, args.warmup);
    result.infonce_ms = round(t.median);
    result.infonce_runs = t.runs;
  }
  if (want('promax_step')) {
    const { g, loss, outputs } = buildPromaxStep();
    const tc = performance.now();
    const program = await compileTraining({ graph: g, loss, outputs }, engine);
    result.promax_compile_ms = round(performance.now() - tc);
    const store = new ParameterStore().initialize(g, new Rng(2025), xavierUniform());
    const adam = new Adam({ lr: 1e-3 });
    const profiles = { users: randomMatrix(users, dim, rng), items: randomMatrix(items, dim, rng) };
    const batches = Array.from({ length: 4 }, () => sampleBatch(graphs.train, rng, B));
    const feedsList = batches.map((b) => promaxFeeds(graphs, b, profiles));
    result.batch_unique_users = batches.map((b) => b.uniqueUsers.length);
    result.batch_unique_items = batches.map((b) => b.uniqueItems.length);
    let k = 0;
    let last;
    const step = async () => {
      last = await program.run(feedsList[k++ % feedsList.length], store);
      adam.step(store, last.grads);
    };
    const t = await timeIt(step, args.runs, args.warmup);
    result.promax_step_ms = round(t.median);
    result.promax_step_runs = t.runs;
    result.promax_last_loss = {
      total: round(last.loss, 5),
      ...Object.fromEntries(Object.entries(last.outputs).map(([n, v]) => [n, round(v.data[0], 5)])),
    };
    const ta = await timeIt(() => adam.step(store, last.grads), args.runs, 1);
    result.adam_update_ms = round(ta.median, 2);
    if (args.torch) {
      const torch = runTorchPeer(args.runs, args.warmup);
      if (torch.error) result.torch_error = torch.error;
      else {
        result.torch_promax_step_ms = round(torch.step_ms);
        result.torch_threads = torch.threads;
        result.torch_version = torch.version;
        result.speedup_vs_torch = round(torch.step_ms / result.promax_step_ms, 2);
      }
    }
  }
  const outDir = join(here, 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'engine.json'), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    process.stderr.write(`${e.stack ?? e}\n`);
    process.exit(1);
  });
}
