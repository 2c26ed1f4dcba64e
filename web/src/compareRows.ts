// Two feature sets side by side on each query's row: the other set's ranking of the same query
// drawn as a second curve on the row's chart (grey, dashed, with a legend), how much it agrees
// (Spearman, Kendall, overlap@k, from the server) and the images it gains and loses in the top
// k, as two small strips; and, on request, the map coloured by how differently the two sets
// rank each image for the active query (rankDiffMap.ts). The other set is chosen in the toolbar
// (`cf`), shown only when the project has more than one feature set.

import type { Api } from "./api";
import type { QueryStyle } from "./colors";
import { type Comparison, conceptsApi } from "./conceptsApi";
import { checkbox, element, select } from "./dom";
import { type QueryRef, refKey } from "./queryList";
import type { QueryRow } from "./queryRow";
import { Rankings } from "./rankings";
import { type Cell, safeDecode, type Slice, type Store } from "./store";

const THUMB_PX = 32;
/** The other set's curve: a colour no query takes (Okabe–Ito has no grey) and a dash. */
export const PAIRED_STYLE: QueryStyle = { colour: "#6b6b6b", dash: [6, 3] };

/** Colours the map by rank difference (null: stops). */
export type MapColouring = (codes: Uint8Array | null, a: string, b: string, query: string) => void;

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
  readonly root: HTMLSpanElement;
  readonly cell: Cell<string | null>;
  private readonly picker: HTMLSelectElement;
  private readonly mapToggle: HTMLInputElement;
  private readonly shown = new WeakMap<QueryRow, { el: HTMLDivElement; key: string }>();
  /** The other set's rankings of the rows' queries (for the paired curves). */
  private readonly pairs: Rankings;
  /** What the map is coloured for now ("" for nothing). */
  private mapKey = "";

  constructor(
    store: Store,
    featureSets: readonly string[],
    private readonly api: Pick<Api, "thumbUrl" | "rankingSource" | "spearman">,
    n: number,
    private readonly onError: (message: string) => void,
    changed: () => void,
    private readonly colourMap: MapColouring,
  ) {
    this.cell = store.register(compareSlice(featureSets));
    const s = select("compare with", "compare-select", "a second feature set to compare each query's ranking with", [
      ["", "none"],
      ...featureSets.map((f): [string, string] => [f, f]),
    ]);
    const toggle = checkbox("Δ rank map", "compare-map", "colour the map by how differently the two feature sets rank each image for the active query");
    this.mapToggle = toggle.input;
    this.mapToggle.addEventListener("change", changed);
    this.root = element("span", "compare-tools");
    this.root.append(s.label, toggle.label);
    this.root.hidden = featureSets.length < 2;
    this.picker = s.select;
    this.picker.addEventListener("change", () => this.cell.set(this.picker.value || null));
    this.pairs = new Rankings(api, null, n);
    this.pairs.onChange(changed);
  }

  /** Show the comparison of `current` with the chosen set on `rows` (image queries only), and colour the map for `active`. */
  update(rows: readonly QueryRow[], current: string, k: number, active: QueryRef | null): void {
    const other = this.cell.value;
    this.picker.value = other ?? "";
    const comparing = other !== null && other !== current;
    this.mapToggle.disabled = !comparing;
    this.pairs.setFeatures(comparing ? other : null);
    this.pairs.retain(comparing ? rows.map((r) => r.query.ref).filter((r) => r.kind === "image") : []);
    this.updateMap(comparing ? other : null, current, active);
    for (const row of rows) {
      const slot = this.slot(row);
      const ref = row.query.ref;
      slot.el.hidden = !comparing || ref.kind !== "image";
      const paired = comparing && ref.kind === "image" ? this.pairs.ready(ref) : null;
      row.setExtra("compare", paired && other ? { ranking: paired, style: PAIRED_STYLE, label: other, mainLabel: current } : null);
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

  /** Colour the map for the active image query while the toggle is on; stop otherwise. */
  private updateMap(other: string | null, current: string, active: QueryRef | null): void {
    const on = this.mapToggle.checked && other !== null && active?.kind === "image";
    const key = on && active.kind === "image" ? `${active.id}|${current}|${other}` : "";
    if (key === this.mapKey) return;
    this.mapKey = key;
    if (!on || active.kind !== "image") {
      this.colourMap(null, "", "", "");
      return;
    }
    const id = active.id;
    conceptsApi.rankDifference(id, current, other).then(
      (codes) => {
        if (this.mapKey === key) this.colourMap(codes, current, other, `image ${id}`);
      },
      (err: unknown) => {
        this.mapKey = "";
        this.onError(`The rank difference could not be computed: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
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
