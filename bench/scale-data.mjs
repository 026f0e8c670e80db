// Synthetic power-law interaction data with structured profile embeddings, for bench/scale-bench.mjs.
//
// Items belong to one of T topics and have Zipf popularity (weight ∝ rank^−α, ranks shuffled);
// user degrees follow a discrete power law (Pareto, minimum 5) scaled to the requested number of
// interactions. A user draws 80% of their items from their own topic and 20% from the whole
// catalogue, each by popularity. Profile embeddings are the topic centre plus noise (users and
// items alike), so profile similarity carries the same signal as the interactions, as LLM
// profiles do. Test = 10% of each user's items (at least one), the rest train; A′ adds one
// own-topic item per user (the shape S2DR needs, not a real augmentation).
import { csrFromCoo, Rng } from '../packages/core/dist/index.js';

const TOPICS = 64;
const ALPHA = 0.8;
const OWN_TOPIC = 0.8;

/** Cumulative weights → sampler by binary search. */
function cumulative(weights) {
  const c = new Float64Array(weights.length);
  let s = 0;
  for (let i = 0; i < weights.length; i++) {
    s += weights[i];
    c[i] = s;
  }
  return c;
}
function draw(cum, rng) {
  const x = rng.nextFloat() * cum[cum.length - 1];
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function powerLawDataset({ users, items, interactions, dim = 64, seed = 2025 }) {
  const rng = new Rng(seed);
  const itemTopic = new Int32Array(items);
  for (let i = 0; i < items; i++) itemTopic[i] = rng.nextInt(TOPICS);
  const ranks = Int32Array.from({ length: items }, (_, i) => i + 1);
  rng.shuffle(ranks);
  const pop = Float64Array.from(ranks, (r) => r ** -ALPHA);
  const globalCum = cumulative(pop);
  const byTopic = Array.from({ length: TOPICS }, () => []);
  for (let i = 0; i < items; i++) byTopic[itemTopic[i]].push(i);
  const topicCum = byTopic.map((ids) => cumulative(ids.map((i) => pop[i])));

  // degrees: Pareto(shape 1.5, min 5), scaled so the total is about `interactions`
  const raw = Float64Array.from({ length: users }, () => 5 / (1 - rng.nextFloat()) ** (1 / 1.5));
  const total = raw.reduce((a, b) => a + b, 0);
  const maxDeg = Math.max(10, Math.floor(items / 4));
  const degree = Int32Array.from(raw, (d) =>
    Math.min(maxDeg, Math.max(2, Math.round((d * interactions) / total))),
  );

  const userTopic = new Int32Array(users);
  const trRow = [];
  const trCol = [];
  const teRow = [];
  const teCol = [];
  const augRow = [];
  const augCol = [];
  const seen = new Set();
  for (let u = 0; u < users; u++) {
    const t = rng.nextInt(TOPICS);
    userTopic[u] = t;
    seen.clear();
    const own = byTopic[t];
    const want = Math.min(degree[u], Math.floor(items / 2));
    let guard = 0;
    while (seen.size < want && guard++ < want * 20) {
      const i =
        rng.nextFloat() < OWN_TOPIC && own.length > 0 ? own[draw(topicCum[t], rng)] : draw(globalCum, rng);
      seen.add(i);
    }
    const list = [...seen];
    const nTest = Math.max(1, Math.round(list.length * 0.1));
    for (let j = 0; j < list.length; j++) {
      if (j < nTest) {
        teRow.push(u);
        teCol.push(list[j]);
      } else {
        trRow.push(u);
        trCol.push(list[j]);
      }
    }
    if (own.length > 0) {
      for (let tries = 0; tries < 10; tries++) {
        const i = own[draw(topicCum[t], rng)];
        if (!seen.has(i)) {
          augRow.push(u);
          augCol.push(i);
          break;
        }
      }
    }
  }
  const train = csrFromCoo(
    { rows: users, cols: items, row: trRow, col: trCol },
    { duplicates: 'binary' },
  ).matrix;
  const test = csrFromCoo(
    { rows: users, cols: items, row: teRow, col: teCol },
    { duplicates: 'binary' },
  ).matrix;
  const aug = csrFromCoo(
    { rows: users, cols: items, row: trRow.concat(augRow), col: trCol.concat(augCol) },
    { duplicates: 'binary' },
  ).matrix;

  const centres = Float32Array.from({ length: TOPICS * dim }, () => rng.nextNormal());
  const profiles = (n, topicOf) => {
    const data = new Float32Array(n * dim);
    for (let r = 0; r < n; r++) {
      const c = topicOf[r] * dim;
      for (let j = 0; j < dim; j++) data[r * dim + j] = centres[c + j] + 0.8 * rng.nextNormal();
    }
    return { rows: n, cols: dim, data };
  };
  return {
    name: `synthetic-${users}x${items}`,
    numUsers: users,
    numItems: items,
    train,
    test,
    aug,
    interactions: trRow.length + teRow.length,
    userProfiles: profiles(users, userTopic),
    itemProfiles: profiles(items, itemTopic),
  };
}

/**
 * Clustered vectors for the ANN benchmark: 1,000 centres drawn from `centreSeed`, noise 0.6 (the
 * shape of profile embeddings). Queries must share the corpus's `centreSeed` (and use another
 * `seed` for their own draws): user and item profiles live around the same topics, so a query
 * drawn around centres of its own would be a random direction to the corpus, a case ANN
 * retrieval over profiles never meets.
 */
export function clusteredVectors(rows, dim, seed, centreSeed = seed) {
  const centreRng = new Rng(centreSeed);
  const C = 1000;
  const centres = Float32Array.from({ length: C * dim }, () => centreRng.nextNormal());
  const rng = centreSeed === seed ? centreRng : new Rng(seed);
  const data = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const c = rng.nextInt(C) * dim;
    for (let j = 0; j < dim; j++) data[r * dim + j] = centres[c + j] + 0.6 * rng.nextNormal();
  }
  return { rows, cols: dim, data };
}
