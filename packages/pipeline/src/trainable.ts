import { type Matrix, PromaxError, shapeSize } from '@promax/core';

/** One named float32 tensor of a model's state, row-major. */
export interface TensorState {
  shape: number[];
  data: Float32Array;
}

/**
 * Named tensors: the parameters of a model, plus optimiser moments if the model wants them
 * checkpointed (by convention under a prefix such as `adam.m/…`, `adam.v/…`).
 */
export type StateDict = Record<string, TensorState>;

/** One mini-batch of (user, positive item, negative item) triples, as parallel arrays. */
export interface TripleBatch {
  users: Int32Array;
  pos: Int32Array;
  neg: Int32Array;
}

/**
 * What the training loop drives. The loop owns sampling, evaluation, early stopping,
 * checkpoints and the run directory; the Trainable owns its parameters, its loss and its
 * optimiser (so `lr`/`l2` from the trainer config are read by whoever constructs it).
 *
 * Contract:
 * - `trainBatch` takes ONE optimiser step on the batch and resolves with the batch's loss
 *   components, which must include `loss` (the total). The arrays are views into buffers the
 *   loop reuses: read them during the call, do not keep them.
 * - `embed` runs inference on the ORIGINAL graph (method.md §4) and returns one row per
 *   user / item; the loop only reads the matrices.
 * - `getState` may return live views of the parameters: the loop copies what it keeps.
 * - `setState` must COPY the given data in (the loop may hand the same arrays over again)
 *   and must accept exactly what `getState` returned.
 * - `onEpochStart` runs before the first batch of every epoch (1-based), e.g. for schedules.
 */
export interface Trainable {
  trainBatch(batch: TripleBatch): Promise<Record<string, number>>;
  embed(): Promise<{ users: Matrix; items: Matrix }>;
  getState(): StateDict;
  setState(state: StateDict): void;
  onEpochStart?(epoch: number): void | Promise<void>;
}

/** Checks that every tensor's shape matches its data length; throws naming the tensor. */
export function assertStateDict(state: StateDict, what = 'state'): void {
  for (const [name, t] of Object.entries(state)) {
    if (!t || !(t.data instanceof Float32Array) || !Array.isArray(t.shape)) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: `${what}.${name}`,
        message: `tensor "${name}" must be { shape: number[], data: Float32Array }`,
        fix: 'return float32 tensors from getState()',
      });
    }
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0) || shapeSize(t.shape) !== t.data.length) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        field: `${what}.${name}`,
        message: `tensor "${name}" has shape [${t.shape.join(', ')}] but ${t.data.length} values`,
        fix: 'make the shape product equal data.length',
      });
    }
  }
}

/** A deep copy of a state dict (new buffers, new shape arrays). */
export function cloneState(state: StateDict): StateDict {
  const out: StateDict = {};
  for (const [name, t] of Object.entries(state)) out[name] = { shape: [...t.shape], data: t.data.slice() };
  return out;
}
