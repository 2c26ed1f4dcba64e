// A horizontal d3 brush on a curve chart that speaks rank windows: it snaps to whole ranks, can
// be moved by code (linked brushes) without echoing back as a user move, always has a grab
// target (a window narrower than GRIP_PX gets one centred on it that drags the window, with a
// resize tab on each side of it, since the grip covers d3's own edge handles), and takes the
// keyboard when focused (see brushKeys).

import { brushX, type BrushBehavior, type D3BrushEvent } from "d3-brush";
import type { Selection } from "d3-selection";
import { gripPixels, keyWindow } from "./brushKeys";
import { clampWindow, pixelsFromWindow, type RankWindow, windowFromPixels } from "./geometry";

/** The narrowest grab target a window gets, in CSS px. */
export const GRIP_PX = 12;
/** d3's resize handles are 6 px wide on each edge: below this the middle is all handles. */
const HANDLES_PX = 6;
/** Width of the resize tabs beside a narrow window's grip, in CSS px. */
export const TAB_PX = 8;

export class RankBrush {
  private readonly behavior: BrushBehavior<unknown>;
  private readonly g: Selection<SVGGElement, unknown, null, undefined>;
  private readonly grip: Selection<SVGRectElement, { type: string }, null, undefined>;
  /** The narrow window's resize tabs, west and east of the grip. */
  private readonly tabs: Selection<SVGRectElement, { type: string }, SVGGElement, unknown>;
  private width = 0;
  private height = 0;
  private n = 0;
  private log = false;
  private current: RankWindow | null = null;
  /** Plot width the brush was last drawn for (a resize must redraw it). */
  private shownFor = -1;

  constructor(
    plot: Selection<SVGGElement, unknown, null, undefined>,
    /** Called while the user drags and once more at the end. */
    private readonly onMove: (window: RankWindow) => void,
  ) {
    this.g = plot
      .append("g")
      .attr("class", "brush")
      .attr("data-testid", "curve-brush")
      .attr("tabindex", 0)
      .attr("role", "slider")
      .attr("aria-label", "rank window: arrows move it, shift+arrows resize it");
    this.behavior = brushX<unknown>().on("brush end", (event: D3BrushEvent<unknown>) => this.brushed(event));
    // d3 starts a drag of the whole window from any element whose datum says "selection".
    this.grip = this.g.append("rect").datum({ type: "selection" }).attr("class", "grip").attr("data-testid", "brush-grip");
    // ... and a resize of one edge from an element whose datum names that edge ("w" or "e").
    this.tabs = this.g
      .selectAll<SVGRectElement, { type: string }>("rect.tab")
      .data([{ type: "w" }, { type: "e" }])
      .join("rect")
      .attr("class", (d) => `tab tab-${d.type}`)
      .attr("data-testid", (d) => `brush-tab-${d.type}`)
      .attr("width", TAB_PX);
    this.g.on("keydown", (event: KeyboardEvent) => this.key(event));
  }

  resize(width: number, height: number, n: number, log: boolean): void {
    if (width === this.width && height === this.height && n === this.n && log === this.log) return;
    this.log = log;
    this.width = width;
    this.height = height;
    this.n = n;
    this.behavior.extent([
      [0, 0],
      [width, height],
    ]);
    this.g.call(this.behavior);
    this.grip.raise().attr("height", height);
    this.tabs.raise().attr("y", height / 4).attr("height", height / 2);
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
    const px = pixelsFromWindow(w, this.width, this.n, this.log);
    this.behavior.move(this.g, px);
    this.placeGrip(px);
  }

  private brushed(event: D3BrushEvent<unknown>): void {
    if (!event.sourceEvent) return; // moved by code
    const sel = event.selection as [number, number] | null;
    if (!sel) {
      // A click without drag clears a d3 brush; keep the window instead.
      if (this.current) this.move(this.current);
      return;
    }
    this.placeGrip(sel);
    let w = windowFromPixels(sel[0], sel[1], this.width, this.n, this.log);
    // Moving keeps the window's width in ranks (on a log axis its width in pixels changes).
    if (event.mode === "drag" && this.current) w = clampWindow({ lo: w.lo, hi: w.lo + this.current.hi - this.current.lo }, this.n);
    this.current = w;
    if (event.type === "end") this.move(w);
    this.onMove(w);
  }

  private key(event: KeyboardEvent): void {
    if (!this.current || this.n === 0) return;
    const w = keyWindow(this.current, event.key, event.shiftKey, this.n);
    if (!w) return;
    event.preventDefault();
    this.move(w);
    this.onMove(w);
  }

  /** The grab target over a window whose middle is too narrow to grab (hidden otherwise). */
  private placeGrip([s0, s1]: [number, number]): void {
    const narrow = s1 - s0 - HANDLES_PX < GRIP_PX;
    const [x0, x1] = gripPixels(s0, s1, narrow ? GRIP_PX : 0);
    this.grip.attr("display", narrow ? null : "none").attr("x", x0).attr("width", x1 - x0);
    this.tabs.attr("display", narrow ? null : "none").attr("x", (d) => (d.type === "w" ? x0 - TAB_PX : x1));
  }
}
