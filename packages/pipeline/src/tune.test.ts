import { describe, expect, it, vi } from 'vitest';
import {
  defaultSearchSpace,
  parseSearchSpace,
  rungBudgets,
  sampleTrials,
  type Trial,
  type TrialOutcome,
  type TrialStore,
  tune,
} from './tune.js';

/** A validation curve that rises with epochs and peaks at λ = 0.3 (the base sits at `baseValue`). */
function fakeTraining(baseValue: number, diverges?: (t: Trial) => boolean) {
  const calls: { id: string; epochs: number }[] = [];
  const runTrial = vi.fn(async (t: Trial, epochs: number): Promise<TrialOutcome> => {
    calls.push({ id: t.id, epochs });
    if (diverges?.(t)) return { status: 'failed', val: null, epochs: 2, reason: 'non-finite loss' };
    const lambda = Number(t.settings.method['s2dr.lambda2'] ?? 0);
    const quality = t.base ? baseValue : 0.2 - Math.abs(Math.log(lambda / 0.3)) * 0.02;
    return { status: 'ok', val: { 'recall@20': quality * (1 - 1 / (epochs + 1)) }, epochs };
  });
  const testTrial = vi.fn(async (t: Trial) => ({ 'recall@20': t.base ? 0.11 : 0.15 }));
  return { runTrial, testTrial, calls };
}

const space = parseSearchSpace({ method: { 's2dr.lambda2': { low: 0.01, high: 1, log: true } } });

function memoryStore(): TrialStore & { map: Map<string, TrialOutcome> } {
  const map = new Map<string, TrialOutcome>();
  return {
    map,
    get: (k, b) => map.get(`${k}@${b}`),
    set: (k, b, o) => void map.set(`${k}@${b}`, o),
  };
}

describe('tune (successive halving on validation)', () => {
  it('derives a log-scale space from weights and temperatures', () => {
    const s = defaultSearchSpace({
      sdr: { enabled: true, lambda1: 1.5, tauP: 0.2, topK: null },
      s2dr: { lambda2: 0.05, tauS: 0.2, infoNceEpsilon: 1e-5 },
    });
    expect(Object.keys(s.method).sort()).toEqual(['s2dr.lambda2', 's2dr.tauS', 'sdr.lambda1', 'sdr.tauP']);
    expect(s.method['sdr.lambda1']).toMatchObject({ low: 0.15, high: 15, log: true });
    expect(s.method['s2dr.tauS']).toMatchObject({ low: 0.05, high: 0.8, log: true });
    expect(() => parseSearchSpace({ method: { x: { low: 0, high: 1, log: true } } })).toThrow(/method\.x/);
    expect(() => parseSearchSpace({ method: { x: { lo: 1 } } })).toThrow();
  });

  it('searches the settings a method declares tunable, by kind, where the value in force lives', () => {
    const settings = {
      kdWeight: 0.01,
      kdTemperature: 0.2,
      maskRatio: 0.6,
      off: 0,
      perModel: { gccf: { kdWeight: 0.001 } },
    };
    const tunable = {
      kdWeight: 'weight',
      kdTemperature: 'temperature',
      maskRatio: 'ratio',
      off: 'scale',
      missing: 'weight',
    } as const;
    const s = defaultSearchSpace(settings, tunable, 'lightgcn');
    // Only what is declared (not the name-matching fallback), each by its kind; 0 and absent left out.
    expect(s.method).toEqual({
      kdWeight: { low: 0.001, high: 0.1, log: true, integer: false },
      kdTemperature: { low: 0.05, high: 0.8, log: true, integer: false },
      maskRatio: { low: 0.3, high: 0.95, log: false, integer: false },
    });
    // On gccf the per-model override is the value in force: it is the one searched, around its value.
    const g = defaultSearchSpace(settings, tunable, 'gccf');
    expect(Object.keys(g.method).sort()).toEqual(['kdTemperature', 'maskRatio', 'perModel.gccf.kdWeight']);
    expect(g.method['perModel.gccf.kdWeight']).toMatchObject({ low: 0.0001, high: 0.01, log: true });
    // A 'ratio' below 0.475 doubles: [v/2, 2v].
    expect(defaultSearchSpace({ r: 0.15 }, { r: 'ratio' }).method.r).toMatchObject({ low: 0.075, high: 0.3 });
  });

  it('samples deterministically inside the bounds and always includes the base arm', () => {
    const a = sampleTrials(space, 20, 7);
    expect(a[0]).toMatchObject({ id: 'base', base: true });
    expect(a).toHaveLength(21);
    for (const t of a.slice(1)) {
      const v = t.settings.method['s2dr.lambda2'] as number;
      expect(v).toBeGreaterThanOrEqual(0.01);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(sampleTrials(space, 20, 7)).toEqual(a);
    // no settings twice: a 2 × 2 discrete space gives its 4 points, not 10 draws with repeats
    const small = parseSearchSpace({
      model: { layers: { values: [1, 2] }, embeddingSize: { values: [32, 64] } },
    });
    const few = sampleTrials(small, 10, 3);
    expect(few).toHaveLength(5);
    expect(new Set(few.map((t) => t.key)).size).toBe(5);
    expect(rungBudgets(10, 27)).toEqual([3, 9, 27]);
    expect(rungBudgets(3, 27)).toEqual([9, 27]);
    expect(rungBudgets(2, 5)).toEqual([5]);
  });

  it('halves on validation, evaluates test once for the chosen trial only, and keeps the base to the last rung', async () => {
    const f = fakeTraining(0.12);
    const res = await tune({ space, trials: 8, maxEpochs: 9, seed: 1, ...f });
    expect(res.budgets).toEqual([1, 3, 9]);
    // rung sizes 9 → 3 (+ base) → 1 (+ base): bad trials stop early
    expect(f.calls.filter((c) => c.epochs === 1)).toHaveLength(9);
    expect(f.calls.filter((c) => c.epochs === 3).length).toBeLessThanOrEqual(4);
    expect(f.calls.filter((c) => c.epochs === 9).map((c) => c.id)).toContain('base');
    expect(res.trials.filter((t) => t.status === 'stopped-early').length).toBeGreaterThan(0);
    // the test split: once, for the chosen trial
    expect(f.testTrial).toHaveBeenCalledTimes(1);
    expect(f.testTrial.mock.calls[0][0].id).toBe(res.best?.id);
    expect(f.testTrial.mock.calls[0][1]).toBe(9);
    const bestVal = Math.max(
      ...res.trials.filter((t) => t.rungs.some((r) => r.budget === 9)).map((t) => t.val?.['recall@20'] ?? 0),
    );
    expect(res.best?.val['recall@20']).toBe(bestVal);
    expect(res.best?.base).toBe(false);
    expect(res.baseWins).toBe(false);
    expect(res.base.val?.['recall@20']).toBeCloseTo(0.12 * 0.9, 12);
  });

  it('says the base wins when it has the best validation metric', async () => {
    const f = fakeTraining(0.5);
    const res = await tune({ space, trials: 4, maxEpochs: 3, seed: 2, ...f });
    expect(res.baseWins).toBe(true);
    expect(res.best?.id).toBe('base');
    expect(f.testTrial).toHaveBeenCalledTimes(1);
  });

  it('records a diverging trial as failed and never chooses it', async () => {
    // The trial closest to the optimum diverges.
    const trials = sampleTrials(space, 6, 3);
    const ideal = trials
      .slice(1)
      .sort(
        (a, b) =>
          Math.abs(Math.log(Number(a.settings.method['s2dr.lambda2']) / 0.3)) -
          Math.abs(Math.log(Number(b.settings.method['s2dr.lambda2']) / 0.3)),
      )[0];
    const f = fakeTraining(0.05, (t) => t.id === ideal.id);
    const res = await tune({ space, trials: 6, maxEpochs: 3, seed: 3, ...f });
    const rec = res.trials.find((t) => t.id === ideal.id);
    expect(rec).toMatchObject({ status: 'failed', val: null, reason: 'non-finite loss' });
    expect(res.best?.id).not.toBe(ideal.id);
    expect(res.best).not.toBeNull();
    // A trial that throws is failed too, not fatal.
    const g = fakeTraining(0.05);
    g.runTrial.mockImplementationOnce(async () => {
      throw new Error('engine crashed');
    });
    const store = memoryStore();
    const res2 = await tune({ space, trials: 3, maxEpochs: 1, seed: 3, store, ...g });
    expect(res2.trials[0]).toMatchObject({ status: 'failed', reason: 'engine crashed' });
    expect(res2.best?.id).not.toBe('base');
    // The crash is not the trial's fault: it is not stored, and the next invocation trains it (and
    // only it) again. A diverged run, which finished, is stored and stays failed.
    expect(store.map.has(`${res2.trials[0]?.key}@1`)).toBe(false);
    const h = fakeTraining(0.05);
    const res3 = await tune({ space, trials: 3, maxEpochs: 1, seed: 3, store, ...h });
    expect(h.calls).toEqual([{ id: 'base', epochs: 1 }]);
    expect(res3.trials[0]).toMatchObject({ status: 'ok' });
    const diverged = memoryStore();
    await tune({
      space,
      trials: 6,
      maxEpochs: 3,
      seed: 3,
      store: diverged,
      ...fakeTraining(0.05, (t) => t.id === ideal.id),
    });
    expect([...diverged.map.values()].filter((o) => o.status === 'failed')).toHaveLength(1);
  });

  it('resumes: finished (trial, budget) pairs are reused, nothing trains twice', async () => {
    const store = memoryStore();
    const f1 = fakeTraining(0.12);
    const first = await tune({ space, trials: 8, maxEpochs: 9, seed: 5, store, ...f1 });
    expect(first.trained).toBe(f1.calls.length);
    const f2 = fakeTraining(0.12);
    const again = await tune({ space, trials: 8, maxEpochs: 9, seed: 5, store, ...f2 });
    expect(f2.runTrial).not.toHaveBeenCalled();
    expect(again.trained).toBe(0);
    expect(again.best).toEqual(first.best);
    expect(again.trials.every((t) => t.rungs.every((r) => r.reused))).toBe(true);
    // More trials with the same seed: the first 8 are the same trials, only the new ones train at rung 1.
    const f3 = fakeTraining(0.12);
    await tune({ space, trials: 10, maxEpochs: 9, seed: 5, store, ...f3 });
    const rung1 = f3.calls.filter((c) => c.epochs === 1).map((c) => c.id);
    expect(rung1).toEqual(['t09', 't10']);
  });

  it('never draws the same settings twice: a one-point space is one trial, even when trials run at once', async () => {
    const f = fakeTraining(0.05);
    const one = parseSearchSpace({ method: { 's2dr.lambda2': { values: [0.3] } } });
    const res = await tune({ space: one, trials: 3, maxEpochs: 1, seed: 1, jobs: 3, ...f });
    expect(f.calls.map((c) => c.id).sort()).toEqual(['base', 't01']);
    expect(res.trials.map((t) => t.val?.['recall@20'])).toEqual([0.025, 0.1]);
    expect(res.trained).toBe(2);
  });

  it('runRung: one call per rung with the trials still to train; same choice as runTrial, resumable', async () => {
    const perTrial = await tune({ space, trials: 8, maxEpochs: 9, seed: 3, ...fakeTraining(0.12) });
    const f = fakeTraining(0.12);
    const rungs: { epochs: number; ids: string[] }[] = [];
    const runRung = vi.fn(async (ts: readonly Trial[], epochs: number) => {
      rungs.push({ epochs, ids: ts.map((t) => t.id) });
      const out = new Map<string, TrialOutcome>();
      for (const t of ts) out.set(t.key, await f.runTrial(t, epochs));
      return out;
    });
    const store = memoryStore();
    const submit = () =>
      tune({
        space,
        trials: 8,
        maxEpochs: 9,
        seed: 3,
        store,
        runRung,
        testTrial: f.testTrial,
      });
    const res = await submit();
    expect(rungs.map((r) => r.epochs)).toEqual([1, 3, 9]);
    expect(rungs[0].ids).toHaveLength(9);
    expect(rungs[1].ids).toContain('base');
    expect(res.best).toEqual(perTrial.best);
    expect(res.trials).toEqual(perTrial.trials);
    expect(res.trained).toBe(f.calls.length);
    // Resubmitted with the same store: no rung has anything left to train.
    runRung.mockClear();
    const again = await submit();
    expect(runRung).not.toHaveBeenCalled();
    expect(again.trained).toBe(0);
    expect(again.best).toEqual(res.best);
  });

  it('runRung: a trial missing from the returned map fails', async () => {
    const one = parseSearchSpace({ method: { 's2dr.lambda2': { values: [0.3] } } });
    const passed: string[][] = [];
    const res = await tune({
      space: one,
      trials: 3,
      maxEpochs: 1,
      seed: 1,
      runRung: async (ts) => {
        passed.push(ts.map((t) => t.id));
        // only the base reports back
        return new Map([[ts[0].key, { status: 'ok', val: { 'recall@20': 0.1 }, epochs: 1 } as TrialOutcome]]);
      },
      testTrial: async () => ({}),
    });
    expect(passed).toEqual([['base', 't01']]);
    expect(res.trials.map((t) => t.status)).toEqual(['ok', 'failed']);
    expect(res.trials[1].reason).toBe('no outcome reported');
    expect(res.best?.id).toBe('base');
  });

  it('needs runTrial or runRung', async () => {
    await expect(
      tune({ space, trials: 1, maxEpochs: 1, seed: 1, testTrial: async () => ({}) }),
    ).rejects.toThrow(/runTrial .* or runRung/);
  });
});
