// A lasso on the map: while it is on, a drag draws a free-hand outline over the map (instead of
// panning it) and, on release, reports the images whose cells' centres lie inside. The test
// runs over typed arrays, one pass over the grid, so a lasso on a 1M map makes no object per image.

import type { Transform } from "./geometry";

/** Ids whose cell centre (under `t`) is inside the polygon `pts` (screen px). */
export function idsInPolygon(pts: readonly [number, number][], grid: Int32Array, t: Transform): number[] {
  if (pts.length < 3) return [];
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const [x, y] of pts) {
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  const out: number[] = [];
  const n = grid.length / 2;
  for (let id = 0; id < n; id++) {
    const x = t.x + (grid[2 * id + 1] + 0.5) * t.k;
    const y = t.y + (grid[2 * id] + 0.5) * t.k;
    if (x < x0 || x > x1 || y < y0 || y > y1) continue;
    if (inside(pts, x, y)) out.push(id);
  }
  return out;
}

/** Even-odd rule: does a ray to the right of (x, y) cross the outline an odd number of times? */
function inside(pts: readonly [number, number][], x: number, y: number): boolean {
  let odd = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i];
    const [xj, yj] = pts[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) odd = !odd;
  }
  return odd;
}

/** The lasso's layer over the map: an SVG that takes the pointer only while the lasso is on. */
export class Lasso {
  readonly root: SVGSVGElement;
  private readonly path: SVGPathElement;
  private points: [number, number][] = [];
  private drawing = false;

  constructor(onDone: (pts: [number, number][]) => void) {
    const ns = "http://www.w3.org/2000/svg";
    this.root = document.createElementNS(ns, "svg");
    this.root.setAttribute("class", "lasso-layer");
    this.root.dataset.testid = "lasso-layer";
    this.path = document.createElementNS(ns, "path");
    this.root.append(this.path);
    this.setOn(false);
    this.root.addEventListener("pointerdown", (e) => {
      this.drawing = true;
      this.points = [this.local(e)];
      this.root.setPointerCapture(e.pointerId);
      this.redraw();
    });
    this.root.addEventListener("pointermove", (e) => {
      if (!this.drawing) return;
      this.points.push(this.local(e));
      this.redraw();
    });
    this.root.addEventListener("pointerup", () => {
      if (!this.drawing) return;
      this.drawing = false;
      const pts = this.points;
      this.points = [];
      this.redraw();
      onDone(pts);
    });
  }

  get on(): boolean {
    return this.root.classList.contains("on");
  }

  setOn(on: boolean): void {
    this.root.classList.toggle("on", on);
  }

  private local(e: PointerEvent): [number, number] {
    const r = this.root.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private redraw(): void {
    this.path.setAttribute("d", this.points.length ? `M${this.points.map(([x, y]) => `${x},${y}`).join("L")}Z` : "");
  }
}
