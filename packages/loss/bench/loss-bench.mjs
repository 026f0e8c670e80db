// Speed of @promax/loss at Amazon-book shapes on SYNTHETIC data (structured random profile
// vectors, not real profiles). Imports the BUILT package: run `npx tsc -b packages/loss` first.
//
//   node packages/loss/bench/loss-bench.mjs [--only pca,teacher,step] [--runs 5]
import os from 'node:os';
import { csrFromCoo, Rng } from '../../core/dist/index.js';
import { compileTraining, GraphBuilder, ParameterStore, xavierUniform } from '../../tensor/dist/index.js';
import {
  applyWhitening,
  buildSdrTeacher,
  fitWhitening,
  preprocessProfiles,
  s2drLoss,
  sdrInputs,
  sdrLoss,
  uniqueIds,
} from '../dist/index.js';
import { syntheticProfiles } from '../dist/testing/synthetic.js';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : [];
const runs = Number(args.includes('--runs') ? args[args.indexOf('--runs') + 1] : 5);
const want = (k) => only.length === 0 || only.includes(k);
const USERS = 11000;
const ITEMS = 9332;
const DIM = 32;
const result = {
  machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
  data: 'SYNTHETIC structured profiles (syntheticProfiles)',
};
const ms = (t) => +(performance.now() - t).toFixed(1);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (want('pca')) {
  const t0 = performance.now();
  const users = syntheticProfiles({
    rows: USERS,
    dim: 1536,
    seed: 1,
    rank: 192,
    decay: 0.6,
    noise: 0.05,
    clusters: 50,
    offset: 2,
  });
  const items = syntheticProfiles({
    rows: ITEMS,
    dim: 1536,
    seed: 2,
    rank: 192,
    decay: 0.6,
    noise: 0.05,
    clusters: 50,
    offset: 2,
  });
  result.pca_synth_ms = ms(t0);
  const fitStart = performance.now();
  const w = await fitWhitening(users, { k: DIM });
  result.pca_fit_users_ms = ms(fitStart);
  const applyStart = performance.now();
  await applyWhitening(users, w);
  result.pca_apply_users_ms = ms(applyStart);
  const t1 = performance.now();
  const sep = await preprocessProfiles({ users, items, k: DIM, mode: 'separate' });
  result.preprocess_separate_ms = ms(t1);
  result.preprocess_separate_timings = sep.info.timings;
  const t2 = performance.now();
  const joint = await preprocessProfiles({ users, items, k: DIM, mode: 'joint' });
  result.preprocess_joint_ms = ms(t2);
  result.preprocess_joint_timings = joint.info.timings;
  result.explained_variance = sep.info.explainedVariance;
  console.error('pca done', result);
}

if (want('teacher') || want('step')) {
  const rng = new Rng(5);
  const up = syntheticProfiles({ rows: USERS, dim: DIM, seed: 3, rank: DIM, decay: 0.3, clusters: 40 });
  const ip = syntheticProfiles({ rows: ITEMS, dim: DIM, seed: 4, rank: DIM, decay: 0.3, clusters: 40 });
  // ~11 train items per user (Amazon-book has 120,464 train edges).
  const row = [];
  const col = [];
  for (let u = 0; u < USERS; u++)
    for (let j = 0; j < 11; j++) {
      row.push(u);
      col.push(rng.nextInt(ITEMS));
    }
  const mask = csrFromCoo({ rows: USERS, cols: ITEMS, row, col }, { duplicates: 'binary' }).matrix;
  const batchUsers = uniqueIds(Int32Array.from({ length: 4096 }, () => rng.nextInt(USERS)));
  result.batch_unique_users = batchUsers.length;

  if (want('teacher')) {
    for (const [name, opts] of [
      ['dense', {}],
      ['dense_masked', { mask }],
      ['top200', { topK: 200 }],
      ['dense_per_batch', { memoryBudgetBytes: 0 }],
    ]) {
      const t = performance.now();
      const teacher = await buildSdrTeacher({ userProfiles: up, itemProfiles: ip, tauP: 0.2, ...opts });
      const buildMs = ms(t);
      const out = new Float32Array(batchUsers.length * ITEMS);
      const times = [];
      for (let r = 0; r < runs; r++) {
        const t2 = performance.now();
        await teacher.rowsFor(batchUsers, out);
        times.push(ms(t2));
      }
      result[`teacher_${name}`] = {
        buildMs,
        storage: teacher.info.storage,
        estimatedMB: +(teacher.info.estimatedBytes / 1e6).toFixed(1),
        rowsForMs: median(times),
        rowsForUsers: batchUsers.length,
        weightMean: +teacher.info.weightStats.mean.toFixed(4),
      };
      await teacher.release();
      console.error(name, result[`teacher_${name}`]);
    }
  }

  if (want('step')) {
    const teacher = await buildSdrTeacher({ userProfiles: up, itemProfiles: ip, tauP: 0.2 });
    const trip = {
      users: Int32Array.from({ length: 4096 }, () => batchUsers[rng.nextInt(batchUsers.length)]),
      pos: Int32Array.from({ length: 4096 }, () => rng.nextInt(ITEMS)),
    };
    const ib = uniqueIds(trip.pos);
    const teacherRows = await teacher.rowsFor(batchUsers);
    const weights = teacher.weightsFor(batchUsers);
    const grads = {};
    for (const form of ['exact', 'logSoftmax']) {
      const g = new GraphBuilder();
      const eu = g.param('user_emb', [USERS, DIM]);
      const ei = g.param('item_emb', [ITEMS, DIM]);
      // Stand-in for the augmented-graph view: a second table (the loss cost is what is measured).
      const eu2 = g.param('user_emb_aug', [USERS, DIM]);
      const ei2 = g.param('item_emb_aug', [ITEMS, DIM]);
      const sdrIn = sdrInputs(g, ITEMS);
      const users = g.input('users', 'int32', ['B']);
      const pos = g.input('pos', 'int32', ['B']);
      const ibIn = g.input('batch_items', 'int32', ['I']);
      const sdr = sdrLoss(g, {
        zUsers: g.gather(eu, sdrIn.users),
        zItems: ei,
        teacher: sdrIn.teacher,
        weights: sdrIn.weights,
        tauQ: 0.2,
        lambda1: 1.5,
        form,
      });
      const s2dr = s2drLoss(g, {
        zU: g.gather(eu, sdrIn.users),
        zUAug: g.gather(eu2, sdrIn.users),
        zI: g.gather(ei, ibIn),
        zIAug: g.gather(ei2, ibIn),
        zUBatch: g.gather(eu, users),
        zIBatch: g.gather(ei, pos),
        zUAugBatch: g.gather(eu2, users),
        zIAugBatch: g.gather(ei2, pos),
        tauS: 0.2,
        lambda2: 0.05,
      });
      const store = new ParameterStore();
      const init = new Rng(9);
      for (const p of g.params()) xavierUniform()(store.set(p.leafName, p.shape), p.shape, init);
      const feeds = {
        'sdr.users': batchUsers,
        'sdr.teacher': teacherRows,
        'sdr.weights': weights,
        users: trip.users,
        pos: trip.pos,
        batch_items: ib,
      };
      for (const [part, loss] of [
        ['sdr', sdr.loss],
        ['s2dr', s2dr.loss],
        ['sdr+s2dr', g.add(sdr.loss, s2dr.loss)],
      ]) {
        if (part === 's2dr' && form !== 'exact') continue;
        const tc = performance.now();
        const program = await compileTraining({ graph: g, loss });
        const compileMs = ms(tc);
        for (let r = 0; r < 2; r++) await program.run(feeds, store);
        const times = [];
        let last;
        for (let r = 0; r < runs; r++) {
          const t = performance.now();
          last = await program.run(feeds, store);
          times.push(ms(t));
        }
        result[`step_${part}_${part === 's2dr' ? 'B4096' : form}`] = {
          compileMs,
          medianMs: median(times),
          minMs: Math.min(...times),
          loss: last.loss,
          Bu: batchUsers.length,
          B: 4096,
          items: ITEMS,
          dim: DIM,
        };
        if (part === 'sdr')
          grads[form] = {
            loss: last.loss,
            user: Float64Array.from(last.grads.get('user_emb')),
            item: Float64Array.from(last.grads.get('item_emb')),
          };
        console.error(part, form, result[`step_${part}_${part === 's2dr' ? 'B4096' : form}`]);
        await program.release();
      }
    }
    const rel = (a, b) => {
      let n = 0,
        d = 0;
      for (let i = 0; i < a.length; i++) {
        n += (a[i] - b[i]) ** 2;
        d += b[i] ** 2;
      }
      return Math.sqrt(n / d);
    };
    result.exact_vs_logSoftmax = {
      lossAbsDiff: Math.abs(grads.exact.loss - grads.logSoftmax.loss),
      lossRelDiff: Math.abs(grads.exact.loss - grads.logSoftmax.loss) / grads.exact.loss,
      userGradRelDiff: rel(grads.logSoftmax.user, grads.exact.user),
      itemGradRelDiff: rel(grads.logSoftmax.item, grads.exact.item),
    };
    await teacher.release();
  }
}
console.log(JSON.stringify(result, null, 2));
