// The map's zoomed-out picture as pixels: one pixel per grid cell, written straight into an
// ImageData's 32-bit words from typed arrays, so a million cells cost a few milliseconds and
// no per-image object. Pure (no DOM): the map view puts the words on a canvas.

/** A colour as the little-endian RGBA word ImageData stores (bytes r, g, b, a in memory). */
export function rgbaWord(r: number, g: number, b: number, a = 255): number {
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/** "#rrggbb" (or "#rgb") as an RGBA word; anything else is transparent. */
export function hexWord(hex: string, alpha = 255): number {
  let h = hex.startsWith("#") ? hex.slice(1) : "";
  if (h.length === 3) h = h.replace(/./g, (c) => c + c);
  if (!/^[0-9a-fA-F]{6}$/.test(h)) return 0;
  const n = parseInt(h, 16);
  return rgbaWord((n >> 16) & 255, (n >> 8) & 255, n & 255, alpha);
}

/**
 * Fill `px` (rows×cols words, row-major) with each image's colour at its cell: its mean RGB
 * from `colours` ((N, 3) uint8 flattened) when given, else `fallback(id)`. Cells without an
 * image stay as they are.
 */
export function paintCells(
  px: Uint32Array,
  grid: Int32Array,
  cols: number,
  colours: Uint8Array | null,
  fallback: (id: number) => number,
): void {
  const n = grid.length / 2;
  const useColours = colours !== null && colours.length >= 3 * n;
  for (let id = 0; id < n; id++) {
    const cell = grid[2 * id] * cols + grid[2 * id + 1];
    if (cell < 0 || cell >= px.length) continue;
    px[cell] = useColours
      ? rgbaWord(colours[3 * id], colours[3 * id + 1], colours[3 * id + 2])
      : fallback(id);
  }
}

/**
 * The rank-window mask: every cell `fade`, then the cells of ids[lo..hi) `lit`. Costs one
 * native fill plus the window's length, so dragging a brush over a 1M map stays smooth.
 */
export function paintWindow(
  px: Uint32Array,
  grid: Int32Array,
  cols: number,
  ids: Int32Array,
  lo: number,
  hi: number,
  fade: number,
  lit: number,
): void {
  px.fill(fade);
  const end = Math.min(hi, ids.length);
  for (let r = Math.max(0, lo); r < end; r++) {
    const id = ids[r];
    px[grid[2 * id] * cols + grid[2 * id + 1]] = lit;
  }
}

/**
 * (N, 3) RGB, flattened, of each image's label colour (`colour(code)`, "#rrggbb"), `neutral` for an
 * unlabelled one: a project still building has no mean colours yet, and its map shows labels instead.
 */
export function labelRgb(labels: Int32Array, colour: (code: number) => string, neutral: readonly [number, number, number]): Uint8Array {
  const out = new Uint8Array(3 * labels.length);
  const words = new Map<number, number>();
  for (let id = 0; id < labels.length; id++) {
    const code = labels[id];
    let w = words.get(code);
    if (w === undefined) words.set(code, (w = code >= 0 ? hexWord(colour(code)) : rgbaWord(...neutral)));
    out[3 * id] = w & 255;
    out[3 * id + 1] = (w >>> 8) & 255;
    out[3 * id + 2] = (w >>> 16) & 255;
  }
  return out;
}
