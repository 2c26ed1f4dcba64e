// The y domain of the curves shown. (Each curve's per-pixel-column envelope is made by the
// server: deepviz/core/envelope.py.)

/**
 * The y domain that fits several curves given each one's [min, max] (cheap: a sorted ranking's
 * extremes are its first and last similarity), padded a little; [-1, 1] when there is none.
 */
export function fittedDomain(extents: readonly (readonly [number, number])[], pad = 0.04): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const [a, b] of extents) {
    lo = Math.min(lo, a, b);
    hi = Math.max(hi, a, b);
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [-1, 1];
  if (hi - lo < 1e-6) return [lo - 0.05, hi + 0.05];
  const p = (hi - lo) * pad;
  return [lo - p, hi + p];
}
