// Per-pixel-column extents of a curve: a chart of N = 1M points draws `width` vertical spans,
// never N segments, and loses no spike because each column keeps its min and max.

export interface ColumnExtents {
  min: Float32Array;
  max: Float32Array;
  /** First value of each column, so a line through the columns follows the curve's order. */
  first: Float32Array;
}

/** Min, max and first value of `values` in each of `columns` equal slices of [0, N). */
export function columnExtents(values: ArrayLike<number>, columns: number): ColumnExtents {
  const n = values.length;
  const cols = Math.max(1, Math.floor(columns));
  const min = new Float32Array(cols).fill(NaN);
  const max = new Float32Array(cols).fill(NaN);
  const first = new Float32Array(cols).fill(NaN);
  if (n === 0) return { min, max, first };
  for (let c = 0; c < cols; c++) {
    const a = Math.floor((c * n) / cols);
    // With fewer points than columns a column still shows the point under it.
    const b = Math.max(a + 1, Math.floor(((c + 1) * n) / cols));
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = a; i < b && i < n; i++) {
      const v = values[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    min[c] = lo;
    max[c] = hi;
    first[c] = values[Math.min(a, n - 1)];
  }
  return { min, max, first };
}

/**
 * The y domain that fits several curves given each one's [min, max] (cheap: a sorted ranking's
 * extremes are its first and last similarity), padded a little but never past [-1, 1], where a
 * cosine similarity cannot go (a query in the project has similarity 1 to itself: the axis
 * tops at 1.00, not 1.03); [-1, 1] when there is none.
 */
export function fittedDomain(extents: readonly (readonly [number, number])[], pad = 0.04): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const [a, b] of extents) {
    lo = Math.min(lo, a, b);
    hi = Math.max(hi, a, b);
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [-1, 1];
  const p = hi - lo < 1e-6 ? 0.05 : (hi - lo) * pad;
  // Rounding can put a similarity a hair past 1: the domain still holds the data.
  return [Math.max(Math.min(-1, lo), lo - p), Math.min(Math.max(1, hi), hi + p)];
}
