// The active concept on each query's row: its members as a barcode along the row's rank axis,
// and the ranking's AP, precision@k and recall@k for it, all from the server (the query left out
// of its own ranking when it is a member, which the row says).

import { type BarcodeAxis, drawBarcode } from "./barcode";
import { CONCEPT_COLOUR } from "./concepts";
import { type ConceptMetrics, conceptsApi, type MetricsQuery } from "./conceptsApi";
import { element } from "./dom";
import { refKey } from "./queryList";
import type { QueryRow } from "./queryRow";

const HEIGHT = 14;

interface Shown {
  el: HTMLDivElement;
  canvas: HTMLCanvasElement;
  text: HTMLSpanElement;
  key: string;
  metrics: ConceptMetrics | null;
}

export class ConceptRows {
  private readonly shown = new WeakMap<QueryRow, Shown>();
  private readonly cache = new Map<string, Promise<ConceptMetrics>>();

  constructor(private readonly onError: (message: string) => void) {}

  /** Show concept `name` (null: none) on `rows`, figures for `featureSet` at `k`; `version` changes with the concept. */
  update(rows: readonly QueryRow[], name: string | null, version: number, featureSet: string | null, k: number): void {
    for (const row of rows) {
      const s = this.slot(row);
      s.el.hidden = name === null;
      if (name === null) continue;
      const ref = row.query.ref;
      const key = `${name}|${version}|${refKey(ref)}|${featureSet ?? ""}|${k}`;
      if (s.key !== key) {
        s.key = key;
        s.metrics = null;
        s.text.textContent = "…";
        const query: MetricsQuery = ref.kind === "image" ? { image: ref.id } : { upload: ref.key };
        this.fetch(key, name, query, featureSet, k).then(
          (m) => {
            if (s.key !== key) return;
            s.metrics = m;
            this.draw(row, s);
          },
          (err: unknown) => {
            if (s.key !== key) return;
            s.text.textContent = "";
            this.onError(`The concept's figures could not be computed: ${err instanceof Error ? err.message : String(err)}`);
          },
        );
      }
      this.draw(row, s);
    }
  }

  private fetch(key: string, name: string, query: MetricsQuery, featureSet: string | null, k: number): Promise<ConceptMetrics> {
    let p = this.cache.get(key);
    if (!p) {
      p = conceptsApi.metrics(name, query, featureSet, k);
      this.cache.set(key, p);
      p.catch(() => this.cache.delete(key));
      if (this.cache.size > 200) this.cache.delete(this.cache.keys().next().value as string);
    }
    return p;
  }

  private slot(row: QueryRow): Shown {
    let s = this.shown.get(row);
    if (!s || !s.el.isConnected) {
      const el = element("div", "concept-line");
      el.dataset.testid = "concept-line";
      const canvas = element("canvas", "barcode");
      canvas.dataset.testid = "barcode";
      const text = element("span", "concept-figures");
      text.dataset.testid = "concept-figures";
      el.append(canvas, text);
      const body = row.root.querySelector(".query-body");
      const status = body?.querySelector(".row-status");
      if (status) status.before(el);
      else (body ?? row.root).append(el);
      s = { el, canvas, text, key: "", metrics: null };
      this.shown.set(row, s);
    }
    return s;
  }

  private draw(row: QueryRow, s: Shown): void {
    const m = s.metrics;
    if (!m) return;
    const axis = row.axis();
    const width = Math.max(1, Math.floor(s.el.getBoundingClientRect().width));
    const dpr = window.devicePixelRatio || 1;
    if (s.canvas.width !== Math.round(width * dpr) || s.canvas.height !== Math.round(HEIGHT * dpr)) {
      s.canvas.width = Math.round(width * dpr);
      s.canvas.height = Math.round(HEIGHT * dpr);
      s.canvas.style.width = `${width}px`;
      s.canvas.style.height = `${HEIGHT}px`;
    }
    const ctx = s.canvas.getContext("2d");
    if (ctx) {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, width, HEIGHT);
      const left = axis.left - s.canvas.getBoundingClientRect().left;
      const bar: BarcodeAxis = { left, width: axis.width, n: m.n, log: axis.log };
      // The query of an image sits at rank 0 of its own ranking: its first k other images end at rank k + 1.
      drawBarcode(ctx, m.member_ranks, bar, HEIGHT, CONCEPT_COLOUR, row.query.ref.kind === "image" ? m.k + 1 : m.k);
    }
    s.el.dataset.ap = m.ap === null ? "" : m.ap.toFixed(6);
    s.text.textContent = figures(m);
    s.text.title =
      "AP: scikit-learn's average precision of this ranking for the concept; P@k, R@k: members among its first k images / k, / all members" +
      (m.query_is_member ? ". The query is a member: it is left out of its own ranking for these figures." : "");
  }
}

function figures(m: ConceptMetrics): string {
  const f = (v: number | null): string => (v === null ? "–" : v.toFixed(3));
  const note = m.query_is_member ? " · query is a member, left out" : "";
  return `${m.concept}: ${m.members} members · AP ${f(m.ap)} · P@${m.k} ${f(m.precision_at_k)} · R@${m.k} ${f(m.recall_at_k)}${note}`;
}
