// A RankingSource answered from a whole ranking in memory: what the server does, for tests.

import type { RankingSource } from "../src/rankedQuery";
import type { Ranking } from "../src/ranking";
import { curvePoints } from "../src/rankScale";

export function denseSource(r: Ranking, calls: string[] = []): RankingSource {
  return {
    at: (ranks) => {
      calls.push(`at:${ranks.length}`);
      return Promise.resolve({ ids: Int32Array.from(ranks, (k) => r.ids[k]), sims: Float32Array.from(ranks, (k) => r.sims[k]) });
    },
    of: (ids) => {
      calls.push(`of:${ids.length}`);
      return Promise.resolve({ ranks: Int32Array.from(ids, (id) => r.rankOf[id]), sims: Float32Array.from(ids, (id) => r.sims[r.rankOf[id]]) });
    },
    window: (lo, hi) => {
      calls.push(`window:${lo}-${hi}`);
      return Promise.resolve({ ids: r.ids.slice(lo, hi), sims: r.sims.slice(lo, hi) });
    },
    curve: (width, log) => {
      calls.push(`curve:${width}`);
      const pts = curvePoints(r.sims, width, log);
      return Promise.resolve({ width, log, x: Float32Array.from(pts, (p) => p[0]), sims: Float32Array.from(pts, (p) => p[1]) });
    },
  };
}
