import type { OpDef } from '../ir.js';
import { ELEMENTWISE_OPS } from './elementwise.js';
import { INDEXING_OPS } from './indexing.js';
import { LEAF_OPS } from './leaves.js';
import { LINALG_OPS } from './linalg.js';
import { REDUCE_OPS } from './reduce.js';
import { SHAPE_OPS } from './shape-ops.js';

/** Every op kind the builder knows, by name. */
export const CORE_OPS: ReadonlyMap<string, OpDef> = new Map(
  [...LEAF_OPS, ...ELEMENTWISE_OPS, ...LINALG_OPS, ...REDUCE_OPS, ...SHAPE_OPS, ...INDEXING_OPS].map((op) => [
    op.name,
    op,
  ]),
);
