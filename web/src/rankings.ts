// Rankings of the queries shown, one RankedQuery per (query, feature set), kept while the query
// exists; views ask for them synchronously and redraw when one arrives (or grows).

import type { Api } from "./api";
import { RankedQuery } from "./rankedQuery";
import { type QueryRef, refKey } from "./queryList";

export type RankingEntry = { status: "loading" } | { status: "ready"; ranking: RankedQuery } | { status: "error"; message: string };

export class Rankings {
  private readonly entries = new Map<string, RankingEntry>();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly api: Pick<Api, "rankingSource" | "spearman">,
    private features: string | null,
    private readonly n: number,
  ) {}

  setFeatures(features: string | null): void {
    if (features === this.features) return;
    this.features = features;
    this.entries.clear();
  }

  /** The ranking of `ref`, starting its first request on first ask. */
  get(ref: QueryRef): RankingEntry {
    const key = refKey(ref);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { status: "loading" };
      this.entries.set(key, entry);
      const features = this.features;
      const changed = (): void => {
        if (features === this.features && this.entries.has(key)) this.notify();
      };
      RankedQuery.load(this.n, this.api.rankingSource(ref, features), changed).then(
        (ranking) => this.settle(key, features, { status: "ready", ranking }),
        (err: unknown) => this.settle(key, features, { status: "error", message: err instanceof Error ? err.message : String(err) }),
      );
    }
    return entry;
  }

  ready(ref: QueryRef): RankedQuery | null {
    const e = this.get(ref);
    return e.status === "ready" ? e.ranking : null;
  }

  /** Spearman's rho of two shown queries' full rankings (computed by the server), or null until it arrives. */
  spearman(a: QueryRef, b: QueryRef): number | null {
    const ra = this.ready(a);
    const rb = this.ready(b);
    if (!ra || !rb) return null;
    const features = this.features;
    return ra.spearman(rb, () => this.api.spearman(a, b, features));
  }

  /** Drop rankings of queries no longer shown. */
  retain(refs: QueryRef[]): void {
    const keep = new Set(refs.map(refKey));
    for (const key of [...this.entries.keys()]) if (!keep.has(key)) this.entries.delete(key);
  }

  onChange(fn: () => void): void {
    this.listeners.add(fn);
  }

  private notify(): void {
    for (const fn of this.listeners) fn();
  }

  private settle(key: string, features: string | null, entry: RankingEntry): void {
    // An answer for a feature set the user has since left is stale.
    if (features !== this.features || !this.entries.has(key)) return;
    this.entries.set(key, entry);
    this.notify();
  }
}
