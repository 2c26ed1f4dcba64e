// The map pane: every image's thumbnail at its grid cell on a canvas, panned and zoomed with
// d3-zoom. Only visible cells are drawn; below a few pixels per cell an overview bitmap (one
// pixel per cell) stands in for thumbnails, so a 1M-image map costs one drawImage per frame.

import { select } from "d3-selection";
import { type D3ZoomEvent, zoom, type ZoomBehavior, zoomIdentity } from "d3-zoom";
import { labelColour, queryStyle } from "./colors";
import { buildIdByCell, chooseThumbSize, fitTransform, idAt, type RankWindow, type Transform, visibleCells, zoomAboutCentre } from "./geometry";
import type { Highlight } from "./highlight";
import type { Ranking } from "./ranking";
import type { MapSize } from "./state";
import { ThumbCache } from "./thumbCache";

/** Below this many CSS px per cell thumbnails are unreadable: draw the overview instead. */
const MIN_THUMB_CELL_PX = 6;
/** More visible cells than this and per-cell drawing would stutter. */
const MAX_DRAWN_CELLS = 40_000;

export interface MapData {
  rows: number;
  cols: number;
  /** (N, 2) [row, col] flattened. */
  grid: Int32Array;
  /** (N,) label codes, -1 for none. */
  labels: Int32Array;
  thumbnailSizes: readonly number[];
}

/** The brushed window of the active query, to light up on the map. */
export interface MapWindow {
  ranking: Ranking;
  window: RankWindow;
  slot: number;
}

export class MapView {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly zoomBehavior: ZoomBehavior<HTMLCanvasElement, unknown>;
  private readonly thumbs: ThumbCache;
  private readonly idByCell: Int32Array;
  private readonly sizes: number[];
  private transform: Transform = { x: 0, y: 0, k: 1 };
  private width = 0;
  private height = 0;
  private frame = 0;
  private overview: HTMLCanvasElement | null = null;
  private overviewLabels: boolean | null = null;
  private mask: HTMLCanvasElement | null = null;
  private maskFor: MapWindow | null = null;
  private hovered = -1;
  private labelBorders = false;
  private mapSize: MapSize = "fit";
  private lit: MapWindow | null = null;

  constructor(
    container: HTMLElement,
    private readonly data: MapData,
    private readonly highlight: Highlight,
    private readonly onPick: (id: number) => void,
  ) {
    this.canvas = document.createElement("canvas");
    this.canvas.dataset.testid = "map-canvas";
    this.canvas.className = "map-canvas";
    container.append(this.canvas);
    const ctx = this.canvas.getContext("2d");
    if (!ctx) throw new Error("this browser cannot draw on a canvas");
    this.ctx = ctx;
    this.sizes = [...data.thumbnailSizes].sort((a, b) => a - b);
    this.idByCell = buildIdByCell(data.grid, data.rows, data.cols);
    this.thumbs = new ThumbCache(() => this.requestDraw());

    this.zoomBehavior = zoom<HTMLCanvasElement, unknown>()
      .scaleExtent([1e-3, 512])
      .clickDistance(4)
      .on("zoom", (event: D3ZoomEvent<HTMLCanvasElement, unknown>) => {
        const { x, y, k } = event.transform;
        this.transform = { x, y, k };
        this.requestDraw();
      });
    // A double click would otherwise zoom and add the same image twice.
    select(this.canvas).call(this.zoomBehavior).on("dblclick.zoom", null);

    this.canvas.addEventListener("pointermove", (e) => {
      const id = this.idAtEvent(e);
      this.highlight.set(id >= 0 ? { id, source: "map", clientX: e.clientX, clientY: e.clientY } : null);
    });
    this.canvas.addEventListener("pointerleave", () => {
      if (this.highlight.current?.source === "map") this.highlight.set(null);
    });
    this.canvas.addEventListener("click", (e) => {
      const id = this.idAtEvent(e);
      if (id >= 0) this.onPick(id);
    });
    highlight.subscribe((h) => {
      const id = h ? h.id : -1;
      if (id !== this.hovered) {
        this.hovered = id;
        this.requestDraw();
      }
    });
  }

  /** Current cell size in CSS px (for tests and the size selector's "fit" label). */
  get cellPx(): number {
    return this.transform.k;
  }

  /** Screen centre of an image's cell relative to the canvas, or null if off the map. */
  cellCentre(id: number): { x: number; y: number } | null {
    if (id < 0 || 2 * id >= this.data.grid.length) return null;
    const t = this.transform;
    return { x: t.x + (this.data.grid[2 * id + 1] + 0.5) * t.k, y: t.y + (this.data.grid[2 * id] + 0.5) * t.k };
  }

  /** Size the canvas to its container; refits when the map is in "fit" mode. */
  resize(): void {
    const rect = this.canvas.parentElement?.getBoundingClientRect();
    if (!rect) return;
    const first = this.width === 0;
    const w = Math.max(1, Math.floor(rect.width));
    const h = Math.max(1, Math.floor(rect.height));
    if (w === this.width && h === this.height) return;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    const old = { w: this.width, h: this.height };
    this.width = w;
    this.height = h;
    if (first || this.mapSize === "fit") this.applySize(this.mapSize);
    else {
      // Keep the same world point at the centre when the pane is resized.
      const t = this.transform;
      this.setTransform({ k: t.k, x: t.x + (w - old.w) / 2, y: t.y + (h - old.h) / 2 });
    }
    this.requestDraw();
  }

  /** "fit" shows the whole grid; a number zooms to cells of that many px about the centre. */
  applySize(size: MapSize): void {
    this.mapSize = size;
    if (this.width === 0) return;
    const { rows, cols } = this.data;
    const fit = fitTransform(this.width, this.height, rows, cols);
    this.zoomBehavior.scaleExtent([Math.min(fit.k / 2, 1), 512]);
    if (size === "fit") this.setTransform(fit);
    else {
      // From the fitted view the centre of the pane is the centre of the grid.
      const base = this.transform.k > 0 && this.width > 0 ? this.transform : fit;
      this.setTransform(zoomAboutCentre(base, size, this.width, this.height));
    }
  }

  setLabelBorders(on: boolean): void {
    this.labelBorders = on;
    this.requestDraw();
  }

  setWindow(w: MapWindow | null): void {
    this.lit = w;
    this.requestDraw();
  }

  private setTransform(t: Transform): void {
    select(this.canvas).call(this.zoomBehavior.transform, zoomIdentity.translate(t.x, t.y).scale(t.k));
  }

  private idAtEvent(e: MouseEvent): number {
    const r = this.canvas.getBoundingClientRect();
    return idAt(e.clientX - r.left, e.clientY - r.top, this.transform, this.idByCell, this.data.rows, this.data.cols);
  }

  requestDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const { ctx, transform: t } = this;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#f4f4f2";
    ctx.fillRect(0, 0, this.width, this.height);
    const { rows, cols } = this.data;
    const v = visibleCells(t, this.width, this.height, rows, cols);
    const count = (v.r1 - v.r0) * (v.c1 - v.c0);
    if (t.k < MIN_THUMB_CELL_PX || count > MAX_DRAWN_CELLS) this.drawOverview(t);
    else this.drawCells(t, v.r0, v.r1, v.c0, v.c1, dpr);
    this.drawHovered(t);
  }

  private drawCells(t: Transform, r0: number, r1: number, c0: number, c1: number, dpr: number): void {
    const { ctx, idByCell } = this;
    const { cols } = this.data;
    const size = chooseThumbSize(t.k, dpr, this.sizes);
    const gap = t.k >= 16 ? 1 : 0;
    const wanted = new Set<number>();
    const lit = this.lit;
    const style = lit ? queryStyle(lit.slot) : null;
    ctx.imageSmoothingEnabled = true;
    for (let r = r0; r < r1; r++) {
      for (let c = c0; c < c1; c++) {
        const id = idByCell[r * cols + c];
        if (id < 0) continue;
        const x = t.x + c * t.k;
        const y = t.y + r * t.k;
        const s = t.k - gap;
        wanted.add(id);
        const img = this.thumbs.get(size, id) ?? this.thumbs.any(this.sizes, id);
        if (img) ctx.drawImage(img, x, y, s, s);
        else {
          ctx.fillStyle = "#d8d8d4";
          ctx.fillRect(x, y, s, s);
        }
        if (lit && style) {
          const rank = lit.ranking.rankOf[id];
          if (rank >= lit.window.lo && rank < lit.window.hi) {
            ctx.strokeStyle = style.colour;
            ctx.lineWidth = Math.min(4, Math.max(1.5, t.k * 0.08));
            ctx.strokeRect(x + ctx.lineWidth / 2, y + ctx.lineWidth / 2, s - ctx.lineWidth, s - ctx.lineWidth);
          } else {
            ctx.fillStyle = "rgba(244,244,242,0.6)";
            ctx.fillRect(x, y, s, s);
          }
        }
        if (this.labelBorders) {
          const code = this.data.labels[id];
          if (code >= 0) {
            ctx.strokeStyle = labelColour(code);
            ctx.lineWidth = Math.max(1, t.k * 0.06);
            ctx.strokeRect(x + ctx.lineWidth / 2, y + ctx.lineWidth / 2, s - ctx.lineWidth, s - ctx.lineWidth);
          }
        }
      }
    }
    this.thumbs.dropQueued((sz, id) => sz === size && wanted.has(id));
  }

  /** One pixel per cell, label-coloured or neutral, scaled up without smoothing. */
  private drawOverview(t: Transform): void {
    const { ctx } = this;
    if (!this.overview || this.overviewLabels !== this.labelBorders) {
      this.overview = this.cellBitmap((id) => (this.labelBorders && this.data.labels[id] >= 0 ? labelColour(this.data.labels[id]) : "#8a8a84"));
      this.overviewLabels = this.labelBorders;
    }
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.overview, t.x, t.y, this.data.cols * t.k, this.data.rows * t.k);
    const lit = this.lit;
    if (lit) {
      if (this.maskFor !== lit) {
        const colour = queryStyle(lit.slot).colour;
        const inWindow = new Set<number>();
        for (let r = lit.window.lo; r < lit.window.hi; r++) inWindow.add(lit.ranking.ids[r]);
        this.mask = this.cellBitmap((id) => (inWindow.has(id) ? colour : "rgba(244,244,242,0.75)"));
        this.maskFor = lit;
      }
      if (this.mask) ctx.drawImage(this.mask, t.x, t.y, this.data.cols * t.k, this.data.rows * t.k);
    }
  }

  /** A cols×rows canvas with each image's cell filled by `colour(id)`. */
  private cellBitmap(colour: (id: number) => string): HTMLCanvasElement {
    const { rows, cols, grid } = this.data;
    const c = document.createElement("canvas");
    c.width = cols;
    c.height = rows;
    const g = c.getContext("2d");
    if (!g) return c;
    const img = g.createImageData(cols, rows);
    const px = new Uint32Array(img.data.buffer);
    const cache = new Map<string, number>();
    for (let id = 0; id < grid.length / 2; id++) {
      const css = colour(id);
      let v = cache.get(css);
      if (v === undefined) {
        v = cssToAbgr(css);
        cache.set(css, v);
      }
      px[grid[2 * id] * cols + grid[2 * id + 1]] = v;
    }
    g.putImageData(img, 0, 0);
    return c;
  }

  private drawHovered(t: Transform): void {
    const id = this.hovered;
    const centre = this.cellCentre(id);
    if (!centre) return;
    const { ctx } = this;
    const s = Math.max(t.k, 6);
    const x = centre.x - s / 2;
    const y = centre.y - s / 2;
    // Dark then light outline: visible on any thumbnail.
    ctx.lineWidth = 3;
    ctx.strokeStyle = "#111";
    ctx.strokeRect(x - 1.5, y - 1.5, s + 3, s + 3);
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = "#fff";
    ctx.strokeRect(x - 3.75, y - 3.75, s + 7.5, s + 7.5);
  }
}

/** A CSS colour as the little-endian RGBA word ImageData stores. */
function cssToAbgr(css: string): number {
  const probe = document.createElement("canvas").getContext("2d");
  if (!probe) return 0;
  probe.fillStyle = css;
  probe.fillRect(0, 0, 1, 1);
  probe.clearRect(0, 0, 1, 1);
  probe.fillStyle = css;
  probe.fillRect(0, 0, 1, 1);
  const [r, g, b, a] = probe.getImageData(0, 0, 1, 1).data;
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}
