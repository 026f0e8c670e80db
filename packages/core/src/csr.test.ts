import { describe, expect, it } from 'vitest';
import { assertCsr, csrFromCoo, csrHas, csrRowDegrees, csrToCoo, csrTranspose } from './csr.js';
import { PromaxError } from './errors.js';

describe('CSR', () => {
  it('builds canonical CSR, merging duplicates and reporting them', () => {
    const { matrix, report } = csrFromCoo({ rows: 3, cols: 4, row: [2, 0, 0, 2, 0], col: [1, 3, 0, 1, 3] });
    expect(Array.from(matrix.indptr)).toEqual([0, 2, 2, 3]);
    expect(Array.from(matrix.indices)).toEqual([0, 3, 1]);
    expect(matrix.data).toBeDefined(); // duplicates summed to 2 → not all ones
    expect(Array.from(matrix.data ?? [])).toEqual([1, 2, 2]);
    expect(report.duplicates).toBe(2);
    const bin = csrFromCoo(
      { rows: 3, cols: 4, row: [2, 0, 0, 2], col: [1, 3, 0, 1] },
      { duplicates: 'binary' },
    );
    expect(bin.matrix.data).toBeUndefined();
    assertCsr(bin.matrix);
    expect(csrHas(bin.matrix, 0, 3)).toBe(true);
    expect(csrHas(bin.matrix, 1, 3)).toBe(false);
    expect(Array.from(csrRowDegrees(bin.matrix))).toEqual([2, 0, 1]);
  });

  it('rejects out-of-range ids with a PromaxError naming the entry', () => {
    try {
      csrFromCoo({ rows: 2, cols: 2, row: [0, 5], col: [0, 0] });
      expect.unreachable();
    } catch (e) {
      expect(PromaxError.isInstance(e) && e.code).toBe('ID_OUT_OF_RANGE');
      expect(String(e)).toMatch(/entry 1 = \(5, 0\)/);
    }
  });

  it('transposes and round-trips through COO; sorts long rows', () => {
    const cols = Array.from({ length: 50 }, (_, i) => (i * 37) % 50);
    const { matrix } = csrFromCoo({ rows: 2, cols: 50, row: cols.map(() => 1), col: cols });
    assertCsr(matrix);
    const t = csrTranspose(matrix);
    assertCsr(t);
    expect(t.rows).toBe(50);
    const back = csrTranspose(t);
    expect(Array.from(back.indices)).toEqual(Array.from(matrix.indices));
    const coo = csrToCoo(matrix);
    expect(coo.row.every((r) => r === 1)).toBe(true);
  });

  it('assertCsr names structural problems', () => {
    expect(() =>
      assertCsr(
        { rows: 1, cols: 2, indptr: new Int32Array([0, 2]), indices: new Int32Array([1, 0]) },
        'train',
      ),
    ).toThrow(/train: row 0 has unsorted/);
  });
});
