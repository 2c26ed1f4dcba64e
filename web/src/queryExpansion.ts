// Average query expansion on each row (the paper's suggestion): the query averaged with its top
// k, made unit length again and ranked by the server (POST /api/queries/expand), drawn as a
// second curve on the same row so the two rankings can be compared where they differ. Each
// row has its own switch and k under its query image; image queries only (an upload has no
// stored row to expand).

import type { Api } from "./api";
import type { QueryStyle } from "./colors";
import { conceptsApi } from "./conceptsApi";
import { checkbox, element } from "./dom";
import type { QueryRef } from "./queryList";
import type { QueryRow } from "./queryRow";
import { Rankings } from "./rankings";

/** The expanded curve: black, dotted (the other set's curve is grey and dashed). */
export const EXPANDED_STYLE: QueryStyle = { colour: "#000000", dash: [1.5, 2.5] };
const DEFAULT_K = 10;
const MAX_K = 1000;

/** A row's switch and k, under its query image. */
interface RowControl {
  el: HTMLDivElement;
  toggle: HTMLInputElement;
  k: HTMLInputElement;
}

export class QueryExpansion {
  private readonly expanded: Rankings;
  private readonly controls = new WeakMap<QueryRow, RowControl>();
  /** Server keys of the expanded queries, by `${image}|${feature set}|${k}` (null: asked, not answered). */
  private readonly keys = new Map<string, string | null>();

  constructor(
    api: Pick<Api, "rankingSource" | "spearman">,
    n: number,
    private readonly changed: () => void,
    private readonly onError: (message: string) => void,
  ) {
    this.expanded = new Rankings(api, null, n);
    this.expanded.onChange(changed);
  }

  update(rows: readonly QueryRow[], current: string): void {
    this.expanded.setFeatures(current);
    const refs: QueryRef[] = [];
    for (const row of rows) {
      const ref = row.query.ref;
      const control = this.control(row);
      control.el.hidden = ref.kind !== "image";
      const k = validK(control.k.value);
      const key = control.toggle.checked && k !== null && ref.kind === "image" ? this.keyOf(ref.id, current, k) : null;
      if (key) refs.push({ kind: "upload", key });
      const ranking = key ? this.expanded.ready({ kind: "upload", key }) : null;
      row.setExtra("expand", ranking ? { ranking, style: EXPANDED_STYLE, label: `expanded with its top ${k ?? ""}`, mainLabel: current } : null);
    }
    this.expanded.retain(refs);
  }

  /** The row's switch and k (made on first use, under the query image). */
  private control(row: QueryRow): RowControl {
    const have = this.controls.get(row);
    if (have && have.el.isConnected) return have;
    const box = checkbox("expand", "qe-toggle", "average this query with its top k, re-rank, and draw the new curve on this row (query expansion)");
    const k = document.createElement("input");
    k.type = "number";
    k.min = "1";
    k.max = String(MAX_K);
    k.value = String(DEFAULT_K);
    k.className = "qe-k";
    k.dataset.testid = "qe-k";
    k.title = "how many of the query's nearest other images are averaged in";
    for (const input of [box.input, k]) {
      input.addEventListener("change", this.changed);
      input.addEventListener("pointerdown", (e) => e.stopPropagation()); // not a click that activates the row
    }
    const el = element("div", "qe-control");
    el.append(box.label, " k ", k);
    (row.root.querySelector(".query-head") ?? row.root).append(el);
    const made = { el, toggle: box.input, k };
    this.controls.set(row, made);
    return made;
  }

  /** The server's key of image `id` expanded with its top `k` in `featureSet`; asked for once, null until it arrives. */
  private keyOf(id: number, featureSet: string, k: number): string | null {
    const name = `${id}|${featureSet}|${k}`;
    const have = this.keys.get(name);
    if (have !== undefined) return have;
    this.keys.set(name, null);
    conceptsApi.expand(id, k, featureSet).then(
      (answer) => {
        this.keys.set(name, answer.query);
        this.changed();
      },
      (err: unknown) => this.onError(`Query expansion failed: ${err instanceof Error ? err.message : String(err)}`),
    );
    return null;
  }
}

/** k as typed, or null while it is not a whole number in 1..MAX_K. */
function validK(text: string): number | null {
  const k = Number(text);
  return Number.isInteger(k) && k >= 1 && k <= MAX_K ? k : null;
}
