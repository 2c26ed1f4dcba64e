// Tick values for the similarity axis: its two ends always labelled (a fitted axis shows the
// range it was fitted to), with round values between them where they do not crowd the ends.

import { scaleLinear } from "d3-scale";

/** Ticks for `domain` on an axis `px` long: both ends, and nice values at least `gap` px from them. */
export function yTickValues(domain: readonly [number, number], px: number, gap = 14): number[] {
  const [lo, hi] = domain;
  if (!(hi > lo)) return [lo];
  const scale = scaleLinear().domain([lo, hi]).range([0, px]);
  const inner = scale.ticks(Math.max(2, Math.floor(px / 25))).filter((t) => scale(t) - scale(lo) >= gap && scale(hi) - scale(t) >= gap);
  return [lo, ...inner, hi];
}
