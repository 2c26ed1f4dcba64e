// Rankings fetched once per (query, feature set) and kept while the query exists; views ask
// for them synchronously and redraw when one arrives.

import type { Api } from "./api";
import type { Ranking } from "./ranking";
import { type QueryRef, refKey } from "./queryList";

export type RankingEntry = { status: "loading" } | { status: "ready"; ranking: Ranking } | { status: "error"; message: string };

export class Rankings {
  private readonly entries = new Map<string, RankingEntry>();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly api: Pick<Api, "rank" | "rankUpload">,
    private features: string | null,
  ) {}

  setFeatures(features: string | null): void {
    if (features === this.features) return;
    this.features = features;
    this.entries.clear();
  }

  /** The ranking of `ref`, starting its fetch on first ask. */
  get(ref: QueryRef): RankingEntry {
    const key = refKey(ref);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { status: "loading" };
      this.entries.set(key, entry);
      const features = this.features;
      const load = ref.kind === "image" ? this.api.rank(ref.id, features) : this.api.rankUpload(ref.key, features);
      load.then(
        (ranking) => this.settle(key, features, { status: "ready", ranking }),
        (err: unknown) => this.settle(key, features, { status: "error", message: err instanceof Error ? err.message : String(err) }),
      );
    }
    return entry;
  }

  ready(ref: QueryRef): Ranking | null {
    const e = this.get(ref);
    return e.status === "ready" ? e.ranking : null;
  }

  /** Drop rankings of queries no longer shown (a 1M ranking is 12 MB). */
  retain(refs: QueryRef[]): void {
    const keep = new Set(refs.map(refKey));
    for (const key of [...this.entries.keys()]) if (!keep.has(key)) this.entries.delete(key);
  }

  onChange(fn: () => void): void {
    this.listeners.add(fn);
  }

  private settle(key: string, features: string | null, entry: RankingEntry): void {
    // An answer for a feature set the user has since left is stale.
    if (features !== this.features || !this.entries.has(key)) return;
    this.entries.set(key, entry);
    for (const fn of this.listeners) fn();
  }
}
