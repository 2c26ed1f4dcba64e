// A query's ranking of the whole dataset, decoded from the server's binary answer, with the
// inverse permutation (rank of each id) computed once so every hover is O(1).

export interface Ranking {
  /** (N,) image ids, most similar first. */
  ids: Int32Array;
  /** (N,) cosine similarities in the same order, non-increasing. */
  sims: Float32Array;
  /** (N,) rank of image id i (inverse permutation of `ids`). */
  rankOf: Int32Array;
}

/**
 * Decode `N int32 ids then N float32 similarities`, little-endian. Typed-array views are used
 * directly on little-endian machines (every browser in practice); a DataView path keeps it
 * correct elsewhere.
 */
export function decodeRanking(buffer: ArrayBuffer): Ranking {
  if (buffer.byteLength % 8 !== 0) throw new Error(`ranking has ${buffer.byteLength} bytes, not a multiple of 8`);
  const n = buffer.byteLength / 8;
  let ids: Int32Array;
  let sims: Float32Array;
  if (littleEndian()) {
    ids = new Int32Array(buffer, 0, n);
    sims = new Float32Array(buffer, 4 * n, n);
  } else {
    const view = new DataView(buffer);
    ids = new Int32Array(n);
    sims = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      ids[i] = view.getInt32(4 * i, true);
      sims[i] = view.getFloat32(4 * (n + i), true);
    }
  }
  return { ids, sims, rankOf: inversePermutation(ids) };
}

function littleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/** rankOf[ids[r]] = r. Throws when `ids` is not a permutation of 0..N-1 (a corrupt answer). */
export function inversePermutation(ids: Int32Array): Int32Array {
  const n = ids.length;
  const rankOf = new Int32Array(n).fill(-1);
  for (let r = 0; r < n; r++) {
    const id = ids[r];
    if (id < 0 || id >= n || rankOf[id] !== -1) throw new Error(`ranking is not a permutation (id ${id} at rank ${r})`);
    rankOf[id] = r;
  }
  return rankOf;
}

/**
 * Spearman's rank correlation of two full rankings of the same N images. Both are
 * permutations (no ties), so rho = 1 - 6 Σd² / (N (N² - 1)) is exact.
 */
export function spearman(a: Int32Array, b: Int32Array): number {
  const n = a.length;
  if (n !== b.length) throw new Error(`rankings differ in length (${n} vs ${b.length})`);
  if (n < 2) return 1;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d = a[i] - b[i];
    sum += d * d;
  }
  return 1 - (6 * sum) / (n * (n * n - 1));
}

/** [min, max] similarity of a ranking: its last and first entries, since it is sorted. */
export function simExtent(r: Ranking): [number, number] {
  const n = r.sims.length;
  return n === 0 ? [0, 0] : [r.sims[n - 1], r.sims[0]];
}
