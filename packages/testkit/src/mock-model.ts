import type { EncodeResult, ModelDims, ParameterSpec, StochasticInputSpec } from '@promax/core';
import type { SymbolicTensor } from '@promax/tensor';
import type { RecommenderModel } from './types.js';

/** One recorded call of a mock model. */
export interface MockModelCall {
  method: 'doDeclareParameters' | 'doDeclareStochasticInputs' | 'doEncode' | 'doAuxiliaryLoss';
  training?: boolean;
  /** Whether a graph view was passed (doEncode / doAuxiliaryLoss). */
  withGraph?: boolean;
  dims?: ModelDims;
}

export interface MockModelOptions {
  /** Embedding size (default 8). */
  embeddingSize?: number;
  /** Encode as E + Â·E over the given graph (default true); false: plain embeddings (MF). */
  usesGraph?: boolean;
  /** Add `{ mock: weight · mean ‖z_u‖² over the batch's unique users }` (default false). */
  auxiliaryLoss?: boolean;
  /** Declare a per-step noise tensor added to the user table while training (default false). */
  stochastic?: boolean;
  /** Weight of the auxiliary term (default 1e-3). */
  auxiliaryWeight?: number;
}

/** A RecommenderModel that records every call, for tests of trainers and tools. */
export interface MockRecommenderModel extends RecommenderModel {
  readonly calls: MockModelCall[];
}

/**
 * A small, fully functional model implementing the contract (it passes the conformance suite) and
 * recording its calls: use it to test trainers, wrappers and tools without a real model package.
 */
export function createMockRecommenderModel(options: MockModelOptions = {}): MockRecommenderModel {
  const d = options.embeddingSize ?? 8;
  const usesGraph = options.usesGraph ?? true;
  const aux = options.auxiliaryLoss ?? false;
  const noisy = options.stochastic ?? false;
  const weight = options.auxiliaryWeight ?? 1e-3;
  const calls: MockModelCall[] = [];
  const model: MockRecommenderModel = {
    specificationVersion: 'v1',
    modelId: 'mock',
    settings: { embeddingSize: d, usesGraph, auxiliaryLoss: aux, stochastic: noisy, auxiliaryWeight: weight },
    capabilities: { usesGraph, hasAuxiliaryLoss: aux, hasStochasticInputs: noisy },
    graphNormalization: { selfLoops: false },
    embeddingSize: d,
    calls,
    doDeclareParameters(dims): ParameterSpec[] {
      calls.push({ method: 'doDeclareParameters', dims });
      return [
        { name: 'user_emb', shape: [dims.numUsers, d], role: 'user-embedding' },
        { name: 'item_emb', shape: [dims.numItems, d], role: 'item-embedding' },
      ];
    },
    doEncode({ g, params, graph, dims, training, stochastic }): EncodeResult<SymbolicTensor> {
      calls.push({ method: 'doEncode', training, withGraph: graph !== undefined, dims });
      let users = params.user_emb;
      if (training && noisy) users = g.add(users, stochastic.tensors['mock.noise']);
      if (!usesGraph || !graph) return { users, items: params.item_emb };
      const x = g.concat([users, params.item_emb], 0);
      const [u, i] = g.split(g.add(x, g.propagate(x, graph)), [dims.numUsers, dims.numItems]);
      return { users: u, items: i };
    },
  };
  if (!usesGraph) {
    // Like MF: a view over another graph is one parameter-free propagation of the encoding.
    model.doEncodeView = ({ g, graph, dims, encoded }) => {
      const all = g.concat([encoded.users, encoded.items], 0);
      const [users, items] = g.split(g.propagate(all, graph), [dims.numUsers, dims.numItems], 0);
      return { users, items };
    };
  }
  if (noisy) {
    model.doDeclareStochasticInputs = (dims): StochasticInputSpec[] => {
      calls.push({ method: 'doDeclareStochasticInputs', dims });
      return [
        {
          kind: 'tensor',
          name: 'mock.noise',
          shape: [dims.numUsers, d],
          schedule: 'step',
          fill(out, rng) {
            for (let i = 0; i < out.length; i++) out[i] = (rng.nextFloat() - 0.5) * 1e-3;
          },
        },
      ];
    };
  }
  if (aux) {
    model.doAuxiliaryLoss = ({ g, encoded, batch, training, graph }) => {
      calls.push({ method: 'doAuxiliaryLoss', training, withGraph: graph !== undefined });
      const zu = g.gather(encoded.users, batch.uniqueUsers);
      return { mock: g.mul(g.reduceMean(g.reduceSum(g.mul(zu, zu), [1])), weight) };
    };
  }
  return model;
}
