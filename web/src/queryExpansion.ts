// Average query expansion on each row (the paper's suggestion): the query averaged with its top
// k, made unit length again and ranked by the server (POST /api/queries/expand), drawn as a
// second curve on the same row so the two rankings can be compared where they differ. The
// toolbar holds the switch and k; image queries only (an upload has no stored row to expand).

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

export class QueryExpansion {
  readonly root: HTMLSpanElement;
  private readonly toggle: HTMLInputElement;
  private readonly kInput: HTMLInputElement;
  private readonly expanded: Rankings;
  /** Server keys of the expanded queries, by `${image}|${feature set}|${k}` (null: asked, not answered). */
  private readonly keys = new Map<string, string | null>();

  constructor(
    api: Pick<Api, "rankingSource" | "spearman">,
    n: number,
    private readonly changed: () => void,
    private readonly onError: (message: string) => void,
  ) {
    const box = checkbox("expand", "qe-toggle", "average each query with its top k, re-rank, and draw the new curve on the same row (query expansion)");
    this.toggle = box.input;
    this.toggle.addEventListener("change", changed);
    this.kInput = document.createElement("input");
    this.kInput.type = "number";
    this.kInput.min = "1";
    this.kInput.max = String(MAX_K);
    this.kInput.value = String(DEFAULT_K);
    this.kInput.className = "qe-k";
    this.kInput.dataset.testid = "qe-k";
    this.kInput.title = "how many of the query's nearest images are averaged in";
    this.kInput.addEventListener("change", changed);
    this.root = element("span", "qe-tools");
    this.root.append(box.label, " k ", this.kInput);
    this.expanded = new Rankings(api, null, n);
    this.expanded.onChange(changed);
  }

  /** k as typed, or null while it is not a whole number in 1..MAX_K. */
  get k(): number | null {
    const k = Number(this.kInput.value);
    return Number.isInteger(k) && k >= 1 && k <= MAX_K ? k : null;
  }

  update(rows: readonly QueryRow[], current: string): void {
    const k = this.k;
    const on = this.toggle.checked && k !== null;
    this.expanded.setFeatures(current);
    const refs: QueryRef[] = [];
    for (const row of rows) {
      const ref = row.query.ref;
      const key = on && ref.kind === "image" ? this.keyOf(ref.id, current, k) : null;
      if (key) refs.push({ kind: "upload", key });
      const ranking = key ? this.expanded.ready({ kind: "upload", key }) : null;
      row.setExtra("expand", ranking ? { ranking, style: EXPANDED_STYLE, label: `expanded with its top ${k ?? ""}`, mainLabel: current } : null);
    }
    this.expanded.retain(refs);
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
