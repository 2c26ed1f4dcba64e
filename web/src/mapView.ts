// The map pane: every image's thumbnail at its grid cell on a canvas, panned and zoomed with
// d3-zoom. Only visible cells are drawn; below a dozen pixels per cell the tile pyramid (1 to 8
// pixels of each image, the server's PNG tiles, see tiles.ts) stands in for thumbnails, over an
// overview bitmap (one pixel per cell, in each image's mean colour) where a tile has not arrived,
// so a 1M-image map costs a few dozen drawImage calls per frame and never holds an object per image. The drawing itself is in
// mapDraw.ts; this view holds the canvas, the zoom, the thumbnails and the bitmaps.

import { select } from "d3-selection";
import type { GridCells } from "./api";
import { type D3ZoomEvent, zoom, type ZoomBehavior, zoomIdentity } from "d3-zoom";
import { labelColour, queryStyle } from "./colors";
import { buildIdByCell, chooseThumbSize, type CellRange, fitTransform, idAt, type Transform, visibleCells, zoomAboutCentre } from "./geometry";
import type { Highlight } from "./highlight";
import { BACKGROUND, type CellImage, drawCellBitmap, drawCells, drawHovered, drawTiles, MARK_PX, type MapScene, type MapWindow, markWindow, type Viewport } from "./mapDraw";
import type { MapSize } from "./mapToolbar";
import { hexWord, paintCells, paintWindow, rgbaWord } from "./overview";
import { type FetchThumbs, ThumbCache } from "./thumbCache";
import { type FetchTile, TileCache } from "./tileCache";
import { aroundTiles, chooseLevel, type TileGrid, visibleTiles } from "./tiles";
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
const NEUTRAL = rgbaWord(0x8a, 0x8a, 0x84);
const FADE = rgbaWord(244, 244, 242, 191);

export interface MapData {
  rows: number;
  cols: number;
  /** (N, 2) [row, col] flattened. */
  grid: Int32Array;
  /** (N,) label codes, -1 for none. */
  labels: Int32Array;
  /** The project's thumbnail sizes in px. */
  thumbnailSizes: readonly number[];
}

/** The server's tile pyramid (ProjectInfo.tiles) and how to fetch a tile. */
export interface MapTiles {
  levels: readonly number[];
  tilePx: number;
  /** Tile (ty, tx) of level px of the grid shown: the stored one (aspect 0) or the fitted one of `aspect`. */
  url: (aspect: number, px: number, ty: number, tx: number) => string;
  fetch: FetchTile;
}

export class MapView {
  /** The pane's drawing area; the canvas fills it. */
  readonly root: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly zoomBehavior: ZoomBehavior<HTMLCanvasElement, unknown>;
  private readonly thumbs: ThumbCache;
  private readonly tileCache: TileCache | null;
  /** The aspect of the grid shown, which names its tiles (0: the project's stored grid). */
  private gridAspect = 0;
  private readonly sizes: number[];
  /** What is drawn; the setters below change it and ask for a frame. */
  private readonly scene: MapScene;
  private transform: Transform = { x: 0, y: 0, k: 1 };
  private width = 0;
  private height = 0;
  private frame = 0;
  private overview: HTMLCanvasElement | null = null;
  private overviewKey = "";
  private mask: HTMLCanvasElement | null = null;
  private maskFor: MapWindow | null = null;
  private mapSize: MapSize = "fit";
  /** Frames measured since the map-frame measures were last cleared. */
  private measured = 0;
  private firstDrawn = false;
  /** Other components' drawings over the cells (e.g. a concept's members), drawn each frame before the hover. */
  private readonly layers: ((ctx: CanvasRenderingContext2D, vp: Viewport) => void)[] = [];

  constructor(
    data: MapData,
    private readonly highlight: Highlight,
    private readonly onPick: (id: number) => void,
    fetchThumbs: FetchThumbs,
    private readonly tiles: MapTiles | null = null,
  ) {
    this.root = document.createElement("div");
    this.root.className = "map-holder";
    this.canvas = document.createElement("canvas");
    this.canvas.dataset.testid = "map-canvas";
    this.canvas.className = "map-canvas";
    Object.assign(this.canvas.dataset, { rows: String(data.rows), cols: String(data.cols) });
    this.root.append(this.canvas);
    const ctx = this.canvas.getContext("2d");
    if (!ctx) throw new Error("this browser cannot draw on a canvas");
    this.ctx = ctx;
    this.sizes = [...data.thumbnailSizes].sort((a, b) => a - b);
    const { rows, cols, grid, labels } = data;
    this.scene = { rows, cols, grid, labels, idByCell: buildIdByCell(grid, rows, cols), colours: null, labelBorders: false, lit: null, hovered: -1 };
    this.thumbs = new ThumbCache(fetchThumbs, () => this.requestDraw());
    this.tileCache = tiles ? new TileCache(tiles.fetch, () => this.requestDraw()) : null;

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
      if (id !== this.scene.hovered) {
        this.scene.hovered = id;
        this.requestDraw();
      }
    });
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
    if (first) this.setTransform(fitTransform(w, h, this.scene.rows, this.scene.cols));
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
    const { rows, cols } = this.scene;
    const fit = fitTransform(this.width, this.height, rows, cols);
    this.zoomBehavior.scaleExtent([Math.min(fit.k / 2, 1), 512]);
    if (size === "fit") this.setTransform(fit);
    else {
      // From the fitted view the centre of the pane is the centre of the grid.
      const base = this.transform.k > 0 && this.width > 0 ? this.transform : fit;
      this.setTransform(zoomAboutCentre(base, size, this.width, this.height));
    }
  }

  /**
   * Show the same images on another grid (one shaped like the pane, see gridFit.ts): hit-testing,
   * the overview and the lit window follow it, and the view refits (or keeps its cell size).
   */
  setGrid({ grid, rows, cols }: GridCells, aspect: number): void {
    Object.assign(this.scene, { grid, rows, cols, idByCell: buildIdByCell(grid, rows, cols) });
    this.gridAspect = aspect;
    this.overview = null;
    this.maskFor = null;
    // Tests find an image's cell from these (the grid is /api/grid?aspect=ASPECT).
    Object.assign(this.canvas.dataset, { rows: String(rows), cols: String(cols), gridAspect: String(aspect) });
    if (this.width > 0) this.applySize(this.mapSize);
    this.requestDraw();
  }

  /** The grid shown now ((N, 2) [row, col] flattened): the stored one, or one fitted to the pane. */
  get grid(): Int32Array {
    return this.scene.grid;
  }

  /** The grid shown now with its shape (rows × cols cells). */
  get cells(): { grid: Int32Array; rows: number; cols: number } {
    return { grid: this.scene.grid, rows: this.scene.rows, cols: this.scene.cols };
  }

  fitting(on: boolean): void {
    if (on) this.canvas.dataset.gridFitting = "true";
    else delete this.canvas.dataset.gridFitting;
  }

  /** The pane's width / height in CSS px (1 before it is laid out). */
  paneAspect(): number {
    return this.width > 0 && this.height > 0 ? this.width / this.height : 1;
  }

  setLabelBorders(on: boolean): void {
    if (on === this.scene.labelBorders) return;
    this.scene.labelBorders = on;
    this.requestDraw();
  }

  /** Each image's mean colour ((N, 3) uint8 flattened): the overview and placeholders use it. */
  setColours(colours: Uint8Array): void {
    this.scene.colours = colours;
    this.requestDraw();
  }

  /** Light up `w` (nothing: null); the same window again changes nothing. */
  setWindow(w: MapWindow | null): void {
    const was = this.scene.lit;
    const same = w === was || (w && was && w.ranking === was.ranking && w.window.lo === was.window.lo && w.window.hi === was.window.hi && w.slot === was.slot);
    if (same) return;
    this.scene.lit = w;
    this.requestDraw();
  }

  /** Draw `layer` over the cells on every frame (it is given the context and the viewport). */
  addLayer(layer: (ctx: CanvasRenderingContext2D, vp: Viewport) => void): void {
    this.layers.push(layer);
    this.requestDraw();
  }

  /** What the map shows now: its size in CSS px and the grid→screen transform. */
  get viewport(): Viewport {
    return { width: this.width, height: this.height, transform: this.transform };
  }

  /** Ask for a frame (a layer's content changed). */
  redraw(): void {
    this.requestDraw();
  }

  private setTransform(t: Transform): void {
    this.zoomBehavior.transform(select(this.canvas), zoomIdentity.translate(t.x, t.y).scale(t.k));
  }

  private idAtEvent(e: MouseEvent): number {
    const r = this.canvas.getBoundingClientRect();
    return idAt(e.clientX - r.left, e.clientY - r.top, this.transform, this.scene.idByCell, this.scene.rows, this.scene.cols);
  }

  private requestDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const started = performance.now();
    const { ctx, scene } = this;
    const vp: Viewport = { width: this.width, height: this.height, transform: this.transform };
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, vp.width, vp.height);
    const range = visibleCells(vp.transform, vp.width, vp.height, scene.rows, scene.cols);
    const count = (range.r1 - range.r0) * (range.c1 - range.c0);
    const overview = vp.transform.k < MIN_THUMB_CELL_PX || count > MAX_DRAWN_CELLS;
    // Label colours are the overview's own picture: tiles would hide them.
    const tiled = overview && this.tileCache !== null && !scene.labelBorders;
    let missing = 0;
    let tilePx = 0;
    if (tiled) [missing, tilePx] = this.drawTiled(vp, dpr);
    else if (overview) this.drawOverview(vp);
    else missing = this.drawThumbnails(vp, range, dpr);
    if (overview) this.drawWindowMask(vp);
    // Fetches what this frame lacked; drops fetches for cells or tiles no longer shown.
    this.thumbs.request();
    this.tileCache?.request();
    for (const layer of this.layers) layer(ctx, vp);
    drawHovered(ctx, scene, vp);
    const mode = tiled ? "tiles" : overview ? "overview" : "cells";
    this.measure(started, { mode, cells: overview ? 0 : count, cellPx: vp.transform.k, missing, tilePx });
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

  /** Draws the cells of `range`; returns how many still lack their thumbnail at the wanted size. */
  private drawThumbnails(vp: Viewport, range: CellRange, dpr: number): number {
    const size = chooseThumbSize(vp.transform.k, dpr, this.sizes);
    // Thumbnails nearest the centre of the pane, where the eye is, are fetched first.
    const cx = vp.width / 2;
    const cy = vp.height / 2;
    let missing = 0;
    const image: CellImage = (id, x, y, s) => {
      const img = this.thumbs.get(size, id);
      if (img) return img;
      missing++;
      const dx = x + s / 2 - cx;
      const dy = y + s / 2 - cy;
      this.thumbs.want(size, id, dx * dx + dy * dy);
      // Meanwhile the same image at another size, when there is one.
      return this.thumbs.any(this.sizes, id);
    };
    drawCells(this.ctx, this.scene, vp, range, image);
    return missing;
  }

  /** The visible tiles of the level the zoom wants, over the mean-colour overview where any is
   * missing; returns [tiles missing, the level drawn]. */
  private drawTiled(vp: Viewport, dpr: number): [number, number] {
    const tiles = this.tiles;
    const cache = this.tileCache;
    if (!tiles || !cache) return [0, 0];
    const { rows, cols } = this.scene;
    const g: TileGrid = { rows, cols, levels: tiles.levels, tilePx: tiles.tilePx };
    const px = chooseLevel(vp.transform.k, dpr, tiles.levels);
    const range = visibleTiles(vp.transform, vp.width, vp.height, g, px);
    const span = (tiles.tilePx / px) * vp.transform.k;
    // Nearest the centre of the pane first; the ring around the pane after every visible tile,
    // so a pan finds its next tiles loaded.
    const far = vp.width * vp.width + vp.height * vp.height;
    const distance = (ty: number, tx: number): number =>
      (vp.transform.x + (tx + 0.5) * span - vp.width / 2) ** 2 + (vp.transform.y + (ty + 0.5) * span - vp.height / 2) ** 2;
    const shown: (ImageBitmap | null)[] = [];
    let missing = 0;
    for (let ty = range.ty0; ty < range.ty1; ty++) {
      for (let tx = range.tx0; tx < range.tx1; tx++) {
        const url = tiles.url(this.gridAspect, px, ty, tx);
        const img = cache.get(url);
        if (!img) {
          missing++;
          cache.want(url, distance(ty, tx));
        }
        shown.push(img);
      }
    }
    const ring = aroundTiles(range, g, px);
    for (let ty = ring.ty0; ty < ring.ty1; ty++) {
      for (let tx = ring.tx0; tx < ring.tx1; tx++) {
        if (ty >= range.ty0 && ty < range.ty1 && tx >= range.tx0 && tx < range.tx1) continue;
        const url = tiles.url(this.gridAspect, px, ty, tx);
        if (!cache.get(url)) cache.want(url, far + distance(ty, tx));
      }
    }
    if (missing) this.drawOverview(vp);
    const width = range.tx1 - range.tx0;
    drawTiles(this.ctx, vp, g, px, range, (ty, tx) => shown[(ty - range.ty0) * width + (tx - range.tx0)]);
    return [missing, px];
  }

  /** One pixel per cell in each image's mean colour (label colours while borders are on), scaled. */
  private drawOverview(vp: Viewport): void {
    const { ctx, scene } = this;
    const key = scene.labelBorders ? "labels" : scene.colours ? "colours" : "neutral";
    if (!this.overview || this.overviewKey !== key) {
      const palette = new Map<number, number>();
      const labelWord = (code: number): number => {
        let w = palette.get(code);
        if (w === undefined) palette.set(code, (w = code >= 0 ? hexWord(labelColour(code)) : NEUTRAL));
        return w;
      };
      const colours = key === "colours" ? scene.colours : null;
      const fallback = (id: number): number => (key === "labels" ? labelWord(scene.labels[id]) : NEUTRAL);
      this.overview = this.cellBitmap(this.overview, (px) => paintCells(px, scene.grid, scene.cols, colours, fallback));
      this.overviewKey = key;
    }
    drawCellBitmap(ctx, scene, vp, this.overview);
  }

  /** The lit window's mask over the zoomed-out map, and its images marked when they are few. */
  private drawWindowMask(vp: Viewport): void {
    const { ctx, scene } = this;
    const lit = scene.lit;
    if (!lit) return;
    if (this.maskFor !== lit) {
      const colour = hexWord(queryStyle(lit.slot).colour);
      this.mask = this.cellBitmap(this.mask, (px) => paintWindow(px, scene.grid, scene.cols, lit.ranking.ids, lit.window.lo, lit.window.hi, FADE, colour));
      this.maskFor = lit;
    }
    if (this.mask) drawCellBitmap(ctx, scene, vp, this.mask);
    if (vp.transform.k < MARK_PX && lit.window.hi - lit.window.lo <= MAX_MARKED) markWindow(ctx, scene, vp);
  }

  /** A cols×rows canvas (reusing `reuse` when it has that size) whose pixels `paint` writes. */
  private cellBitmap(reuse: HTMLCanvasElement | null, paint: (px: Uint32Array) => void): HTMLCanvasElement {
    const { rows, cols } = this.scene;
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
}
