// Pure geometry of the map and of rank windows: no DOM, no drawing, so it is unit-tested.

import { positionToX, xToPosition } from "./rankScale";

/** A d3-zoom style transform: screen = world * k + (x, y); one world unit is one grid cell. */
export interface Transform {
  x: number;
  y: number;
  k: number;
}

/** Inclusive-exclusive range of grid cells: rows r0..r1-1, columns c0..c1-1. */
export interface CellRange {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
}

/** A window of ranks [lo, hi), 0 = most similar. */
export interface RankWindow {
  lo: number;
  hi: number;
}

/** The transform that shows the whole rows×cols grid centred in a width×height pane. */
export function fitTransform(width: number, height: number, rows: number, cols: number, padding = 4): Transform {
  const w = Math.max(1, width - 2 * padding);
  const h = Math.max(1, height - 2 * padding);
  const k = Math.max(1e-6, Math.min(w / Math.max(1, cols), h / Math.max(1, rows)));
  return { k, x: (width - cols * k) / 2, y: (height - rows * k) / 2 };
}

/** The transform with cells of `cellPx` screen pixels that keeps the pane's centre point fixed. */
export function zoomAboutCentre(t: Transform, cellPx: number, width: number, height: number): Transform {
  const cx = (width / 2 - t.x) / t.k;
  const cy = (height / 2 - t.y) / t.k;
  return { k: cellPx, x: width / 2 - cx * cellPx, y: height / 2 - cy * cellPx };
}

/** The cells that intersect the visible pane, clamped to the grid (empty when none). */
export function visibleCells(t: Transform, width: number, height: number, rows: number, cols: number): CellRange {
  const c0 = Math.max(0, Math.floor(-t.x / t.k));
  const r0 = Math.max(0, Math.floor(-t.y / t.k));
  const c1 = Math.min(cols, Math.ceil((width - t.x) / t.k));
  const r1 = Math.min(rows, Math.ceil((height - t.y) / t.k));
  return { r0, r1: Math.max(r0, r1), c0, c1: Math.max(c0, c1) };
}

/** The grid cell under screen point (px, py), or null outside the grid. */
export function cellAt(px: number, py: number, t: Transform, rows: number, cols: number): { row: number; col: number } | null {
  const col = Math.floor((px - t.x) / t.k);
  const row = Math.floor((py - t.y) / t.k);
  if (row < 0 || col < 0 || row >= rows || col >= cols) return null;
  return { row, col };
}

/**
 * Cell → image id lookup, row-major, -1 for empty cells. `grid` is the server's N×2 [row, col]
 * array flattened; building the inverse once makes hit-testing O(1) at any N.
 */
export function buildIdByCell(grid: Int32Array, rows: number, cols: number): Int32Array {
  const idByCell = new Int32Array(rows * cols).fill(-1);
  const n = grid.length / 2;
  for (let id = 0; id < n; id++) {
    const r = grid[2 * id];
    const c = grid[2 * id + 1];
    if (r >= 0 && r < rows && c >= 0 && c < cols) idByCell[r * cols + c] = id;
  }
  return idByCell;
}

/** The image id under a screen point, or -1. */
export function idAt(px: number, py: number, t: Transform, idByCell: Int32Array, rows: number, cols: number): number {
  const cell = cellAt(px, py, t, rows, cols);
  return cell ? idByCell[cell.row * cols + cell.col] : -1;
}

/**
 * The stored thumbnail size to show at `displayPx` device pixels: the smallest of `sizes` that
 * is at least that sharp, else the largest there is. Every thumbnail URL goes through this, so
 * the page never asks for a size the project lacks.
 */
export function thumbSizeFor(displayPx: number, sizes: readonly number[]): number {
  const sorted = [...sizes].sort((a, b) => a - b);
  for (const s of sorted) if (s >= displayPx) return s;
  return sorted[sorted.length - 1];
}

/** The stored thumbnail size to fetch for map cells drawn `cellPx` CSS pixels wide. */
export function chooseThumbSize(cellPx: number, devicePixelRatio: number, sizes: readonly number[]): number {
  return thumbSizeFor(cellPx * devicePixelRatio, sizes);
}

/** A window moved inside [0, n) keeping its width when possible, at least one rank wide. */
export function clampWindow(w: RankWindow, n: number): RankWindow {
  if (n <= 0) return { lo: 0, hi: 0 };
  let lo = Math.round(Math.min(w.lo, w.hi));
  let hi = Math.round(Math.max(w.lo, w.hi));
  const width = Math.min(n, Math.max(1, hi - lo));
  lo = Math.min(Math.max(0, lo), n - width);
  hi = lo + width;
  return { lo, hi };
}

/** The default window: the top of the ranking, as many ranks as the strip shows. */
export function defaultWindow(capacity: number, n: number): RankWindow {
  return clampWindow({ lo: 0, hi: Math.max(1, capacity) }, n);
}

/**
 * The ranks a strip of `capacity` images shows for a window: all of them when they fit,
 * else `capacity` ranks spread evenly from the first to the last of the window, so a wide
 * brush still samples its whole range.
 */
export function stripRanks(w: RankWindow, capacity: number): number[] {
  const len = w.hi - w.lo;
  if (len <= 0 || capacity <= 0) return [];
  if (len <= capacity) return Array.from({ length: len }, (_, i) => w.lo + i);
  if (capacity === 1) return [w.lo];
  const out: number[] = [];
  for (let i = 0; i < capacity; i++) out.push(w.lo + Math.round((i * (len - 1)) / (capacity - 1)));
  return out;
}

/** How many square images of `size` px with `gap` px between them fit in `width` px. */
export function stripCapacity(width: number, size: number, gap: number): number {
  return Math.max(0, Math.floor((width + gap) / (size + gap)));
}

/**
 * The rank window nearest to brush pixels [x0, x1] on a rank axis where rank r occupies
 * [r, r+1) of the domain [0, n) mapped linearly (or logarithmically, see rankScale) to [0, plotWidth].
 */
export function windowFromPixels(x0: number, x1: number, plotWidth: number, n: number, log = false): RankWindow {
  const toRank = (x: number): number => xToPosition(x, plotWidth, n, log);
  // Rounding both edges (not floor/ceil) keeps a dragged window's width when it moves by a
  // fraction of a rank.
  return clampWindow({ lo: Math.round(toRank(Math.min(x0, x1))), hi: Math.round(toRank(Math.max(x0, x1))) }, n);
}

/** Pixels [x0, x1] of a rank window on the same axis (inverse of windowFromPixels). */
export function pixelsFromWindow(w: RankWindow, plotWidth: number, n: number, log = false): [number, number] {
  return [positionToX(w.lo, plotWidth, n, log), positionToX(w.hi, plotWidth, n, log)];
}

/** Pixel x of the centre of rank r. */
export function rankToX(rank: number, plotWidth: number, n: number, log = false): number {
  return positionToX(rank + 0.5, plotWidth, n, log);
}
