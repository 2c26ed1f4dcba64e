// The map's tile pyramid as geometry: which level a zoom wants, which tiles the pane shows and
// where each lands on screen. A level is a number of pixels per grid cell; its tiles are
// tilePx square and hold tilePx / px cells a side (the grid's edge tiles fewer), as the
// server cuts them (deepviz/core/mosaic.py). Pure: the map view fetches and draws.

import type { Transform } from "./geometry";

/** What the server offers (ProjectInfo.tiles) and the grid it is cut from. */
export interface TileGrid {
  rows: number;
  cols: number;
  /** Pixels per cell of each level, ascending. */
  levels: readonly number[];
  tilePx: number;
}

export interface TileRange {
  ty0: number;
  ty1: number;
  tx0: number;
  tx1: number;
}

/** How much a level may be enlarged before the next sharper one is drawn instead: a 4 px level
 * at 4.5 px per cell looks the same, and costs a quarter of the 8 px level's pixels. */
const STRETCH = 1.25;

/** The level for cells of `cellPx` CSS px: the smallest about as sharp as the screen's device
 * pixels, else the sharpest there is. */
export function chooseLevel(cellPx: number, devicePixelRatio: number, levels: readonly number[]): number {
  const want = cellPx * devicePixelRatio;
  for (const px of levels) if (px * STRETCH >= want) return px;
  return levels[levels.length - 1];
}

/** `range` grown by one tile on every side, clamped to the grid: the tiles a pan reaches next. */
export function aroundTiles(range: TileRange, g: TileGrid, px: number): TileRange {
  const b = cellsPerTile(px, g.tilePx);
  return {
    ty0: Math.max(0, range.ty0 - 1),
    ty1: Math.min(Math.ceil(g.rows / b), range.ty1 + 1),
    tx0: Math.max(0, range.tx0 - 1),
    tx1: Math.min(Math.ceil(g.cols / b), range.tx1 + 1),
  };
}

/** Cells along a tile's side at level `px`. */
export function cellsPerTile(px: number, tilePx: number): number {
  return Math.max(1, Math.floor(tilePx / px));
}

/** The tiles of level `px` that intersect a width × height pane (empty when none). */
export function visibleTiles(t: Transform, width: number, height: number, g: TileGrid, px: number): TileRange {
  const b = cellsPerTile(px, g.tilePx);
  const span = b * t.k;
  const tx0 = Math.max(0, Math.floor(-t.x / span));
  const ty0 = Math.max(0, Math.floor(-t.y / span));
  const tx1 = Math.min(Math.ceil(g.cols / b), Math.ceil((width - t.x) / span));
  const ty1 = Math.min(Math.ceil(g.rows / b), Math.ceil((height - t.y) / span));
  return { ty0, ty1: Math.max(ty0, ty1), tx0, tx1: Math.max(tx0, tx1) };
}

/** Tile (ty, tx)'s square on screen, cut to the grid and snapped to whole pixels, so
 * neighbouring tiles share their edges: no seam, no overlap. */
export function tileRect(t: Transform, g: TileGrid, px: number, ty: number, tx: number): { x: number; y: number; w: number; h: number } {
  const b = cellsPerTile(px, g.tilePx);
  const x0 = Math.round(t.x + tx * b * t.k);
  const y0 = Math.round(t.y + ty * b * t.k);
  const x1 = Math.round(t.x + Math.min(g.cols, (tx + 1) * b) * t.k);
  const y1 = Math.round(t.y + Math.min(g.rows, (ty + 1) * b) * t.k);
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}
