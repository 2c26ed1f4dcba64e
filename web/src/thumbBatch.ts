// Thumbnail batches for the map: which missing thumbnails to ask for first, the id list that
// names them in a URL, and the server's binary answer split back into JPEGs. Pure: no fetch,
// no DOM, so it is unit-tested.

/** The server refuses more ids than this in one request (deepviz/server/batch.py). */
export const MAX_BATCH_IDS = 1024;

/**
 * The wanted ids cut into batches of at most `perBatch`, the lowest `priority` (e.g. distance
 * to the view's centre) first, and at most `maxBatches` of them: the first batch fills the
 * middle of the screen, the next ones the rings around it. Each batch is sorted by id, so that
 * runs of neighbouring ids collapse into ranges in its URL.
 */
export function planBatches(
  ids: ArrayLike<number>,
  priority: ArrayLike<number>,
  perBatch: number,
  maxBatches = Infinity,
): number[][] {
  const per = Math.max(1, Math.min(MAX_BATCH_IDS, Math.floor(perBatch)));
  const order = Array.from({ length: ids.length }, (_, i) => i);
  order.sort((a, b) => priority[a] - priority[b] || ids[a] - ids[b]);
  const out: number[][] = [];
  for (let start = 0; start < order.length && out.length < maxBatches; start += per) {
    const batch = order.slice(start, start + per).map((i) => ids[i]);
    out.push(batch.sort((a, b) => a - b));
  }
  return out;
}

/** Ids in their order as the server's id list: "3,7-9,12" (runs of consecutive ids as ranges). */
export function encodeIds(ids: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j] + 1) j++;
    // A run of two is no shorter as a range.
    if (j - i >= 2) {
      parts.push(`${ids[i]}-${ids[j]}`);
      i = j + 1;
    } else {
      parts.push(String(ids[i]));
      i++;
    }
  }
  return parts.join(",");
}

/**
 * A batch answer — little-endian uint32 K, K + 1 uint32 offsets from 0, then the K JPEGs back
 * to back — as K views into `buf` (no copy). Throws if the layout does not hold together or K
 * is not `expected`.
 */
export function splitBatch(buf: ArrayBuffer, expected?: number): Uint8Array<ArrayBuffer>[] {
  const view = new DataView(buf);
  if (buf.byteLength < 8) throw new Error(`thumbnail batch of ${buf.byteLength} bytes is too short`);
  const count = view.getUint32(0, true);
  const header = 4 * (count + 2);
  if (expected !== undefined && count !== expected) throw new Error(`thumbnail batch has ${count} images, expected ${expected}`);
  if (header > buf.byteLength) throw new Error(`thumbnail batch of ${count} images is cut short`);
  const out: Uint8Array<ArrayBuffer>[] = [];
  let prev = view.getUint32(4, true);
  if (prev !== 0) throw new Error("thumbnail batch offsets do not start at 0");
  for (let i = 0; i < count; i++) {
    const next = view.getUint32(8 + 4 * i, true);
    if (next < prev || header + next > buf.byteLength) throw new Error(`thumbnail batch offset ${i + 1} is out of order or range`);
    out.push(new Uint8Array(buf, header + prev, next - prev));
    prev = next;
  }
  if (header + prev !== buf.byteLength) throw new Error("thumbnail batch has bytes after its last image");
  return out;
}
