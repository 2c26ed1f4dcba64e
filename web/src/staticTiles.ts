// The map's thumbnails in a static site: one file per block of tile x tile map cells (the
// cells near each other on screen), so a screen of thumbnails is a few dozen files rather
// than thousands, with no Range requests (deepviz/export/site.py writes them).

/** The tile file name of image `id`: t{tileRow}_{tileCol}, from its [row, col] cell in `grid`. */
export function tileOf(grid: Int32Array, id: number, tile: number): string {
  return `t${Math.floor(grid[2 * id] / tile)}_${Math.floor(grid[2 * id + 1] / tile)}`;
}

/** The URL of a tile under data/thumbs/. */
export function tileUrl(size: number, tile: string): string {
  return `${size}/${tile}.bin`;
}

/**
 * A tile file -> each of its images' JPEG bytes by id. Layout (little-endian): uint32 K, K ids,
 * K + 1 offsets from the end of the header, then the JPEGs back to back.
 */
export function splitTile(buf: ArrayBuffer): Map<number, Uint8Array<ArrayBuffer>> {
  const view = new DataView(buf);
  if (buf.byteLength < 4) throw new Error(`thumbnail tile of ${buf.byteLength} bytes is too short`);
  const k = view.getUint32(0, true);
  const header = 4 * (2 * k + 2);
  if (header > buf.byteLength) throw new Error(`thumbnail tile of ${k} images is cut short`);
  const out = new Map<number, Uint8Array<ArrayBuffer>>();
  for (let i = 0; i < k; i++) {
    const start = header + view.getUint32(4 * (1 + k + i), true);
    const stop = header + view.getUint32(4 * (2 + k + i), true);
    if (stop > buf.byteLength || stop < start) throw new Error(`thumbnail tile's image ${i} runs past its end`);
    out.set(view.getUint32(4 * (1 + i), true), new Uint8Array(buf, start, stop - start));
  }
  return out;
}
