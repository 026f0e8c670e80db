import { createRequire } from 'node:module';
import { type Matrix, PromaxError } from '@promax/core';

/** The slice of `@lancedb/lancedb` this package uses. */
export interface LanceModule {
  connect(uri: string, options?: Record<string, unknown>): Promise<unknown>;
  Index: {
    ivfPq(options: Record<string, unknown>): unknown;
    ivfFlat(options: Record<string, unknown>): unknown;
    hnswSq(options: Record<string, unknown>): unknown;
  };
  /** apache-arrow as LanceDB itself loads it (its CommonJS build: `instanceof Table` must hold there). */
  arrow: typeof import('apache-arrow');
}

const INSTALL_FIX = 'install it with `pnpm add @lancedb/lancedb@0.31.0 apache-arrow@18.1.0`';

/** Loads `@lancedb/lancedb` and the apache-arrow build it uses; a PromaxError says how to install them. */
export async function loadLance(): Promise<LanceModule> {
  // Libraries don't print: LanceDB's native logger writes warnings to stderr unless told not to
  // (read once, when the module loads). An explicit LANCEDB_LOG from the user still wins.
  process.env.LANCEDB_LOG ??= 'error';
  try {
    const lance = (await import('@lancedb/lancedb')) as unknown as Omit<LanceModule, 'arrow'>;
    // LanceDB is CommonJS and checks `instanceof arrow.Table` against the CommonJS apache-arrow;
    // tables built from the ESM build fail that check, so load the same build it does.
    const require = createRequire(import.meta.url);
    const arrow = require('apache-arrow') as typeof import('apache-arrow');
    return { connect: lance.connect, Index: lance.Index, arrow };
  } catch (cause) {
    throw new PromaxError({
      code: 'UNSUPPORTED_FORMAT',
      field: '@lancedb/lancedb',
      message: `the LanceDB retriever could not load @lancedb/lancedb (${(cause as Error)?.message ?? String(cause)})`,
      fix: INSTALL_FIX,
      cause,
    });
  }
}

/** An Arrow table { id: int32, vector: fixed_size_list<float32>[d] } over the matrix rows, without copying. */
export function toArrowTable(lance: LanceModule, m: Matrix): unknown {
  const { Table, makeVector, makeData, FixedSizeList, Field, Float32 } = lance.arrow;
  const child = makeData({ type: new Float32(), length: m.rows * m.cols, data: m.data });
  const vectors = makeData({
    type: new FixedSizeList(m.cols, new Field('item', new Float32(), true)),
    length: m.rows,
    nullCount: 0,
    child,
  });
  const ids = Int32Array.from({ length: m.rows }, (_, i) => i);
  return new Table({ id: makeVector(ids), vector: makeVector(vectors) });
}
