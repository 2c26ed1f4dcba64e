// The y domain of the curves shown. (Each curve's per-pixel-column envelope is made by the
// server: deepviz/core/envelope.py.)

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
