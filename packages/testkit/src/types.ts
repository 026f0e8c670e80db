import type { RecommenderModelV1 } from '@promax/core';
import type { Adjacency, GraphBuilder, SymbolicTensor } from '@promax/tensor';

/**
 * The plugin contract bound to @promax/tensor's types. Model packages declare the same alias
 * locally (their `.d.ts` must not point at this dev-only package); it is exported here for
 * third-party test files and tools.
 */
export type RecommenderModel = RecommenderModelV1<GraphBuilder, SymbolicTensor, Adjacency>;
