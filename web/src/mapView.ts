// The map pane: every image's thumbnail at its grid cell on a canvas, panned and zoomed with
// d3-zoom. Only visible cells are drawn; below a dozen pixels per cell an overview bitmap (one
// pixel per cell, in each image's mean colour) stands in for thumbnails, so a 1M-image map
// costs one drawImage per frame and never holds an object per image.

import { select } from "d3-selection";
import { type D3ZoomEvent, zoom, type ZoomBehavior, zoomIdentity } from "d3-zoom";
import { labelColour, queryStyle } from "./colors";
import { buildIdByCell, chooseThumbSize, fitTransform, idAt, type RankWindow, type Transform, visibleCells, zoomAboutCentre } from "./geometry";
import type { Highlight } from "./highlight";
import { hexWord, paintCells, paintWindow, rgbaWord } from "./overview";
import type { Ranking } from "./ranking";
import type { MapSize } from "./mapToolbar";
import { type FetchThumbs, ThumbCache } from "./thumbCache";
import { MAP_FRAME, type MapFrame, MAX_FRAME_MEASURES, markFirstDraw } from "./timing";

/** Below this many CSS px per cell a 32 px thumbnail shows little more than its mean colour:
 * draw the overview instead of fetching thousands of thumbnails per screen. */
const MIN_THUMB_CELL_PX = 12;
/** More visible cells than this and per-cell drawing would stutter; it also stays below the
 * thumbnail cache's size, so a screen never evicts its own thumbnails. */
const MAX_DRAWN_CELLS = 6000;
/** A brushed window of at most this many images is marked cell by cell on the overview, where
 * a cell can be smaller than a pixel and would otherwise vanish. */
const MAX_MARKED = 2000;
/** Smallest marker, in CSS px, for a window image on the overview. */
const MARK_PX = 5;
const BACKGROUND = "#f4f4f2";
const NEUTRAL = rgbaWord(0x8a, 0x8a, 0x84);
const FADE = rgbaWord(244, 244, 242, 191);

export interface MapData {
  rows: number;
  cols: number;
  /** (N, 2) [row, col] flattened. */
  grid: Int32Array;
  /** (N,) label codes, -1 for none. */
  labels: Int32Array;
  /** (N, 3) uint8 mean RGB of each image, flattened; null until it arrives. */
  colours?: Uint8Array | null;
  thumbnailSizes: readonly number[];
}

/** The brushed window of the active query, to light up on the map. */
export interface MapWindow {
  ranking: Ranking;
  window: RankWindow;
  slot: number;
}

export class MapView {
  /** The pane's drawing area; the canvas fills it. */
  readonly root: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
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
  private overviewKey = "";
  private mask: HTMLCanvasElement | null = null;
  private maskFor: MapWindow | null = null;
  private colours: Uint8Array | null;
  private hovered = -1;
  private labelBorders = false;
  private mapSize: MapSize = "fit";
  private lit: MapWindow | null = null;
  /** Frames measured since the map-frame measures were last cleared. */
  private measured = 0;
  private firstDrawn = false;

  constructor(
    private readonly data: MapData,
    private readonly highlight: Highlight,
    private readonly onPick: (id: number) => void,
    fetchThumbs: FetchThumbs,
  ) {
    this.root = document.createElement("div");
    this.root.className = "map-holder";
    this.canvas = document.createElement("canvas");
    this.canvas.dataset.testid = "map-canvas";
    this.canvas.className = "map-canvas";
    this.root.append(this.canvas);
    const ctx = this.canvas.getContext("2d");
    if (!ctx) throw new Error("this browser cannot draw on a canvas");
    this.ctx = ctx;
    this.sizes = [...data.thumbnailSizes].sort((a, b) => a - b);
    this.colours = data.colours ?? null;
    this.idByCell = buildIdByCell(data.grid, data.rows, data.cols);
    this.thumbs = new ThumbCache(fetchThumbs, () => this.requestDraw());

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

  /** Screen centre of an image's cell relative to the canvas, or null if off the map. */
  cellCentre(id: number): { x: number; y: number } | null {
    if (id < 0 || 2 * id >= this.data.grid.length) return null;
    const t = this.transform;
    return { x: t.x + (this.data.grid[2 * id + 1] + 0.5) * t.k, y: t.y + (this.data.grid[2 * id] + 0.5) * t.k };
  }

  /** Size the canvas to its container; refits when the map is in "fit" mode. */
  resize(): void {
    const rect = this.root.getBoundingClientRect();
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
    // A first cell size from the URL zooms about the centre of the fitted grid.
    if (first) this.setTransform(fitTransform(w, h, this.data.rows, this.data.cols));
    if (first || this.mapSize === "fit") this.applySize(this.mapSize);
    else {
      // Keep the same world point at the centre when the pane is resized.
      const t = this.transform;
      this.setTransform({ k: t.k, x: t.x + (w - old.w) / 2, y: t.y + (h - old.h) / 2 });
    }
    this.requestDraw();
  }

  /** "fit" shows the whole grid; a number zooms to cells of that many px about the centre. */
  setSize(size: MapSize): void {
    if (size !== this.mapSize) this.applySize(size);
  }

  private applySize(size: MapSize): void {
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

  /** Each image's mean colour ((N, 3) uint8 flattened): the overview and placeholders use it. */
  setColours(colours: Uint8Array): void {
    this.colours = colours;
    this.requestDraw();
  }

  /** Light up `w` (nothing: null); the same window again changes nothing. */
  setWindow(w: MapWindow | null): void {
    const was = this.lit;
    const same = w === was || (w && was && w.ranking === was.ranking && w.window.lo === was.window.lo && w.window.hi === was.window.hi && w.slot === was.slot);
    if (same) return;
    this.lit = w;
    this.requestDraw();
  }

  private setTransform(t: Transform): void {
    this.zoomBehavior.transform(select(this.canvas), zoomIdentity.translate(t.x, t.y).scale(t.k));
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
    const started = performance.now();
    const { ctx, transform: t } = this;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, this.width, this.height);
    const { rows, cols } = this.data;
    const v = visibleCells(t, this.width, this.height, rows, cols);
    const count = (v.r1 - v.r0) * (v.c1 - v.c0);
    const overview = t.k < MIN_THUMB_CELL_PX || count > MAX_DRAWN_CELLS;
    let missing = 0;
    if (overview) this.drawOverview(t);
    else missing = this.drawCells(t, v.r0, v.r1, v.c0, v.c1, dpr);
    // Fetches what this frame lacked; drops fetches for cells no longer shown (none in the overview).
    this.thumbs.request();
    this.drawHovered(t);
    this.measure(started, { mode: overview ? "overview" : "cells", cells: overview ? 0 : count, cellPx: t.k, missing });
  }

  private measure(start: number, detail: MapFrame): void {
    if (!this.firstDrawn) {
      markFirstDraw("map");
      this.firstDrawn = true;
    }
    if (++this.measured > MAX_FRAME_MEASURES) {
      performance.clearMeasures(MAP_FRAME);
      this.measured = 1;
    }
    performance.measure(MAP_FRAME, { start, detail });
  }

  /** Draws the visible cells; returns how many still lack their thumbnail at the wanted size. */
  private drawCells(t: Transform, r0: number, r1: number, c0: number, c1: number, dpr: number): number {
    const { ctx, idByCell } = this;
    const { cols } = this.data;
    const size = chooseThumbSize(t.k, dpr, this.sizes);
    const gap = t.k >= 16 ? 1 : 0;
    // Thumbnails nearest the centre of the pane, where the eye is, are fetched first.
    const cx = this.width / 2;
    const cy = this.height / 2;
    let missing = 0;
    const colours = this.colours;
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
        let img = this.thumbs.get(size, id);
        if (!img) {
          missing++;
          const dx = x + s / 2 - cx;
          const dy = y + s / 2 - cy;
          this.thumbs.want(size, id, dx * dx + dy * dy);
          img = this.thumbs.any(this.sizes, id);
        }
        if (img) ctx.drawImage(img, x, y, s, s);
        else {
          // Until the thumbnail arrives its mean colour holds the place: the map does not flash grey.
          ctx.fillStyle = colours ? `rgb(${colours[3 * id]},${colours[3 * id + 1]},${colours[3 * id + 2]})` : "#d8d8d4";
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
    return missing;
  }

  /** One pixel per cell in each image's mean colour (label colours while borders are on), scaled. */
  private drawOverview(t: Transform): void {
    const { ctx } = this;
    const { rows, cols, grid, labels } = this.data;
    const key = this.labelBorders ? "labels" : this.colours ? "colours" : "neutral";
    if (!this.overview || this.overviewKey !== key) {
      const palette = new Map<number, number>();
      const labelWord = (code: number): number => {
        let w = palette.get(code);
        if (w === undefined) palette.set(code, (w = code >= 0 ? hexWord(labelColour(code)) : NEUTRAL));
        return w;
      };
      this.overview = this.cellBitmap(this.overview, (px) =>
        paintCells(px, grid, cols, key === "colours" ? this.colours : null, (id) => (key === "labels" ? labelWord(labels[id]) : NEUTRAL)),
      );
      this.overviewKey = key;
    }
    // Shrunk below a pixel per cell, averaging keeps the regions' colours instead of a random
    // subset of cells; enlarged, every cell stays a crisp square.
    ctx.imageSmoothingEnabled = t.k < 1;
    ctx.imageSmoothingQuality = "high";
    const w = cols * t.k;
    const h = rows * t.k;
    ctx.drawImage(this.overview, t.x, t.y, w, h);
    const lit = this.lit;
    if (!lit) return;
    const colour = queryStyle(lit.slot).colour;
    if (this.maskFor !== lit) {
      const { ids } = lit.ranking;
      this.mask = this.cellBitmap(this.mask, (px) => paintWindow(px, grid, cols, ids, lit.window.lo, lit.window.hi, FADE, hexWord(colour)));
      this.maskFor = lit;
    }
    if (this.mask) ctx.drawImage(this.mask, t.x, t.y, w, h);
    if (t.k < MARK_PX && lit.window.hi - lit.window.lo <= MAX_MARKED) this.markWindow(t, lit, colour);
  }

  /** The window's images as markers of at least MARK_PX, outlined, so a handful stays visible at 1M. */
  private markWindow(t: Transform, lit: MapWindow, colour: string): void {
    const { ctx } = this;
    const { grid } = this.data;
    const { ids } = lit.ranking;
    const s = Math.max(t.k, MARK_PX);
    ctx.beginPath();
    for (let r = lit.window.lo; r < lit.window.hi && r < ids.length; r++) {
      const id = ids[r];
      const x = t.x + (grid[2 * id + 1] + 0.5) * t.k - s / 2;
      const y = t.y + (grid[2 * id] + 0.5) * t.k - s / 2;
      if (x > -s && y > -s && x < this.width && y < this.height) ctx.rect(x, y, s, s);
    }
    ctx.fillStyle = colour;
    ctx.fill();
    ctx.lineWidth = 1;
    ctx.strokeStyle = "#fff";
    ctx.stroke();
  }

  /** A cols×rows canvas (reusing `reuse` when it has that size) whose pixels `paint` writes. */
  private cellBitmap(reuse: HTMLCanvasElement | null, paint: (px: Uint32Array) => void): HTMLCanvasElement {
    const { rows, cols } = this.data;
    let c = reuse;
    if (!c || c.width !== cols || c.height !== rows) {
      c = document.createElement("canvas");
      c.width = cols;
      c.height = rows;
    }
    const g = c.getContext("2d");
    if (!g) return c;
    const img = g.createImageData(cols, rows);
    paint(new Uint32Array(img.data.buffer));
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
