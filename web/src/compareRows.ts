// Two feature sets side by side on each query's row: how much the other set's ranking agrees
// (Spearman, Kendall, overlap@k, from the server) and the images it gains and loses in the top
// k, as two small strips. The other set is chosen in the toolbar (`cf`), shown only when the
// project has more than one feature set.

import type { Api } from "./api";
import { type Comparison, conceptsApi } from "./conceptsApi";
import { element, select } from "./dom";
import { refKey } from "./queryList";
import type { QueryRow } from "./queryRow";
import { type Cell, safeDecode, type Slice, type Store } from "./store";

const THUMB_PX = 32;

export function compareSlice(featureSets: readonly string[]): Slice<string | null> {
  return {
    keys: ["cf"],
    parse: (params) => {
      const v = params.get("cf");
      const name = v ? safeDecode(v) : null;
      return name !== null && featureSets.includes(name) ? name : null;
    },
    serialise: (v) => (v === null ? [] : [["cf", encodeURIComponent(v)]]),
  };
}

export class CompareRows {
  /** The "compare with" select, for a toolbar; hidden for a project with one feature set. */
  readonly root: HTMLLabelElement;
  readonly cell: Cell<string | null>;
  private readonly picker: HTMLSelectElement;
  private readonly shown = new WeakMap<QueryRow, { el: HTMLDivElement; key: string }>();

  constructor(
    store: Store,
    featureSets: readonly string[],
    private readonly api: Pick<Api, "thumbUrl">,
    private readonly onError: (message: string) => void,
  ) {
    this.cell = store.register(compareSlice(featureSets));
    const s = select("compare with", "compare-select", "a second feature set to compare each query's ranking with", [
      ["", "none"],
      ...featureSets.map((f): [string, string] => [f, f]),
    ]);
    this.root = s.label;
    this.root.hidden = featureSets.length < 2;
    this.picker = s.select;
    this.picker.addEventListener("change", () => this.cell.set(this.picker.value || null));
  }

  /** Show the comparison of `current` with the chosen set on `rows` (image queries only). */
  update(rows: readonly QueryRow[], current: string, k: number): void {
    const other = this.cell.value;
    this.picker.value = other ?? "";
    for (const row of rows) {
      const slot = this.slot(row);
      const ref = row.query.ref;
      slot.el.hidden = other === null || other === current || ref.kind !== "image";
      if (slot.el.hidden || ref.kind !== "image" || other === null) continue;
      const key = `${refKey(ref)}|${current}|${other}|${k}`;
      if (slot.key === key) continue;
      slot.key = key;
      slot.el.textContent = "comparing…";
      conceptsApi.compare(ref.id, current, other, k).then(
        (c) => {
          if (slot.key === key) this.draw(slot.el, c);
        },
        (err: unknown) => this.onError(`The comparison failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
  }

  private slot(row: QueryRow): { el: HTMLDivElement; key: string } {
    let s = this.shown.get(row);
    if (!s || !s.el.isConnected) {
      const el = element("div", "compare-line");
      el.dataset.testid = "compare-line";
      const body = row.root.querySelector(".query-body");
      (body ?? row.root).append(el);
      s = { el, key: "" };
      this.shown.set(row, s);
    }
    return s;
  }

  private draw(el: HTMLDivElement, c: Comparison): void {
    const f = (v: number | null): string => (v === null ? "–" : v.toFixed(3));
    const text = element("div", "compare-figures");
    text.dataset.testid = "compare-figures";
    text.textContent = `vs ${c.b}: Spearman ${f(c.spearman)} · Kendall ${f(c.kendall)} · overlap@${c.k} ${f(c.overlap_at_k)}`;
    text.title = `rank correlations of the other ${c.n} images' similarities under ${c.a} and ${c.b}, and the share of the top ${c.k} they share`;
    el.replaceChildren(text, this.strip(`gained by ${c.b}`, "compare-gained", c.gained), this.strip(`lost by ${c.b}`, "compare-lost", c.lost));
  }

  private strip(title: string, testid: string, ids: readonly number[]): HTMLDivElement {
    const strip = element("div", "compare-strip");
    strip.dataset.testid = testid;
    const label = element("span", "muted");
    label.textContent = `${title} (${ids.length})`;
    strip.append(label);
    for (const id of ids) {
      const img = element("img", "");
      img.width = THUMB_PX;
      img.height = THUMB_PX;
      img.src = this.api.thumbUrl(THUMB_PX, id);
      img.alt = `image ${id}`;
      img.dataset.id = String(id);
      strip.append(img);
    }
    return strip;
  }
}
