// Rankings of the queries shown, one RankedQuery per (query, feature set), kept while the query
// exists; views ask for them synchronously and redraw when one arrives (or grows).

import type { Api } from "./api";
import { RankedQuery } from "./rankedQuery";
import { type QueryRef, refKey } from "./queryList";

export type RankingEntry = { status: "loading" } | { status: "ready"; ranking: RankedQuery } | { status: "error"; message: string };

/** Near-duplicates left out of every ranking: the threshold they were found at and how many are hidden. */
export interface HiddenDuplicates {
  threshold: number;
  count: number;
}

export class Rankings {
  private readonly entries = new Map<string, RankingEntry>();
  private readonly listeners = new Set<() => void>();
  private hidden: HiddenDuplicates | null = null;

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

  /** Leave near-duplicates out of the rankings (null: keep every image); the rankings held are dropped when it changes. */
  setHidden(hidden: HiddenDuplicates | null): void {
    if (hidden?.threshold === this.hidden?.threshold && hidden?.count === this.hidden?.count) return;
    this.hidden = hidden;
    this.entries.clear();
  }

  /** The threshold of the near-duplicates left out, or null. */
  get hiding(): number | null {
    return this.hidden ? this.hidden.threshold : null;
  }

  /** The ranking of `ref`, starting its first request on first ask. */
  get(ref: QueryRef): RankingEntry {
    const key = refKey(ref);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { status: "loading" };
      this.entries.set(key, entry);
      const features = this.features;
      const hidden = this.hidden;
      const changed = (): void => {
        if (features === this.features && this.entries.has(key)) this.notify();
      };
      const ranked = this.n - (hidden?.count ?? 0);
      RankedQuery.load(ranked, this.api.rankingSource(ref, features, hidden?.threshold ?? null), changed, this.n).then(
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
    const hide = this.hiding;
    return ra.spearman(rb, () => this.api.spearman(a, b, features, hide));
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
