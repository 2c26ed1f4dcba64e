// A ranking as arrays: ids by rank, similarities by rank and the rank of each id. The page holds
// one only for the map's lit window (filled in the window's ranks, see rankedQuery.ts) and in tests.

export interface Ranking {
  /** (N,) image ids, most similar first. */
  ids: Int32Array;
  /** (N,) cosine similarities in the same order, non-increasing. */
  sims: Float32Array;
  /** (N,) rank of image id i (inverse permutation of `ids`). */
  rankOf: Int32Array;
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
