// One query's ranking as the page holds it: never the whole ranking (8 MB at 1M images), only
// what is drawn — the curve's envelope at the chart's width, the images at the ranks a strip
// shows, the ranks of hovered or linked images, the brushed window for the map — each asked
// of the server when first needed and kept. Getters answer synchronously: what is not here yet
// is fetched and `changed` is called when it arrives, so views redraw as they do for a ranking.

import type { Ranking } from "./ranking";

/** A curve as a chart draws it: `x` px from the plot's left edge and the similarity there. */
export interface CurvePoints {
  width: number;
  log: boolean;
  x: Float32Array;
  sims: Float32Array;
}

/** The server's answers about one query's ranking (see api.ts). */
export interface RankingSource {
  /** The ids and similarities at `ranks`, in that order. */
  at(ranks: readonly number[]): Promise<{ ids: Int32Array; sims: Float32Array }>;
  /** The ranks and similarities of `ids`, in that order. */
  of(ids: readonly number[]): Promise<{ ranks: Int32Array; sims: Float32Array }>;
  /** The envelope of the curve for a plot `width` px wide. */
  curve(width: number, log: boolean): Promise<CurvePoints>;
  /** Ids and similarities of ranks lo..hi-1. */
  window(lo: number, hi: number): Promise<{ ids: Int32Array; sims: Float32Array }>;
}

/** Ranks asked in the first request: the head (a default strip's window) and the last rank. */
export const HEAD = 256;
/** The server's limit on ids or ranks in one request (deepviz/server/batch.py). */
const MAX_PER_REQUEST = 1024;

export class RankedQuery {
  private readonly idAt = new Map<number, number>();
  private readonly simAt = new Map<number, number>();
  private readonly rankOfId = new Map<number, number>();
  private readonly curves = new Map<string, CurvePoints>();
  private readonly pending = new Set<string>();
  private readonly failed = new Set<string>();
  private lit: { lo: number; hi: number; ranking: Ranking } | null = null;
  private readonly rhos = new Map<RankedQuery, number>();
  private static made = 0;
  /** Tells queries apart in fetch keys. */
  readonly serial = RankedQuery.made++;

  private constructor(
    /** Images ranked (fewer than the project's when near-duplicates are left out). */
    readonly n: number,
    private readonly source: RankingSource,
    private readonly changed: () => void,
    /** Ids the project has: 0..ids-1. */
    readonly ids: number,
  ) {}

  /** Ask for the head and the last rank; the query is ready when they arrive. */
  static async load(n: number, source: RankingSource, changed: () => void, ids = n): Promise<RankedQuery> {
    const q = new RankedQuery(n, source, changed, ids);
    const ranks = Array.from({ length: Math.min(n, HEAD) }, (_, r) => r);
    if (n > HEAD) ranks.push(n - 1);
    q.store(ranks, await source.at(ranks));
    return q;
  }

  /** [min, max] similarity: the last rank's and the first's (the ranking is sorted). */
  get extent(): [number, number] {
    return this.n === 0 ? [0, 0] : [this.simAt.get(this.n - 1) ?? 0, this.simAt.get(0) ?? 0];
  }

  /** Ids and similarities at `ranks`, or null while some are being fetched. */
  pick(ranks: readonly number[]): { ids: number[]; sims: number[] } | null {
    const missing = ranks.filter((r) => !this.idAt.has(r));
    if (missing.length) {
      this.fetch(`at:${missing.join(",")}`, async () => {
        for (let i = 0; i < missing.length; i += MAX_PER_REQUEST) {
          const part = missing.slice(i, i + MAX_PER_REQUEST);
          this.store(part, await this.source.at(part));
        }
      });
      return null;
    }
    return { ids: ranks.map((r) => this.idAt.get(r) as number), sims: ranks.map((r) => this.simAt.get(r) as number) };
  }

  /** Image `id`'s rank and similarity, or null while it is being fetched (or when it is left out of this ranking). */
  rankOf(id: number): { rank: number; sim: number } | null {
    const ranks = this.ranksOf([id]);
    return ranks && ranks[0] >= 0 ? { rank: ranks[0], sim: this.simAt.get(ranks[0]) as number } : null;
  }

  /** The ranks of `ids` (-1 for one left out of this ranking), or null while some are being fetched. */
  ranksOf(ids: readonly number[]): number[] | null {
    const missing = ids.filter((id) => !this.rankOfId.has(id));
    if (missing.length) {
      this.fetch(`of:${missing.join(",")}`, async () => {
        for (let i = 0; i < missing.length; i += MAX_PER_REQUEST) {
          const part = missing.slice(i, i + MAX_PER_REQUEST);
          const { ranks, sims } = await this.source.of(part);
          part.forEach((id, k) => {
            this.rankOfId.set(id, ranks[k]);
            if (ranks[k] < 0) return; // a hidden near-duplicate: no rank, no similarity
            this.idAt.set(ranks[k], id);
            this.simAt.set(ranks[k], sims[k]);
          });
        }
      });
      return null;
    }
    return ids.map((id) => this.rankOfId.get(id) as number);
  }

  /**
   * The curve for a plot `width` px wide: exactly that one once fetched; meanwhile the nearest
   * one held (the chart stretches it), or null if there is none yet.
   */
  curve(width: number, log: boolean): CurvePoints | null {
    const w = Math.max(1, Math.round(width));
    const key = `${w}|${log}`;
    const have = this.curves.get(key);
    if (have) return have;
    this.fetch(`curve:${key}`, async () => {
      this.curves.set(key, await this.source.curve(w, log));
    });
    let near: CurvePoints | null = null;
    for (const c of this.curves.values()) if (c.log === log && (!near || Math.abs(c.width - w) < Math.abs(near.width - w))) near = c;
    return near;
  }

  /**
   * The brushed window [lo, hi) as a ranking the map can light up: `ids` and `rankOf` hold
   * only the window's images (rank -1 elsewhere). While it is being fetched, the last window
   * held (with its own lo, hi), or null.
   */
  window(from: number, to: number): { ranking: Ranking; lo: number; hi: number } | null {
    // A window from a bad link may run past the last rank: the part inside is lit.
    const lo = Math.max(0, Math.min(from, this.n));
    const hi = Math.max(lo, Math.min(to, this.n));
    if (this.lit && this.lit.lo === lo && this.lit.hi === hi) return this.lit;
    // One window at a time: while the brush is dragged, the next one asked is the latest.
    if ([...this.pending].some((k) => k.startsWith("window:"))) return this.lit;
    this.fetch(`window:${lo}-${hi}`, async () => {
      const { ids, sims } = await this.source.window(lo, hi);
      const all = new Int32Array(this.n).fill(-1);
      const rankOf = new Int32Array(this.ids).fill(-1);
      const allSims = new Float32Array(this.n);
      ids.forEach((id, k) => {
        all[lo + k] = id;
        rankOf[id] = lo + k;
        allSims[lo + k] = sims[k];
      });
      this.lit = { lo, hi, ranking: { ids: all, sims: allSims, rankOf } };
    });
    return this.lit;
  }

  /** Spearman's rho with `other` (computed by the server), or null while it is being fetched. */
  spearman(other: RankedQuery, ask: () => Promise<number>): number | null {
    const have = this.rhos.get(other);
    if (have !== undefined) return have;
    this.fetch(`rho:${other.serial}`, async () => {
      this.rhos.set(other, await ask());
    });
    return null;
  }

  private store(ranks: readonly number[], got: { ids: Int32Array; sims: Float32Array }): void {
    ranks.forEach((r, k) => {
      this.idAt.set(r, got.ids[k]);
      this.simAt.set(r, got.sims[k]);
      this.rankOfId.set(got.ids[k], r);
    });
  }

  /** Run `job` once per `key` (a failed one is not retried: the view shows what it has). */
  private fetch(key: string, job: () => Promise<void>): void {
    if (this.pending.has(key) || this.failed.has(key)) return;
    this.pending.add(key);
    job().then(
      () => {
        this.pending.delete(key);
        this.changed();
      },
      () => {
        this.pending.delete(key);
        this.failed.add(key);
      },
    );
  }
}
