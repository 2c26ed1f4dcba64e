// Labels as ground truth in the page: a panel with the whole-set evaluation of the features in
// use (every labelled image a query, computed exactly on the server, as `deepviz eval` prints
// it): mean AP and precision@k per class in a sortable table, each with a bar, and a click on a
// class that adds its best and worst queries as rows.

import { type ClassQueries, conceptsApi, type EvalSummary } from "./conceptsApi";
import { element } from "./dom";

type Column = "label" | "n" | "map" | "precision_at_k";
type Row = EvalSummary["classes"][number];

/** How many queries of each end a class click adds. */
const ENDS = 3;

export class EvalTable {
  readonly root: HTMLElement;
  readonly button: HTMLButtonElement;
  private readonly body: HTMLDivElement;
  private summary: EvalSummary | null = null;
  private key = "";
  private sort: { column: Column; descending: boolean } = { column: "map", descending: true };

  constructor(
    private readonly settings: () => { featureSet: string | null; k: number },
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
    const { featureSet, k } = this.settings();
    const key = `${featureSet ?? ""}|${k}`;
    if (key === this.key) return;
    this.key = key;
    this.summary = null;
    this.body.textContent = "evaluating every labelled image as a query…";
    conceptsApi.evaluate(featureSet, k).then(
      (s) => {
        if (this.key !== key) return;
        this.summary = s;
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
    const line = element("div", "eval-summary");
    line.dataset.testid = "eval-summary";
    line.textContent =
      `${s.feature_set}: mAP ${f(s.map)} · P@${s.k} ${f(s.precision_at_k)} over ${s.queries} queries` +
      (s.skipped ? ` (${s.skipped} skipped: their class has one image)` : "") +
      (s.unlabelled ? ` · ${s.unlabelled} unlabelled` : "");
    const table = element("table", "eval-table");
    table.dataset.testid = "eval-table";
    const head = document.createElement("tr");
    const columns: [Column, string][] = [["label", "class"], ["n", "n"], ["map", "mAP"], ["precision_at_k", `P@${s.k}`]];
    for (const [column, text] of columns) {
      const th = document.createElement("th");
      th.textContent = text + (this.sort.column === column ? (this.sort.descending ? " ▾" : " ▴") : "");
      th.dataset.testid = `eval-sort-${column}`;
      th.title = "sort by this column";
      th.addEventListener("click", () => {
        this.sort = { column, descending: this.sort.column === column ? !this.sort.descending : column !== "label" };
        this.draw();
      });
      head.append(th);
    }
    table.append(head);
    for (const c of sorted(s.classes, this.sort.column, this.sort.descending)) table.append(this.classRow(c, s.k));
    this.body.replaceChildren(line, table);
  }

  private classRow(c: Row, k: number): HTMLTableRowElement {
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
    for (const v of [c.map, c.precision_at_k]) {
      const td = element("td", "bar-cell");
      const bar = element("span", "bar");
      bar.style.width = `${Math.round(100 * v)}%`;
      const num = element("span", "bar-value");
      num.textContent = v.toFixed(3);
      td.append(bar, num);
      tr.append(td);
    }
    tr.addEventListener("click", () => {
      const { featureSet } = this.settings();
      conceptsApi.classQueries(c.label, featureSet, k, ENDS).then(this.addQueries, (err: unknown) =>
        this.onError(`The class's queries could not be found: ${err instanceof Error ? err.message : String(err)}`),
      );
    });
    return tr;
  }
}

/** `rows` ordered by `column` (ties by label). */
export function sorted(rows: readonly Row[], column: Column, descending: boolean): Row[] {
  const sign = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[column];
    const y = b[column];
    const c = typeof x === "string" && typeof y === "string" ? x.localeCompare(y) : Number(x) - Number(y);
    return c !== 0 ? sign * c : a.label.localeCompare(b.label);
  });
}
