// The query pane and the list of queries (`q`, `a`): a toolbar, the overlay chart, then one
// row per query with a links band between adjacent rows. Rows are kept by query key, so
// reordering moves elements instead of rebuilding charts, and brushing or hovering only
// redraws what changed.

import type { Api } from "./api";
import { queryStyle } from "./colors";
import { element } from "./dom";
import { fittedDomain } from "./downsample";
import type { RankWindow } from "./geometry";
import type { Highlight } from "./highlight";
import { RankLinks } from "./links";
import { Overlay, type OverlayCurve } from "./overlay";
import { addQuery, brushQuery, moveQuery, type Query, type QueryList, type QueryRef, queryListSlice, refKey, removeQuery } from "./queryList";
import type { QueryName } from "./queryName";
import { QueryRow, type RowActions } from "./queryRow";
import type { QuerySettingsValue } from "./querySettings";
import type { Rankings } from "./rankings";
import type { Cell, Store } from "./store";

export class QueryPane {
  /** The pane: its toolbar, a slot for messages, and the scrolling rows. */
  readonly root: HTMLElement;
  readonly cell: Cell<QueryList>;
  /** Where the toolbar's other controls go (before "clear all"). */
  private readonly toolbar: HTMLElement;
  private readonly clear: HTMLButtonElement;
  private readonly scroll: HTMLDivElement;
  private readonly overlay = new Overlay();
  private readonly rowsEl: HTMLDivElement;
  private readonly empty: HTMLDivElement;
  private readonly rows = new Map<string, QueryRow>();
  private readonly links = new Map<string, RankLinks>();
  private order: string[] = [];
  private namer: ((ref: QueryRef) => Promise<QueryName>) | null = null;

  constructor(
    store: Store,
    private readonly settings: Cell<QuerySettingsValue>,
    private readonly rankings: Rankings,
    private readonly highlight: Highlight,
    private readonly api: Pick<Api, "thumbUrl" | "uploadThumbUrl">,
    private readonly n: number,
  ) {
    this.cell = store.register(queryListSlice);
    this.root = element("section", "pane query-pane");
    this.root.setAttribute("aria-label", "queries");
    this.toolbar = element("header", "toolbar");
    this.clear = element("button", "");
    this.clear.type = "button";
    this.clear.dataset.testid = "clear-queries";
    this.clear.textContent = "clear all";
    this.clear.addEventListener("click", () => this.cell.set({ queries: [], active: -1 }));
    this.toolbar.append(this.clear);
    this.scroll = element("div", "query-scroll");
    this.empty = element("div", "empty-hint");
    this.empty.textContent = "Click an image on the map to rank every image by its similarity to it — or drop an image file here.";
    this.rowsEl = element("div", "rows");
    this.scroll.append(this.overlay.root, this.empty, this.rowsEl);
    this.root.append(this.toolbar, this.scroll);
    highlight.subscribe((h) => {
      this.hover(h ? h.id : -1);
      this.drawLinks();
    });
  }

  /** The scrolling part (its size changes with the window and the splitter). */
  get body(): HTMLElement {
    return this.scroll;
  }

  /** Put other components' controls in the toolbar, before "clear all". */
  addTools(...tools: HTMLElement[]): void {
    this.clear.before(...tools);
  }

  /** How rows learn their query's name and label (rows made before this keep their placeholder). */
  setNamer(namer: (ref: QueryRef) => Promise<QueryName>): void {
    this.namer = namer;
  }

  /** Put a message box between the toolbar and the rows. */
  addMessages(box: HTMLElement): void {
    this.toolbar.after(box);
  }

  /** Make `ref` a query (the active one); with linked brushes it starts at the active window. */
  add(ref: QueryRef): void {
    const window = this.settings.value.linked ? (this.activeWindow()?.window ?? null) : null;
    this.cell.set((s) => addQuery(s, ref, window));
  }

  /** Give every row the active row's window (what the user was just looking at). */
  alignWindows(): void {
    const w = this.activeWindow()?.window;
    if (w) this.cell.set((s) => ({ ...s, queries: s.queries.map((q) => ({ ...q, window: w })) }));
  }

  render(): void {
    const s = this.cell.value;
    const settings = this.settings.value;
    this.clear.disabled = s.queries.length === 0;
    this.syncRows(s, settings.links);
    this.empty.hidden = s.queries.length > 0;
    this.overlay.root.hidden = s.queries.length === 0;
    const ready: OverlayCurve[] = [];
    for (const q of s.queries) {
      const r = this.rankings.ready(q.ref);
      if (r) ready.push({ ranking: r, slot: q.slot });
    }
    const yDomain: [number, number] = settings.fitted ? fittedDomain(ready.map((c) => c.ranking.extent)) : [-1, 1];
    const width = this.rowsEl.clientWidth || this.root.clientWidth;
    s.queries.forEach((q, i) => {
      const row = this.rows.get(refKey(q.ref));
      row?.update({
        entry: this.rankings.get(q.ref),
        window: q.window,
        stripSize: settings.stripSize,
        yDomain,
        logRanks: settings.logRanks,
        index: i,
        total: s.queries.length,
        active: i === s.active,
      });
    });
    const activeQuery = s.queries[s.active];
    const activeRow = activeQuery ? this.rows.get(refKey(activeQuery.ref)) : undefined;
    const activeWindow = activeRow?.window && activeQuery ? { window: activeRow.window, slot: activeQuery.slot } : null;
    // Every ranking has the same length: the project's images, less any near-duplicates left out.
    const ranked = ready.length ? ready[0].ranking.n : this.n;
    this.overlay.update(ready, ranked, { yDomain, logRanks: settings.logRanks }, width, activeWindow);
    this.drawLinks();
    this.hover(this.highlight.current ? this.highlight.current.id : -1);
  }

  /** The rows, in the order shown (for components that add to each row, e.g. a concept's barcode). */
  rowsInOrder(): QueryRow[] {
    return this.cell.value.queries.flatMap((q) => this.rows.get(refKey(q.ref)) ?? []);
  }

  /** The window in effect for the active query (the stored one or its row's default). */
  activeWindow(): { window: RankWindow; slot: number; key: string } | null {
    const s = this.cell.value;
    const q = s.queries[s.active];
    if (!q) return null;
    const row = this.rows.get(refKey(q.ref));
    return row?.window ? { window: row.window, slot: q.slot, key: refKey(q.ref) } : null;
  }

  private syncRows(s: QueryList, withLinks: boolean): void {
    const keys = s.queries.map((q) => refKey(q.ref));
    for (const [key, row] of this.rows) {
      if (!keys.includes(key)) {
        row.root.remove();
        this.rows.delete(key);
      }
    }
    s.queries.forEach((q) => {
      const key = refKey(q.ref);
      if (!this.rows.has(key)) this.rows.set(key, this.newRow(q, key));
    });
    const linkKeys = withLinks ? keys.slice(0, -1).map((k, i) => `${k}|${keys[i + 1]}`) : [];
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

  private newRow(q: Query, key: string): QueryRow {
    const row = new QueryRow(q, this.api, this.highlight, this.rowActions(key));
    this.namer?.(q.ref).then(
      (n) => row.showName(n),
      () => undefined, // the placeholder stays: a missing name is not worth an error box
    );
    return row;
  }

  private rowActions(key: string): RowActions {
    const index = (): number => this.cell.value.queries.findIndex((q) => refKey(q.ref) === key);
    return {
      pick: (id) => this.add({ kind: "image", id }),
      brush: (w) => this.cell.set((s) => brushQuery(s, index(), w, this.settings.value.linked)),
      remove: () => this.cell.set((s) => removeQuery(s, index())),
      move: (delta) => this.cell.set((s) => moveQuery(s, index(), delta)),
      activate: () => {
        const i = index();
        if (i >= 0 && i !== this.cell.value.active) this.cell.set((s) => ({ ...s, active: i }));
      },
    };
  }

  private drawLinks(): void {
    const s = this.cell.value;
    if (!this.settings.value.links) return;
    const hovered = this.highlight.current ? this.highlight.current.id : -1;
    for (let i = 0; i + 1 < s.queries.length; i++) {
      const a = this.rows.get(refKey(s.queries[i].ref));
      const b = this.rows.get(refKey(s.queries[i + 1].ref));
      const l = this.links.get(`${refKey(s.queries[i].ref)}|${refKey(s.queries[i + 1].ref)}`);
      if (!a || !b || !l) continue;
      const ra = a.currentRanking;
      const rb = b.currentRanking;
      l.root.hidden = !ra || !rb;
      if (!ra || !rb || ra.n !== rb.n) continue;
      const axis = a.axis();
      const bandLeft = l.root.getBoundingClientRect().left;
      const rho = this.rankings.spearman(s.queries[i].ref, s.queries[i + 1].ref);
      l.draw(ra, rb, a.shownIds, { left: axis.left - bandLeft, width: axis.width, log: axis.log }, queryStyle(s.queries[i].slot), hovered, rho);
    }
  }

  private hover(id: number): void {
    for (const row of this.rows.values()) row.setHover(id);
    this.overlay.setHover(id);
  }
}
