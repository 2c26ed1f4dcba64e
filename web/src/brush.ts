// A horizontal d3 brush on a curve chart that speaks rank windows: it snaps to whole ranks and
// can be moved by code (linked brushes) without echoing back as a user move.

import { brushX, type BrushBehavior, type D3BrushEvent } from "d3-brush";
import type { Selection } from "d3-selection";
import { pixelsFromWindow, type RankWindow, windowFromPixels } from "./geometry";

export class RankBrush {
  private readonly behavior: BrushBehavior<unknown>;
  private readonly g: Selection<SVGGElement, unknown, null, undefined>;
  private width = 0;
  private height = 0;
  private n = 0;
  private current: RankWindow | null = null;
  /** Plot width the brush was last drawn for (a resize must redraw it). */
  private shownFor = -1;

  constructor(
    plot: Selection<SVGGElement, unknown, null, undefined>,
    /** Called while the user drags and once more at the end. */
    private readonly onMove: (window: RankWindow) => void,
  ) {
    this.g = plot.append("g").attr("class", "brush").attr("data-testid", "curve-brush");
    this.behavior = brushX<unknown>().on("brush end", (event: D3BrushEvent<unknown>) => {
      if (!event.sourceEvent) return; // moved by code
      const sel = event.selection as [number, number] | null;
      if (!sel) {
        // A click without drag clears a d3 brush; keep the window instead.
        if (this.current) this.move(this.current);
        return;
      }
      const w = windowFromPixels(sel[0], sel[1], this.width, this.n);
      this.current = w;
      if (event.type === "end") this.move(w);
      this.onMove(w);
    });
  }

  resize(width: number, height: number, n: number): void {
    if (width === this.width && height === this.height && n === this.n) return;
    this.width = width;
    this.height = height;
    this.n = n;
    this.behavior.extent([
      [0, 0],
      [width, height],
    ]);
    this.g.call(this.behavior);
    if (this.current) this.move(this.current);
  }

  /** Show `w` unless it is already shown (re-moving a brush mid-drag would fight the gesture). */
  sync(w: RankWindow): void {
    if (this.current && this.current.lo === w.lo && this.current.hi === w.hi && this.shownFor === this.width) return;
    this.move(w);
  }

  /** Show `w` without calling onMove. */
  move(w: RankWindow): void {
    this.current = w;
    if (this.n === 0 || this.width === 0) return;
    this.shownFor = this.width;
    this.behavior.move(this.g, pixelsFromWindow(w, this.width, this.n));
  }
}
