// Labels as ground truth in the page: a panel with the whole-set evaluation of the features in
// use (every labelled image a query, computed exactly on the server, as `deepviz eval` prints
// it): mean AP and precision@k per class in a sortable table, each with a bar, and a click on a
// class that adds its best and worst queries as rows. With a second feature set chosen for
// comparison, the table puts the two sets column by column: mAP and P@k of each, and the
// difference of mAP (second minus first), every column sortable.

import { type ClassQueries, conceptsApi, type EvalSummary } from "./conceptsApi";
import { element } from "./dom";

type Row = EvalSummary["classes"][number];
/** A class's figures under two feature sets (null where the second set lacks the class). */
export interface PairedRow {
  label: string;
  n: number;
  map: number;
  precision_at_k: number;
  map_b: number | null;
  precision_at_k_b: number | null;
  /** mAP of the second set minus the first's. */
  delta: number | null;
}
type Column = keyof PairedRow;

/** How many queries of each end a class click adds. */
const ENDS = 3;

export class EvalTable {
  readonly root: HTMLElement;
  readonly button: HTMLButtonElement;
  private readonly body: HTMLDivElement;
  private summary: EvalSummary | null = null;
  /** The second feature set's evaluation, when comparing. */
  private second: EvalSummary | null = null;
  private key = "";
  private sort: { column: Column; descending: boolean } = { column: "map", descending: true };

  constructor(
    /** The feature set in use, k, and the set compared with (null: none). */
    private readonly settings: () => { featureSet: string | null; k: number; other: string | null },
    private readonly addQueries: (picked: ClassQueries) => void,
    private readonly onError: (message: string) => void,
  ) {
    this.root = element("section", "eval-panel");
    this.root.dataset.testid = "eval-panel";
    this.root.hidden = true;
    this.body = element("div", "eval-body");
    const head = element("div", "eval-head");
    const title = element("strong", "");
    title.textContent = "Labels as ground truth";
    const close = element("button", "eval-close");
    close.type = "button";
    close.textContent = "✕";
    close.title = "close the per-class table";
    close.addEventListener("click", () => this.toggle(false));
    head.append(title, close);
    this.root.append(head, this.body);
    this.button = element("button", "");
    this.button.type = "button";
    this.button.textContent = "classes";
    this.button.title = "every labelled image as a query: mean AP and precision@k of each class";
    this.button.dataset.testid = "eval-open";
    this.button.addEventListener("click", () => this.toggle(this.root.hidden));
  }

  toggle(open: boolean): void {
    this.root.hidden = !open;
    this.button.classList.toggle("on", open);
    if (open) this.render();
  }

  /** Refetch when the feature set or k changed (only while open). */
  render(): void {
    if (this.root.hidden) return;
    const { featureSet, k, other } = this.settings();
    const key = `${featureSet ?? ""}|${k}|${other ?? ""}`;
    if (key === this.key) return;
    this.key = key;
    this.summary = null;
    this.second = null;
    this.body.textContent = "evaluating every labelled image as a query…";
    // One after the other: the server evaluates one set at a time anyway.
    const both = async (): Promise<[EvalSummary, EvalSummary | null]> => {
      const first = await conceptsApi.evaluate(featureSet, k);
      return [first, other && other !== first.feature_set ? await conceptsApi.evaluate(other, k) : null];
    };
    both().then(
      ([s, second]) => {
        if (this.key !== key) return;
        this.summary = s;
        this.second = second;
        this.draw();
      },
      (err: unknown) => {
        this.key = "";
        this.body.textContent = err instanceof Error ? err.message : String(err);
      },
    );
  }

  private draw(): void {
    const s = this.summary;
    if (!s) return;
    const f = (v: number | null): string => (v === null ? "–" : v.toFixed(3));
    const b = this.second;
    const line = element("div", "eval-summary");
    line.dataset.testid = "eval-summary";
    line.textContent =
      [s, ...(b ? [b] : [])].map((e) => `${e.feature_set}: mAP ${f(e.map)} · P@${e.k} ${f(e.precision_at_k)}`).join("  vs  ") +
      ` over ${s.queries} queries` +
      (s.skipped ? ` (${s.skipped} skipped: their class has one image)` : "") +
      (s.unlabelled ? ` · ${s.unlabelled} unlabelled` : "");
    const table = element("table", "eval-table");
    table.dataset.testid = "eval-table";
    table.dataset.paired = String(b !== null);
    const head = document.createElement("tr");
    const columns: [Column, string, string][] = b
      ? [
          ["label", "class", ""],
          ["n", "n", ""],
          ["map", `mAP ${s.feature_set}`, ""],
          ["map_b", `mAP ${b.feature_set}`, ""],
          ["delta", "Δ mAP", `mAP of ${b.feature_set} minus mAP of ${s.feature_set}`],
          ["precision_at_k", `P@${s.k} ${s.feature_set}`, ""],
          ["precision_at_k_b", `P@${s.k} ${b.feature_set}`, ""],
        ]
      : [["label", "class", ""], ["n", "n", ""], ["map", "mAP", ""], ["precision_at_k", `P@${s.k}`, ""]];
    for (const [column, text, title] of columns) {
      const th = document.createElement("th");
      th.textContent = text + (this.sort.column === column ? (this.sort.descending ? " ▾" : " ▴") : "");
      th.dataset.testid = `eval-sort-${column}`;
      th.title = title || "sort by this column";
      th.addEventListener("click", () => {
        this.sort = { column, descending: this.sort.column === column ? !this.sort.descending : column !== "label" };
        this.draw();
      });
      head.append(th);
    }
    table.append(head);
    const rows = b ? pairClasses(s, b) : s.classes.map((c) => ({ ...c, map_b: null, precision_at_k_b: null, delta: null }));
    for (const c of sorted(rows, this.sort.column, this.sort.descending)) table.append(this.classRow(c, s.k, b !== null));
    this.body.replaceChildren(line, table);
  }

  private classRow(c: PairedRow, k: number, paired: boolean): HTMLTableRowElement {
    const tr = document.createElement("tr");
    tr.dataset.testid = "eval-class";
    tr.dataset.label = c.label;
    tr.title = `add ${c.label}'s ${ENDS} best and ${ENDS} worst queries (by AP) as rows`;
    const cells = [c.label, String(c.n)];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    const values = paired ? [c.map, c.map_b, c.delta, c.precision_at_k, c.precision_at_k_b] : [c.map, c.precision_at_k];
    values.forEach((v, i) => tr.append(paired && i === 2 ? deltaCell(v) : barCell(v)));
    tr.addEventListener("click", () => {
      const { featureSet } = this.settings();
      conceptsApi.classQueries(c.label, featureSet, k, ENDS).then(this.addQueries, (err: unknown) =>
        this.onError(`The class's queries could not be found: ${err instanceof Error ? err.message : String(err)}`),
      );
    });
    return tr;
  }
}

/** A figure in [0, 1] as a number over a bar of its length. */
function barCell(v: number | null): HTMLTableCellElement {
  const td = element("td", "bar-cell");
  const bar = element("span", "bar");
  bar.style.width = `${Math.round(100 * (v ?? 0))}%`;
  const num = element("span", "bar-value");
  num.textContent = v === null ? "–" : v.toFixed(3);
  td.append(bar, num);
  return td;
}

/** A signed difference, coloured by its sign (and written with it: the colour is not the only cue). */
function deltaCell(v: number | null): HTMLTableCellElement {
  const td = element("td", v === null || v === 0 ? "" : v > 0 ? "delta-up" : "delta-down");
  td.dataset.testid = "eval-delta";
  td.textContent = v === null ? "–" : `${v > 0 ? "+" : v < 0 ? "−" : "±"}${Math.abs(v).toFixed(3)}`;
  return td;
}

/** The classes of `a` with the figures of the same labels in `b` beside them, and the mAP difference b − a. */
export function pairClasses(a: EvalSummary, b: EvalSummary): PairedRow[] {
  const other = new Map(b.classes.map((c) => [c.label, c]));
  return a.classes.map((c) => {
    const o = other.get(c.label);
    return { ...c, map_b: o ? o.map : null, precision_at_k_b: o ? o.precision_at_k : null, delta: o ? o.map - c.map : null };
  });
}

/** `rows` ordered by `column` (ties by label; missing values last whichever way). */
export function sorted<R extends Row & Partial<PairedRow>>(rows: readonly R[], column: keyof R & Column, descending: boolean): R[] {
  const sign = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[column];
    const y = b[column];
    if (x === null || y === null || x === undefined || y === undefined) {
      const missing = Number(x === null || x === undefined) - Number(y === null || y === undefined);
      if (missing !== 0) return missing;
    }
    const c = typeof x === "string" && typeof y === "string" ? x.localeCompare(y) : Number(x) - Number(y);
    return c !== 0 ? sign * c : a.label.localeCompare(b.label);
  });
}
