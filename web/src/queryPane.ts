// The query pane: the overlay chart, then one row per query with a links band between
// adjacent rows. Rows are kept by query key, so reordering moves elements instead of
// rebuilding charts, and brushing or hovering only redraws what changed.

import { queryStyle } from "./colors";
import { fittedDomain } from "./downsample";
import type { RankWindow } from "./geometry";
import type { Highlight } from "./highlight";
import { RankLinks } from "./links";
import { Overlay, type OverlayCurve } from "./overlay";
import { QueryRow } from "./queryRow";
import { simExtent } from "./ranking";
import type { Rankings } from "./rankings";
import { type AppState, refKey } from "./state";
import type { Store } from "./store";

export class QueryPane {
  private readonly overlay = new Overlay();
  private readonly rowsEl: HTMLDivElement;
  private readonly empty: HTMLDivElement;
  private readonly rows = new Map<string, QueryRow>();
  private readonly links = new Map<string, RankLinks>();
  private order: string[] = [];

  constructor(
    readonly root: HTMLElement,
    private readonly store: Store,
    private readonly rankings: Rankings,
    private readonly highlight: Highlight,
    private readonly n: number,
    private readonly addQuery: (id: number) => void,
  ) {
    this.empty = document.createElement("div");
    this.empty.className = "empty-hint";
    this.empty.textContent = "Click an image on the map to rank every image by its similarity to it — or drop an image file here.";
    this.rowsEl = document.createElement("div");
    this.rowsEl.className = "rows";
    root.append(this.overlay.root, this.empty, this.rowsEl);
    highlight.subscribe((h) => {
      this.hover(h ? h.id : -1);
      this.drawLinks();
    });
  }

  render(): void {
    const s = this.store.state;
    this.syncRows(s);
    this.empty.hidden = s.queries.length > 0;
    this.overlay.root.hidden = s.queries.length === 0;
    const ready: OverlayCurve[] = [];
    for (const q of s.queries) {
      const r = this.rankings.ready(q.ref);
      if (r) ready.push({ ranking: r, slot: q.slot });
    }
    const yDomain: [number, number] = s.fitted ? fittedDomain(ready.map((c) => simExtent(c.ranking))) : [-1, 1];
    const width = this.rowsEl.clientWidth || this.root.clientWidth;
    s.queries.forEach((q, i) => {
      const row = this.rows.get(refKey(q.ref));
      row?.update({
        entry: this.rankings.get(q.ref),
        window: q.window,
        stripSize: s.stripSize,
        yDomain,
        index: i,
        total: s.queries.length,
        active: i === s.active,
      });
    });
    const activeQuery = s.queries[s.active];
    const activeRow = activeQuery ? this.rows.get(refKey(activeQuery.ref)) : undefined;
    const activeWindow = activeRow?.window && activeQuery ? { window: activeRow.window, slot: activeQuery.slot } : null;
    this.overlay.update(ready, this.n, yDomain, width, activeWindow);
    this.drawLinks();
    this.hover(this.highlight.current ? this.highlight.current.id : -1);
  }

  /** The window in effect for the active query (the stored one or its row's default). */
  activeWindow(): { window: RankWindow; slot: number; key: string } | null {
    const s = this.store.state;
    const q = s.queries[s.active];
    if (!q) return null;
    const row = this.rows.get(refKey(q.ref));
    return row?.window ? { window: row.window, slot: q.slot, key: refKey(q.ref) } : null;
  }

  private syncRows(s: AppState): void {
    const keys = s.queries.map((q) => refKey(q.ref));
    for (const [key, row] of this.rows) {
      if (!keys.includes(key)) {
        row.root.remove();
        this.rows.delete(key);
      }
    }
    s.queries.forEach((q) => {
      const key = refKey(q.ref);
      if (!this.rows.has(key)) this.rows.set(key, new QueryRow(q, this.highlight, this.rowActions(key)));
    });
    const linkKeys = s.links ? keys.slice(0, -1).map((k, i) => `${k}|${keys[i + 1]}`) : [];
    for (const [key, l] of this.links) {
      if (!linkKeys.includes(key)) {
        l.root.remove();
        this.links.delete(key);
      }
    }
    const wanted = [...keys, ...linkKeys].join(",");
    if (wanted === this.order.join(",")) return;
    const children: HTMLElement[] = [];
    keys.forEach((key, i) => {
      const row = this.rows.get(key);
      if (row) children.push(row.root);
      const lk = linkKeys[i];
      if (lk) {
        let l = this.links.get(lk);
        if (!l) {
          l = new RankLinks();
          this.links.set(lk, l);
        }
        children.push(l.root);
      }
    });
    this.rowsEl.replaceChildren(...children);
    this.order = [...keys, ...linkKeys];
  }

  private rowActions(key: string): ConstructorParameters<typeof QueryRow>[2] {
    const index = (): number => this.store.state.queries.findIndex((q) => refKey(q.ref) === key);
    return {
      pick: (id) => this.addQuery(id),
      brush: (w, final) => {
        const i = index();
        if (i < 0) return;
        this.store.update((s) => ({
          active: i,
          queries: s.queries.map((q, j) => (s.linked || j === i ? { ...q, window: w } : q)),
        }));
        void final;
      },
      remove: () => {
        const i = index();
        if (i < 0) return;
        this.store.update((s) => {
          const queries = s.queries.filter((_, j) => j !== i);
          const active = s.active > i || s.active >= queries.length ? s.active - 1 : s.active;
          return { queries, active: Math.min(active, queries.length - 1) };
        });
      },
      move: (delta) => {
        const i = index();
        const j = i + delta;
        this.store.update((s) => {
          if (i < 0 || j < 0 || j >= s.queries.length) return {};
          const queries = [...s.queries];
          [queries[i], queries[j]] = [queries[j], queries[i]];
          // The active query stays the same query, wherever it moves.
          const active = s.active === i ? j : s.active === j ? i : s.active;
          return { queries, active };
        });
      },
      activate: () => {
        const i = index();
        if (i >= 0 && i !== this.store.state.active) this.store.update({ active: i });
      },
    };
  }

  private drawLinks(): void {
    const s = this.store.state;
    if (!s.links) return;
    const hovered = this.highlight.current ? this.highlight.current.id : -1;
    for (let i = 0; i + 1 < s.queries.length; i++) {
      const a = this.rows.get(refKey(s.queries[i].ref));
      const b = this.rows.get(refKey(s.queries[i + 1].ref));
      const l = this.links.get(`${refKey(s.queries[i].ref)}|${refKey(s.queries[i + 1].ref)}`);
      if (!a || !b || !l) continue;
      const ra = a.currentRanking;
      const rb = b.currentRanking;
      l.root.hidden = !ra || !rb;
      if (!ra || !rb || ra.ids.length !== rb.ids.length) continue;
      const axis = a.axis();
      const bandLeft = l.root.getBoundingClientRect().left;
      l.draw(ra, rb, a.shownIds, axis.left - bandLeft, axis.width, queryStyle(s.queries[i].slot), hovered);
    }
  }

  private hover(id: number): void {
    for (const row of this.rows.values()) row.setHover(id);
    this.overlay.setHover(id);
  }
}
