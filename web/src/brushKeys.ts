// What the keyboard does to a focused rank brush: arrows move the window by one rank (a page
// of its own width with Page Up/Down), Shift+arrows resize it, Home/End jump to the ends.

import { clampWindow, type RankWindow } from "./geometry";

/** The window after `key` (null when the key is not one the brush answers). */
export function keyWindow(w: RankWindow, key: string, shift: boolean, n: number): RankWindow | null {
  const width = w.hi - w.lo;
  const by = (d: number): RankWindow => clampWindow({ lo: w.lo + d, hi: w.hi + d }, n);
  switch (key) {
    case "ArrowLeft":
      return shift ? clampWindow({ lo: w.lo, hi: Math.max(w.lo + 1, w.hi - 1) }, n) : by(-1);
    case "ArrowRight":
      return shift ? clampWindow({ lo: w.lo, hi: Math.min(n, w.hi + 1) }, n) : by(1);
    case "PageUp":
      return by(-width);
    case "PageDown":
      return by(width);
    case "Home":
      return clampWindow({ lo: 0, hi: width }, n);
    case "End":
      return clampWindow({ lo: n - width, hi: n }, n);
    default:
      return null;
  }
}

/** The grab target [x0, x1] for a window drawn at pixels [s0, s1]: at least `min` px, centred on it. */
export function gripPixels(s0: number, s1: number, min: number): [number, number] {
  const w = s1 - s0;
  if (w >= min) return [s0, s1];
  const c = (s0 + s1) / 2;
  return [c - min / 2, c + min / 2];
}
