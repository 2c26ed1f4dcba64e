// The rank axis: linear, or logarithmic so that the head of a big ranking gets real width
// (x = log(1 + position) / log(1 + n) of the plot: at 1M ranks the first 1,000 take half).
// Positions are continuous: rank r occupies [r, r + 1) of [0, n).

/** Pixel x of rank position `p` on an axis `plotWidth` px wide for `n` ranks. */
export function positionToX(p: number, plotWidth: number, n: number, log: boolean): number {
  const m = Math.max(1, n);
  const q = Math.min(Math.max(p, 0), m);
  return log ? (Math.log1p(q) / Math.log1p(m)) * plotWidth : (q / m) * plotWidth;
}

/** The rank position at pixel x (inverse of positionToX), clamped to [0, n]. */
export function xToPosition(x: number, plotWidth: number, n: number, log: boolean): number {
  const m = Math.max(1, n);
  const f = Math.min(Math.max(x, 0), plotWidth) / Math.max(1, plotWidth);
  return log ? Math.min(m, Math.expm1(f * Math.log1p(m))) : f * m;
}

/** Log ranks by default above this many images (a linear axis still shows the head below it). */
export const LOG_DEFAULT_ABOVE = 10_000;

/** Round tick values for a log rank axis: 0, 1, 10, 100, … up to n. */
export function logTicks(n: number): number[] {
  const ticks = [0];
  for (let t = 1; t <= n; t *= 10) ticks.push(t);
  return ticks;
}

/**
 * Points [x, sim] that draw a sorted-descending curve on any rank axis: one point per rank
 * while ranks are at least a pixel apart, then one vertical segment per pixel column (a
 * sorted curve enters a column at its first rank's value and leaves at its last's).
 * The server makes the same points (deepviz/core/envelope.py); the page's tests use this one as the reference.
 */
export function curvePoints(sims: ArrayLike<number>, plotWidth: number, log: boolean): [number, number][] {
  const n = sims.length;
  const toX = (p: number): number => positionToX(p, plotWidth, n, log);
  const pts: [number, number][] = [];
  let r = 0;
  for (; r < n && toX(r + 1.5) - toX(r + 0.5) >= 1; r++) pts.push([toX(r + 0.5), sims[r]]);
  for (let c = Math.floor(toX(r)); r < n && c < Math.ceil(plotWidth); c++) {
    const last = Math.min(n - 1, Math.ceil(xToPosition(c + 1, plotWidth, n, log)) - 1);
    if (last < r) continue;
    pts.push([c + 0.5, sims[r]], [c + 0.5, sims[last]]);
    r = last + 1;
  }
  return pts;
}
