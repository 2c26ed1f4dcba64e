// Rankings in a static site (deepviz export), with no server to ask. Two sources, chosen by the
// export by the size of the features (deepviz/export/site.py):
//   browser      every image is a query: the int8 features (N x D, with a float32 scale per row,
//                deepviz/export/quantise.py) are downloaded once and every similarity is a dot
//                product of two dequantised rows, as the server's of the stored rows (within the
//                bound the export prints). The whole ranking is then in memory, answered like the server.
//   precomputed  only the exported queries: their rankings cut into files of `chunk` ranks (or
//                ids), read only where a view asks, so what is downloaded stays bounded by what is
//                shown (a strip's ranks, a brushed window, a hovered id), never a whole ranking.

import type { CurvePoints, RankingSource } from "./rankedQuery";
import type { Ranking } from "./ranking";
import { curvePoints } from "./rankScale";

/** Rows of int8 features and their scales: row i is scale[i] * q[i*d .. i*d+d). */
export interface QuantisedFeatures {
  q: Int8Array;
  scale: Float32Array;
  d: number;
}

/** (N,) similarities of every row with row `id`: scale_i * scale_id * (q_i · q_id), as float32. */
export function similaritiesTo(f: QuantisedFeatures, id: number): Float32Array {
  const { q, scale, d } = f;
  const n = scale.length;
  const query = new Float64Array(d);
  for (let j = 0; j < d; j++) query[j] = q[id * d + j];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let dot = 0;
    const row = i * d;
    for (let j = 0; j < d; j++) dot += q[row + j] * query[j];
    out[i] = dot * scale[i] * scale[id];
  }
  return out;
}

/** Every id by similarity high -> low, ties by lower id first (the server's order), with the rank of each id. */
export function rankBy(sims: Float32Array): Ranking {
  const n = sims.length;
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  ids.sort((a, b) => sims[b] - sims[a] || a - b);
  const sorted = new Float32Array(n);
  const rankOf = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    sorted[r] = sims[ids[r]];
    rankOf[ids[r]] = r;
  }
  return { ids, sims: sorted, rankOf };
}

/** Spearman's rho of two rankings of the same images (a permutation each: the exact formula). */
export function spearmanOf(a: Ranking, b: Ranking): number {
  const n = a.rankOf.length;
  if (n < 2) return 1;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d = a.rankOf[i] - b.rankOf[i];
    sum += d * d;
  }
  return 1 - (6 * sum) / (n * (n * n - 1));
}

/** A RankingSource answered from a whole ranking in memory (the browser mode's, once ranked). */
export function wholeSource(ranking: () => Promise<Ranking>): RankingSource {
  return {
    at: async (ranks) => {
      const r = await ranking();
      return { ids: Int32Array.from(ranks, (k) => r.ids[k]), sims: Float32Array.from(ranks, (k) => r.sims[k]) };
    },
    of: async (ids) => {
      const r = await ranking();
      return { ranks: Int32Array.from(ids, (id) => r.rankOf[id]), sims: Float32Array.from(ids, (id) => r.sims[r.rankOf[id]]) };
    },
    window: async (lo, hi) => {
      const r = await ranking();
      return { ids: r.ids.slice(lo, hi), sims: r.sims.slice(lo, hi) };
    },
    curve: async (width, log): Promise<CurvePoints> => {
      const pts = curvePoints((await ranking()).sims, width, log);
      return { width, log, x: Float32Array.from(pts, (p) => p[0]), sims: Float32Array.from(pts, (p) => p[1]) };
    },
  };
}

/** Fetches one file's bytes (relative URL). */
export type Fetch = (url: string) => Promise<ArrayBuffer>;

/** Chunks held per precomputed query: 64 of 64 kB (4 MB) at most, the least recently used dropped. */
export const MAX_CHUNKS = 64;

/**
 * A precomputed ranking in `folder` (data/rankings/{id}): `order-k` / `sims-k` hold ranks
 * k*chunk.., `rank-k` the ranks of ids k*chunk..; `curve-lin`/`curve-log` the envelope at
 * `curveWidth` px, which the chart stretches to its width.
 */
export function chunkedSource(folder: string, n: number, chunk: number, curveWidth: number, get: Fetch): RankingSource {
  const held = new Map<string, Promise<ArrayBuffer>>();
  const file = (name: string): Promise<ArrayBuffer> => {
    let p = held.get(name);
    if (p) held.delete(name);
    else p = get(`${folder}/${name}`);
    held.set(name, p); // most recent last
    while (held.size > MAX_CHUNKS) held.delete(held.keys().next().value as string);
    return p;
  };
  const ints = async (name: string): Promise<Int32Array> => new Int32Array(await file(name));
  const floats = async (name: string): Promise<Float32Array> => new Float32Array(await file(name));
  const at = async (ranks: readonly number[]): Promise<{ ids: Int32Array; sims: Float32Array }> => {
    const ids = new Int32Array(ranks.length);
    const sims = new Float32Array(ranks.length);
    await Promise.all(
      ranks.map(async (r, i) => {
        const k = Math.floor(r / chunk);
        const [o, s] = await Promise.all([ints(`order-${k}.i32`), floats(`sims-${k}.f32`)]);
        ids[i] = o[r - k * chunk];
        sims[i] = s[r - k * chunk];
      }),
    );
    return { ids, sims };
  };
  return {
    at,
    of: async (ids) => {
      const ranks = new Int32Array(ids.length);
      await Promise.all(
        ids.map(async (id, i) => {
          const k = Math.floor(id / chunk);
          ranks[i] = (await ints(`rank-${k}.i32`))[id - k * chunk];
        }),
      );
      return { ranks, sims: (await at([...ranks])).sims };
    },
    window: async (lo, hi) => {
      const stop = Math.min(hi, n);
      const ids = new Int32Array(Math.max(0, stop - lo));
      const sims = new Float32Array(ids.length);
      const parts = [];
      for (let k = Math.floor(lo / chunk); k * chunk < stop; k++) parts.push(k);
      await Promise.all(
        parts.map(async (k) => {
          const [o, s] = await Promise.all([ints(`order-${k}.i32`), floats(`sims-${k}.f32`)]);
          const from = Math.max(lo, k * chunk);
          const to = Math.min(stop, (k + 1) * chunk);
          ids.set(o.subarray(from - k * chunk, to - k * chunk), from - lo);
          sims.set(s.subarray(from - k * chunk, to - k * chunk), from - lo);
        }),
      );
      return { ids, sims };
    },
    curve: async (width, log): Promise<CurvePoints> => {
      const buf = await get(`${folder}/curve-${log ? "log" : "lin"}.f32`);
      const k = buf.byteLength / 8;
      const x = new Float32Array(buf, 0, k).map((v) => (v * width) / curveWidth);
      return { width, log, x, sims: new Float32Array(buf, 4 * k, k) };
    },
  };
}
