// Training-engine benchmark at Amazon-book shapes (11,000 users, 9,332 items, the real train and
// augmented graphs from the shared data directory when present, else random graphs of that size;
// d = 32, batch 4,096). Imports the BUILT packages: run `npx tsc -b` first (`pnpm bench:engine`
// does). Prints one JSON object on stdout and writes it to bench/results/engine.json; times are
// medians over --runs runs after --warmup runs.
//
//   node bench/engine-bench.mjs [--runs 7] [--warmup 2] [--no-torch]
//                               [--only propagation,formulations,sdr,infonce,promax_step]
//
// With python3 + torch importable, it also times the PyTorch CPU peer of the ProMax step
// (bench/peers/promax_step_torch.py) in the same run and cross-checks one step's loss and
// gradients against PyTorch autograd in float64.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Rng } from '../packages/core/dist/index.js';
import { loadSparseMatrix, resolveDataDir } from '../packages/data/dist/index.js';
import {
  Adam,
  adjacencyFeeds,
  compileModel,
  compileTraining,
  GraphBuilder,
  normalizedBipartiteAdjacency,
  ParameterStore,
  xavierUniform,
} from '../packages/tensor/dist/index.js';

// onnxruntime-node is the tensor package's dependency (it no longer re-exports it).
const ort = createRequire(new URL('../packages/tensor/package.json', import.meta.url))('onnxruntime-node');

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
  return resolveDataDir() ?? resolve(root, '..', 'shared', 'data');
}

export function loadGraphs(rng) {
  const dir = join(dataDir(), 'amazon_book');
  const trn = join(dir, 'trn_mat.npz');
  const aug = join(dir, 'aug_trn_mat.npz');
  if (existsSync(trn) && existsSync(aug)) {
    return {
      source: `${dir}/{trn_mat,aug_trn_mat}.npz`,
      train: loadSparseMatrix(trn),
      augmented: loadSparseMatrix(aug),
    };
  }
  const train = randomCsr(SHAPES.users, SHAPES.items, SHAPES.trainEdges, rng);
  return {
    source: 'synthetic (random graphs of Amazon-book size)',
    train,
    augmented: randomCsr(SHAPES.users, SHAPES.items, SHAPES.augEdges, rng),
  };
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
export function buildPropagation(form = 'factored') {
  const { users, items, dim, layers } = SHAPES;
  const n = users + items;
  const g = new GraphBuilder();
  const e = g.param('emb', [n, dim]);
  const adj = g.adjacency('A', { rows: n, form, symmetric: true });
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
  const lui = g.mul(
    g.add(g.infoNce(u, g.gather(zi2, pos), tau), g.infoNce(g.gather(zu2, users), g.gather(zi, pos), tau)),
    0.5,
  );
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
    profile_users: {
      data: gatherRows(profiles.users, batch.uniqueUsers, SHAPES.dim),
      dims: [batch.uniqueUsers.length, SHAPES.dim],
    },
    profile_items: profiles.items,
  };
}

function gatherRows(m, rows, d) {
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, k) => {
    out.set(m.subarray(r * d, r * d + d), k * d);
  });
  return out;
}

// ------------------------------------------------------------------ sparse formulations

/**
 * Forward-only 3-layer propagation Y = Σ_l Â^l X written directly as ONNX graphs in the
 * formulations that were compared; the winner is what `propagate` lowers to.
 */
async function sparseFormulations(adjData, runs, warmup, rng) {
  const { dim: d, layers } = SHAPES;
  const n = adjData.rows;
  const src = adjData.src;
  const dst = adjData.dst;
  const e = src.length;
  const scale = adjData.left;
  const w = Float32Array.from(src, (s, k) => scale[Number(s)] * scale[Number(dst[k])]);
  const x = randomMatrix(n, d, rng);
  const int = (v) => ({ type: 'int', value: v });
  const add = { reduction: { type: 'string', value: 'add' } };
  const zeros = { name: 'zeros', dtype: 'float32', dims: [n, d], data: new Float32Array(n * d) };
  const ax1 = { name: 'ax1', dtype: 'int64', dims: [1], data: BigInt64Array.of(1n) };
  const t = (data, dims) =>
    new ort.Tensor(
      data instanceof Float32Array ? 'float32' : data instanceof Int32Array ? 'int32' : 'int64',
      data,
      dims,
    );
  const time = async (name, layer, inputs, feeds, inits = []) => {
    const nodes = [];
    let cur = 'x';
    const outs = [];
    for (let l = 0; l < layers; l++) {
      const ns = layer(cur, `l${l}_`);
      nodes.push(...ns);
      cur = ns[ns.length - 1].outputs[0];
      outs.push(cur);
    }
    nodes.push({ op: 'Sum', inputs: outs, outputs: ['y'] });
    const graph = await compileModel({
      graph: {
        name,
        inputs: [{ name: 'x', dtype: 'float32', shape: [n, d] }, ...inputs],
        outputs: [{ name: 'y', dtype: 'float32' }],
        initializers: [zeros, ax1, ...inits],
        nodes,
      },
    });
    const all = { x: t(x, [n, d]), ...feeds };
    const r = await timeIt(() => graph.run(all), runs, warmup);
    await graph.release();
    return round(r.median, 1);
  };
  const i64 = (name) => ({ name, dtype: 'int64' });
  const f32 = (name) => ({ name, dtype: 'float32' });
  const dst2 = t(dst, [e, 1]);
  const out = {};
  out.factored_gather_scatternd = await time(
    'factored',
    (x0, p) => [
      { op: 'Mul', inputs: [x0, 'scale'], outputs: [`${p}xs`] },
      { op: 'Gather', inputs: [`${p}xs`, 'src'], outputs: [`${p}g`], attributes: { axis: int(0) } },
      { op: 'ScatterND', inputs: ['zeros', 'dst', `${p}g`], outputs: [`${p}s`], attributes: add },
      { op: 'Mul', inputs: [`${p}s`, 'scale'], outputs: [`${p}y`] },
    ],
    [i64('src'), i64('dst'), f32('scale')],
    { src: t(src, [e]), dst: dst2, scale: t(scale, [n, 1]) },
  );
  out.weighted_gather_mul_scatternd = await time(
    'weighted',
    (x0, p) => [
      { op: 'Gather', inputs: [x0, 'src'], outputs: [`${p}g`], attributes: { axis: int(0) } },
      { op: 'Mul', inputs: [`${p}g`, 'w'], outputs: [`${p}m`] },
      { op: 'ScatterND', inputs: ['zeros', 'dst', `${p}m`], outputs: [`${p}y`], attributes: add },
    ],
    [i64('src'), i64('dst'), f32('w')],
    { src: t(src, [e]), dst: dst2, w: t(w, [e, 1]) },
  );
  const dstWide = new BigInt64Array(e * d);
  for (let k = 0; k < e; k++) dstWide.fill(dst[k], k * d, k * d + d);
  out.scatter_elements_add = await time(
    'scatter-elements',
    (x0, p) => [
      { op: 'Gather', inputs: [x0, 'src'], outputs: [`${p}g`], attributes: { axis: int(0) } },
      { op: 'Mul', inputs: [`${p}g`, 'w'], outputs: [`${p}m`] },
      {
        op: 'ScatterElements',
        inputs: ['zeros', 'dstw', `${p}m`],
        outputs: [`${p}y`],
        attributes: { axis: int(0), ...add },
      },
    ],
    [i64('src'), i64('dstw'), f32('w')],
    { src: t(src, [e]), dstw: t(dstWide, [e, d]), w: t(w, [e, 1]) },
  );
  // Segment sums as differences of a running sum over dst-sorted edges (float32 cancellation risk).
  const ptr = new BigInt64Array(n + 1);
  for (let k = 0, node = 0; node <= n; node++) {
    while (k < e && Number(dst[k]) < node) k++;
    ptr[node] = BigInt(k);
  }
  out.cumsum_segment_sum = await time(
    'cumsum',
    (x0, p) => [
      { op: 'Gather', inputs: [x0, 'src'], outputs: [`${p}g`], attributes: { axis: int(0) } },
      { op: 'Mul', inputs: [`${p}g`, 'w'], outputs: [`${p}m`] },
      { op: 'Concat', inputs: ['zrow', `${p}m`], outputs: [`${p}c`], attributes: { axis: int(0) } },
      { op: 'CumSum', inputs: [`${p}c`, 'ax0'], outputs: [`${p}cs`] },
      { op: 'Gather', inputs: [`${p}cs`, 'ends'], outputs: [`${p}e`], attributes: { axis: int(0) } },
      { op: 'Gather', inputs: [`${p}cs`, 'starts'], outputs: [`${p}b`], attributes: { axis: int(0) } },
      { op: 'Sub', inputs: [`${p}e`, `${p}b`], outputs: [`${p}y`] },
    ],
    [i64('src'), f32('w'), i64('ends'), i64('starts')],
    { src: t(src, [e]), w: t(w, [e, 1]), ends: t(ptr.slice(1), [n]), starts: t(ptr.slice(0, n), [n]) },
    [
      { name: 'zrow', dtype: 'float32', dims: [1, d], data: new Float32Array(d) },
      { name: 'ax0', dtype: 'int64', dims: [], data: BigInt64Array.of(0n) },
    ],
  );
  // Padded ELL: destinations bucketed by in-degree (powers of two), Gather [n_b, w_b, d], weighted ReduceSum.
  const indeg = new Int32Array(n);
  for (const v of dst) indeg[Number(v)]++;
  const start = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) start[i + 1] = start[i] + indeg[i];
  const buckets = new Map();
  for (let i = 0; i < n; i++) {
    const b = 2 ** Math.ceil(Math.log2(Math.max(indeg[i], 1)));
    if (!buckets.has(b)) buckets.set(b, []);
    buckets.get(b).push(i);
  }
  const widths = [...buckets.keys()].sort((a, b) => a - b);
  const ellFeeds = {};
  const ellInputs = [];
  const order = [];
  let padded = 0;
  for (const k of widths) {
    const members = buckets.get(k);
    const idx = new BigInt64Array(members.length * k).fill(BigInt(n));
    const ww = new Float32Array(members.length * k);
    members.forEach((node, r) => {
      for (let j = 0; j < indeg[node]; j++) {
        idx[r * k + j] = src[start[node] + j];
        ww[r * k + j] = w[start[node] + j];
      }
      order.push(node);
    });
    padded += members.length * k;
    ellFeeds[`i${k}`] = t(idx, [members.length, k]);
    ellFeeds[`w${k}`] = t(ww, [members.length, k, 1]);
    ellInputs.push(i64(`i${k}`), f32(`w${k}`));
  }
  const inv = new BigInt64Array(n);
  order.forEach((node, pos) => {
    inv[node] = BigInt(pos);
  });
  ellFeeds.inv = t(inv, [n]);
  ellInputs.push(i64('inv'));
  out.padded_ell_buckets = await time(
    'ell',
    (x0, p) => {
      const ns = [{ op: 'Concat', inputs: [x0, 'zrow'], outputs: [`${p}xp`], attributes: { axis: int(0) } }];
      const parts = [];
      for (const k of widths) {
        ns.push(
          { op: 'Gather', inputs: [`${p}xp`, `i${k}`], outputs: [`${p}g${k}`], attributes: { axis: int(0) } },
          { op: 'Mul', inputs: [`${p}g${k}`, `w${k}`], outputs: [`${p}m${k}`] },
          {
            op: 'ReduceSum',
            inputs: [`${p}m${k}`, 'ax1'],
            outputs: [`${p}r${k}`],
            attributes: { keepdims: int(0) },
          },
        );
        parts.push(`${p}r${k}`);
      }
      ns.push(
        { op: 'Concat', inputs: parts, outputs: [`${p}cat`], attributes: { axis: int(0) } },
        { op: 'Gather', inputs: [`${p}cat`, 'inv'], outputs: [`${p}y`], attributes: { axis: int(0) } },
      );
      return ns;
    },
    ellInputs,
    ellFeeds,
    [{ name: 'zrow', dtype: 'float32', dims: [1, d], data: new Float32Array(d) }],
  );
  out.padded_ell_fill = round(padded / e, 2);
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

function torchAvailable() {
  return spawnSync('python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
}

/**
 * One step's loss and gradients recomputed in float64 by PyTorch autograd from the same
 * parameters, batch and profiles (a check of the whole ProMax graph at full size).
 */
async function crossCheckWithTorch(graphs, batch, profiles, epsilon, rng) {
  const { g, loss, outputs } = buildPromaxStep({ epsilon });
  const program = await compileTraining({ graph: g, loss, outputs });
  const store = new ParameterStore().initialize(g, new Rng(3));
  for (const n of ['user_emb', 'item_emb']) {
    const a = store.get(n);
    for (let i = 0; i < a.length; i++) a[i] = 0.3 * rng.nextNormal();
  }
  const r = await program.run(promaxFeeds(graphs, batch, profiles), store);
  const dir = mkdtempSync(join(os.tmpdir(), 'promax-engine-check-'));
  try {
    const w = (name, a) =>
      writeFileSync(join(dir, `${name}.bin`), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    w('user_emb', store.get('user_emb'));
    w('item_emb', store.get('item_emb'));
    w('users', batch.users);
    w('pos', batch.pos);
    w('neg', batch.neg);
    w('ub', batch.uniqueUsers);
    w('ib', batch.uniqueItems);
    w('prof_users', gatherRows(profiles.users, batch.uniqueUsers, SHAPES.dim));
    w('prof_items', profiles.items);
    w('grad_user_emb', r.grads.get('user_emb'));
    w('grad_item_emb', r.grads.get('item_emb'));
    w('epsilon', Float64Array.of(epsilon));
    const ours = {
      loss: r.loss,
      ...Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, v.data[0]])),
    };
    writeFileSync(join(dir, 'engine.json'), JSON.stringify(ours));
    const script = join(here, 'peers', 'promax_step_torch.py');
    const p = spawnSync('python3', [script, '--check', dir, '--data', join(dataDir(), 'amazon_book')], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    if (p.status !== 0) return { error: p.stderr.slice(-2000) };
    const out = JSON.parse(p.stdout.trim().split('\n').pop());
    return Object.fromEntries(
      Object.entries(out).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toPrecision(3)) : v]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runTorchPeer(runs, warmup) {
  const script = join(here, 'peers', 'promax_step_torch.py');
  const probe = spawnSync('python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) return { error: 'torch is not importable by python3' };
  const r = spawnSync(
    'python3',
    [script, '--runs', String(runs), '--warmup', String(warmup), '--data', join(dataDir(), 'amazon_book')],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    },
  );
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
    machine: {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      node: process.version,
      onnxruntime: ort.env.versions?.common ?? 'onnxruntime-node',
    },
    shapes: {
      ...SHAPES,
      nodes: SHAPES.users + SHAPES.items,
      directedEdges: graphs.adj.src.length,
      directedEdgesAug: graphs.adjAug.src.length,
    },
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
  if (want('formulations')) {
    result.propagation_forward_3_layers_ms = await sparseFormulations(
      graphs.adj,
      args.runs,
      args.warmup,
      rng,
    );
    const { g, loss } = buildPropagation('weighted');
    const program = await compileTraining({ graph: g, loss }, engine);
    const store = new ParameterStore().initialize(g, rng);
    const weighted = normalizedBipartiteAdjacency(graphs.train, { form: 'weighted' });
    const feeds = { ...adjacencyFeeds('A', weighted), G: randomMatrix(users + items, dim, rng) };
    const t = await timeIt(() => program.run(feeds, store), args.runs, args.warmup);
    result.propagation_weighted_form_ms = round(t.median);
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
    // Sparse row updates: an MF-style gradient touching only the batch's rows.
    const mfGrads = new Map([
      ['user_emb', new Float32Array(users * dim)],
      ['item_emb', new Float32Array(items * dim)],
    ]);
    const b0 = batches[0];
    for (const u of b0.uniqueUsers) mfGrads.get('user_emb').fill(1e-3, u * dim, u * dim + dim);
    for (const i of b0.uniqueItems) mfGrads.get('item_emb').fill(1e-3, i * dim, i * dim + dim);
    const lazy = new Adam({ lr: 1e-3, lazyRows: true });
    result.adam_mf_batch_dense_ms = round(
      (await timeIt(() => adam.step(store, mfGrads), args.runs, 1)).median,
      2,
    );
    result.adam_mf_batch_lazy_rows_ms = round(
      (await timeIt(() => lazy.step(store, mfGrads), args.runs, 1)).median,
      2,
    );
    // The literal §4 SDR, −Σ p log(q + 1e-8) with q formed explicitly (the default above uses the
    // exact log-softmax identity, which differs only by ε-sized terms).
    {
      const eps = buildPromaxStep({ epsilon: 1e-8 });
      const programEps = await compileTraining(
        { graph: eps.g, loss: eps.loss, outputs: eps.outputs },
        engine,
      );
      const storeEps = new ParameterStore().initialize(eps.g, new Rng(2025), xavierUniform());
      const adamEps = new Adam({ lr: 1e-3 });
      let j = 0;
      const te = await timeIt(
        async () => {
          const r = await programEps.run(feedsList[j++ % feedsList.length], storeEps);
          adamEps.step(storeEps, r.grads);
        },
        args.runs,
        args.warmup,
      );
      result.promax_step_literal_eps_ms = round(te.median);
    }
    result.notes = {
      propagation:
        'factored form: Mul(x, D^-1/2) -> Gather(src) -> ScatterND(add) -> Mul(D^-1/2); backward = same op (symmetric)',
      sdr: 'softCrossEntropy via (Σp)·logsumexp(S) − rowDot(ẑu/τ, p·ẑi); no [U,N] elementwise pass besides exp',
      torch:
        'bench/peers/promax_step_torch.py: torch.sparse.mm, softmax + log(q + 1e-8), F.cross_entropy InfoNCE, torch.optim.Adam',
    };
    if (args.torch && torchAvailable() && graphs.source.endsWith('.npz')) {
      result.torch_crosscheck = await crossCheckWithTorch(graphs, batches[0], profiles, 0, rng);
      result.torch_crosscheck_literal_eps = await crossCheckWithTorch(
        graphs,
        batches[0],
        profiles,
        1e-8,
        rng,
      );
    }
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

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    process.stderr.write(`${e.stack ?? e}\n`);
    process.exit(1);
  });
}
