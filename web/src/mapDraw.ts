// Drawing the map: each function takes (ctx, scene, viewport) and only draws, so it is
// unit-tested with a recording context. Where the pictures come from (the thumbnail cache,
// the overview bitmaps) is the map view's business.

import { LIT_ON_LABELS, labelStyle, queryStyle } from "./colors";
import type { CellRange, RankWindow, Transform } from "./geometry";
import type { Ranking } from "./ranking";
import { type TileGrid, type TileRange, tileRect } from "./tiles";

/** The brushed window of the active query, to light up on the map. */
export interface MapWindow {
  ranking: Ranking;
  window: RankWindow;
  slot: number;
}

/** What the map shows, independent of where it is looked at. */
export interface MapScene {
  rows: number;
  cols: number;
  /** (N, 2) [row, col] flattened. */
  grid: Int32Array;
  /** (N,) label codes, -1 for none. */
  labels: Int32Array;
  /** rows×cols image id per cell, -1 for none (geometry.buildIdByCell). */
  idByCell: Int32Array;
  /** (N, 3) uint8 mean RGB of each image, flattened; null until it arrives. */
  colours: Uint8Array | null;
  labelBorders: boolean;
  lit: MapWindow | null;
  /** The highlighted image id, -1 for none. */
  hovered: number;
}

/** Where the scene is looked at: the pane's size in CSS px and the world→screen transform. */
export interface Viewport {
  width: number;
  height: number;
  transform: Transform;
}

/** A cell's picture at screen square (x, y, size): its thumbnail or a stand-in, null for none yet. */
export type CellImage = (id: number, x: number, y: number, size: number) => CanvasImageSource | null;

export const BACKGROUND = "#f4f4f2";
const PLACEHOLDER = "#d8d8d4";
const FADED = "rgba(244,244,242,0.6)";
/** Smallest marker, in CSS px, for a window image on the overview. */
export const MARK_PX = 5;

/** The cells of `range` as squares of their thumbnails (mean colour until one arrives), with the lit window and label borders. */
export function drawCells(ctx: CanvasRenderingContext2D, scene: MapScene, vp: Viewport, range: CellRange, image: CellImage): void {
  const t = vp.transform;
  const gap = t.k >= 16 ? 1 : 0;
  const s = t.k - gap;
  const { cols, idByCell, colours, lit } = scene;
  const litColour = lit ? litColourOf(scene, lit.slot) : "";
  ctx.imageSmoothingEnabled = true;
  for (let r = range.r0; r < range.r1; r++) {
    for (let c = range.c0; c < range.c1; c++) {
      const id = idByCell[r * cols + c];
      if (id < 0) continue;
      const x = t.x + c * t.k;
      const y = t.y + r * t.k;
      const img = image(id, x, y, s);
      if (img) ctx.drawImage(img, x, y, s, s);
      else {
        // Until the thumbnail arrives its mean colour holds the place: the map does not flash grey.
        ctx.fillStyle = colours ? `rgb(${colours[3 * id]},${colours[3 * id + 1]},${colours[3 * id + 2]})` : PLACEHOLDER;
        ctx.fillRect(x, y, s, s);
      }
      // The label border outside, the lit window's outline inside it: both stay visible.
      const code = scene.labels[id];
      const border = scene.labelBorders && code >= 0 ? Math.max(1, t.k * 0.06) : 0;
      const rank = lit ? lit.ranking.rankOf[id] : -1;
      const inWindow = lit !== null && rank >= lit.window.lo && rank < lit.window.hi;
      if (lit && !inWindow) {
        ctx.fillStyle = FADED;
        ctx.fillRect(x, y, s, s);
      }
      if (border) labelOutline(ctx, x, y, s, code, border);
      if (inWindow) outline(ctx, x + border, y + border, s - 2 * border, litColour, Math.min(4, Math.max(1.5, t.k * 0.08)));
    }
  }
}

/** The lit window's colour: its query's, or near-black while label borders use the palette. */
function litColourOf(scene: MapScene, slot: number): string {
  return scene.labelBorders ? LIT_ON_LABELS : queryStyle(slot).colour;
}

/** Label `code`'s border inside a square: its hue, and past the first ten labels its dash pattern over white. */
function labelOutline(ctx: CanvasRenderingContext2D, x: number, y: number, s: number, code: number, width: number): void {
  const { colour, dash } = labelStyle(code);
  if (dash.length === 0) {
    outline(ctx, x, y, s, colour, width);
    return;
  }
  outline(ctx, x, y, s, "#fff", width);
  ctx.setLineDash(dash.map((d) => d * width));
  outline(ctx, x, y, s, colour, width);
  ctx.setLineDash([]);
}

/** A square's border drawn inside it. */
function outline(ctx: CanvasRenderingContext2D, x: number, y: number, s: number, colour: string, width: number): void {
  ctx.strokeStyle = colour;
  ctx.lineWidth = width;
  ctx.strokeRect(x + width / 2, y + width / 2, s - width, s - width);
}

/** A cols×rows bitmap (one pixel per cell) stretched over the grid: the overview or the window's mask. */
export function drawCellBitmap(ctx: CanvasRenderingContext2D, scene: MapScene, vp: Viewport, bitmap: CanvasImageSource): void {
  const t = vp.transform;
  // Shrunk below a pixel per cell, averaging keeps the regions' colours instead of a random
  // subset of cells; enlarged, every cell stays a crisp square.
  ctx.imageSmoothingEnabled = t.k < 1;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(bitmap, t.x, t.y, scene.cols * t.k, scene.rows * t.k);
}

/** The tiles of `range` at level `px` that have a picture (`image(ty, tx)`), each on its square of the grid. */
export function drawTiles(
  ctx: CanvasRenderingContext2D,
  vp: Viewport,
  g: TileGrid,
  px: number,
  range: TileRange,
  image: (ty: number, tx: number) => CanvasImageSource | null,
): void {
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "low"; // bilinear: a tile is at most STRETCH times its size, and it is drawn every frame
  for (let ty = range.ty0; ty < range.ty1; ty++) {
    for (let tx = range.tx0; tx < range.tx1; tx++) {
      const img = image(ty, tx);
      if (!img) continue;
      const r = tileRect(vp.transform, g, px, ty, tx);
      ctx.drawImage(img, r.x, r.y, r.w, r.h);
    }
  }
}

/** The lit window's images as markers of at least MARK_PX, outlined, so a handful stays visible at 1M. */
export function markWindow(ctx: CanvasRenderingContext2D, scene: MapScene, vp: Viewport): void {
  const { lit, grid } = scene;
  if (!lit) return;
  const t = vp.transform;
  const { ids } = lit.ranking;
  const s = Math.max(t.k, MARK_PX);
  ctx.beginPath();
  for (let r = lit.window.lo; r < lit.window.hi && r < ids.length; r++) {
    const id = ids[r];
    const x = t.x + (grid[2 * id + 1] + 0.5) * t.k - s / 2;
    const y = t.y + (grid[2 * id] + 0.5) * t.k - s / 2;
    if (x > -s && y > -s && x < vp.width && y < vp.height) ctx.rect(x, y, s, s);
  }
  ctx.fillStyle = litColourOf(scene, lit.slot);
  ctx.fill();
  ctx.lineWidth = 1;
  ctx.strokeStyle = "#fff";
  ctx.stroke();
}

/** Screen centre of an image's cell, or null if it has none. */
export function cellCentre(scene: MapScene, t: Transform, id: number): { x: number; y: number } | null {
  if (id < 0 || 2 * id >= scene.grid.length) return null;
  return { x: t.x + (scene.grid[2 * id + 1] + 0.5) * t.k, y: t.y + (scene.grid[2 * id] + 0.5) * t.k };
}

/**
 * The cells of `ids` outlined in `colour`, each at least MARK_PX wide so a few stay visible on the
 * overview, `inset` px inside the cell (a second set's outline then shows inside the first's).
 * One path for all of them: a stroke per set, however many ids.
 */
export function outlineCells(
  ctx: CanvasRenderingContext2D,
  vp: Viewport,
  grid: Int32Array,
  ids: ArrayLike<number>,
  colour: string,
  inset = 0,
): void {
  if (!ids.length) return;
  const t = vp.transform;
  const s = Math.max(t.k, MARK_PX) - 2 * inset;
  const line = Math.min(3, Math.max(1, t.k * 0.08));
  if (s <= line) return;
  ctx.beginPath();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    const x = t.x + (grid[2 * id + 1] + 0.5) * t.k - s / 2;
    const y = t.y + (grid[2 * id] + 0.5) * t.k - s / 2;
    if (x > -s && y > -s && x < vp.width && y < vp.height) ctx.rect(x + line / 2, y + line / 2, s - line, s - line);
  }
  ctx.lineWidth = line;
  ctx.strokeStyle = colour;
  ctx.stroke();
}

/** The hovered image's cell outlined dark then light: visible on any thumbnail. */
export function drawHovered(ctx: CanvasRenderingContext2D, scene: MapScene, vp: Viewport): void {
  const centre = cellCentre(scene, vp.transform, scene.hovered);
  if (!centre) return;
  const s = Math.max(vp.transform.k, 6);
  const x = centre.x - s / 2;
  const y = centre.y - s / 2;
  ctx.lineWidth = 3;
  ctx.strokeStyle = "#111";
  ctx.strokeRect(x - 1.5, y - 1.5, s + 3, s + 3);
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = "#fff";
  ctx.strokeRect(x - 3.75, y - 3.75, s + 7.5, s + 7.5);
}
