/**
 * The distinct ids of a batch in ascending order (torch.unique's order), e.g. U_B from the users
 * of the B triples. `out` (length ≥ result) avoids an allocation; the returned view is exact.
 */
export function uniqueIds(ids: Int32Array, out?: Int32Array): Int32Array {
  const sorted = Int32Array.from(ids).sort();
  let n = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[n++] = sorted[i];
  }
  if (!out) return sorted.slice(0, n);
  out.set(sorted.subarray(0, n));
  return out.subarray(0, n);
}
