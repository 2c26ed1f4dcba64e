// One query's row: the query image (QUERY_PX) with its controls, its similarity curve with a
// brush choosing a rank window, and the strip of the images in that window.

import type { Api } from "./api";
import { type QueryStyle, queryStyle } from "./colors";
import { element } from "./dom";
import { CurveChart } from "./curve";
import { RankBrush } from "./brush";
import { clampWindow, defaultWindow, type RankWindow, stripCapacity, stripRanks } from "./geometry";
import type { Highlight } from "./highlight";
import type { RankingEntry } from "./rankings";
import type { RankedQuery } from "./rankedQuery";
import { type Query, refKey } from "./queryList";
import { type QueryName, placeholderName } from "./queryName";
import { Strip } from "./strip";
import { markFirstDraw } from "./timing";

const STRIP_GAP = 3;
const CHART_HEIGHT = 104;
/** The query image's size in CSS px. */
const QUERY_PX = 128;

export interface RowActions {
  pick(id: number): void;
  brush(window: RankWindow): void;
  remove(): void;
  move(delta: -1 | 1): void;
  activate(): void;
}

/** Another ranking drawn on this row's chart: the same query in a second feature set, or expanded. */
export interface ExtraCurve {
  ranking: RankedQuery;
  style: QueryStyle;
  /** Its name in the row's legend. */
  label: string;
  /** What the row's own curve is called beside it (the feature set in use). */
  mainLabel: string;
}

/** Where extra curves' hover balls are keyed: apart from every query's colour slot. */
const EXTRA_SLOT_BASE = 100_000;

export interface RowView {
  entry: RankingEntry;
  window: RankWindow | null;
  stripSize: number;
  yDomain: [number, number];
  logRanks: boolean;
  index: number;
  total: number;
  active: boolean;
}

export class QueryRow {
  readonly root: HTMLDivElement;
  readonly key: string;
  private readonly chart: CurveChart;
  private readonly brush: RankBrush;
  private readonly strip: Strip;
  private readonly body: HTMLDivElement;
  private readonly up: HTMLButtonElement;
  private readonly down: HTMLButtonElement;
  private readonly status: HTMLDivElement;
  private readonly title: HTMLDivElement;
  private readonly labelText: HTMLDivElement;
  private ranking: RankedQuery | null = null;
  private curveDrawn = false;
  private view: RowView | null = null;
  /** Extra curves by who added them ("compare", "expand"), in the order first added. */
  private readonly extras = new Map<string, ExtraCurve>();
  private readonly legend: HTMLDivElement;
  /** The window in effect (the stored one, or the default top of the ranking). */
  window: RankWindow | null = null;
  /** Ids shown in the strip, for the links to the next row. */
  shownIds: number[] = [];

  constructor(
    readonly query: Query,
    api: Pick<Api, "thumbUrl" | "uploadThumbUrl">,
    highlight: Highlight,
    actions: RowActions,
  ) {
    this.key = refKey(query.ref);
    const style = queryStyle(query.slot);
    this.root = document.createElement("div");
    this.root.className = "query-row";
    this.root.dataset.testid = "query-row";
    this.root.dataset.ref = this.key;
    this.root.dataset.slot = String(query.slot);
    this.root.style.setProperty("--query-colour", style.colour);
    this.root.addEventListener("pointerdown", () => actions.activate());

    const head = element("div", "query-head");
    const img = queryImage(query, api, highlight);
    this.title = element("div", "query-title");
    this.title.dataset.testid = "query-name";
    this.labelText = element("div", "query-label-text");
    this.labelText.dataset.testid = "query-label";
    const label = element("div", "query-label");
    label.append(swatch(style), this.title);
    const controls = element("div", "row-controls");
    this.up = button("↑", "move-up", "move this query up", () => actions.move(-1));
    this.down = button("↓", "move-down", "move this query down", () => actions.move(1));
    const del = button("✕", "delete-query", "delete this query", () => actions.remove());
    controls.append(this.up, this.down, del);
    head.append(img, label, this.labelText, controls);
    this.showName(placeholderName(query.ref));

    this.body = element("div", "query-body");
    this.chart = new CurveChart({ height: CHART_HEIGHT, testid: "row-chart", titles: false });
    this.brush = new RankBrush(this.chart.plot, (w) => actions.brush(w));
    this.strip = new Strip(api, highlight, (id) => actions.pick(id));
    this.status = element("div", "row-status");
    this.legend = element("div", "row-legend");
    this.legend.dataset.testid = "row-legend";
    this.legend.hidden = true;
    this.body.append(this.legend, this.chart.root, this.status, this.strip.root);
    this.root.append(head, this.body);
  }

  /** The query's file name and label (they arrive after the row is drawn). */
  showName(n: QueryName): void {
    this.title.textContent = n.name;
    this.title.title = n.path || n.name;
    this.labelText.textContent = n.label === null ? "" : `label ${n.label}`;
    this.labelText.title = this.labelText.textContent;
  }

  /** Horizontal position of the rank axis in the page, for the links band. */
  axis(): { left: number; width: number; log: boolean } {
    const r = this.chart.root.getBoundingClientRect();
    return { left: r.left + this.chart.plotLeft, width: this.chart.plotWidth, log: this.chart.logRanks };
  }

  get currentRanking(): RankedQuery | null {
    return this.ranking;
  }

  update(v: RowView): void {
    this.root.classList.toggle("active", v.active);
    this.up.disabled = v.index === 0;
    this.down.disabled = v.index === v.total - 1;
    // Floor of the exact width: clientWidth rounds up, which could promise a strip one image too many.
    const width = Math.floor(this.body.getBoundingClientRect().width);
    this.chart.resize(width);
    const style = queryStyle(this.query.slot);
    if (v.entry.status !== "ready") {
      this.ranking = null;
      this.shownIds = [];
      this.chart.setSeries([], 0, v.yDomain);
      this.status.textContent = v.entry.status === "loading" ? "ranking every image…" : v.entry.message;
      this.status.classList.toggle("error", v.entry.status === "error");
      this.status.dataset.testid = v.entry.status === "error" ? "row-error" : "row-status";
      this.strip.clear("");
      return;
    }
    this.status.textContent = "";
    this.status.classList.remove("error");
    const ranking = v.entry.ranking;
    const n = ranking.n;
    this.ranking = ranking;
    this.view = v;
    this.drawSeries(ranking, v, style);
    if (!this.curveDrawn && ranking.curve(this.chart.plotWidth, v.logRanks)) {
      markFirstDraw(`curve:${this.key}`);
      this.curveDrawn = true;
    }
    const capacity = stripCapacity(width, v.stripSize, STRIP_GAP);
    // A window from a bad link (past the last rank) is shown clamped into the ranking.
    const w = v.window ? clampWindow(v.window, n) : defaultWindow(capacity, n);
    this.window = w;
    this.brush.resize(this.chart.plotWidth, this.chart.plotHeight, n, v.logRanks);
    this.brush.sync(w);
    const ranks = stripRanks(w, capacity);
    // The strip's images and the window's two ends, asked of the server if not held yet.
    const picked = ranking.pick([...ranks, w.lo, w.hi - 1]);
    if (!picked) return; // drawn again when they arrive; the strip keeps its images meanwhile
    const [simLo, simHi] = picked.sims.slice(ranks.length);
    this.shownIds = picked.ids.slice(0, ranks.length);
    const count = w.hi - w.lo;
    const sampled = count > ranks.length ? ` (${ranks.length} shown, evenly spaced)` : "";
    const text = `ranks ${w.lo}–${w.hi - 1} of ${n}${sampled} · similarity ${simLo.toFixed(3)} to ${simHi.toFixed(3)}`;
    this.strip.show({ ids: this.shownIds, sims: picked.sims.slice(0, ranks.length) }, ranks, v.stripSize, STRIP_GAP, text);
  }

  /** Draw `extra` on this row's chart under the name `source` (null removes it). */
  setExtra(source: string, extra: ExtraCurve | null): void {
    const had = this.extras.get(source);
    if (extra === null ? !had : had && had.ranking === extra.ranking && had.label === extra.label && had.mainLabel === extra.mainLabel) return;
    if (extra) this.extras.set(source, extra);
    else this.extras.delete(source);
    this.showLegend();
    if (this.ranking && this.view) this.drawSeries(this.ranking, this.view, queryStyle(this.query.slot));
  }

  /** The duplicates threshold as a line across the chart (null: none). */
  setRule(sim: number | null, label = ""): void {
    this.chart.setRule(sim, label);
  }

  /** The ball of the hovered image on this row's curve, and on its extra curves. */
  setHover(id: number): void {
    const balls: Parameters<CurveChart["setBalls"]>[0] = [];
    const add = (r: RankedQuery | null, style: QueryStyle, slot: number): void => {
      const at = r && id >= 0 && id < r.ids ? r.rankOf(id) : null; // null until the server answers
      if (at) balls.push({ rank: at.rank, sim: at.sim, style, slot });
    };
    add(this.ranking, queryStyle(this.query.slot), this.query.slot);
    [...this.extras.values()].forEach((e, i) => add(e.ranking, e.style, EXTRA_SLOT_BASE + i));
    this.chart.setBalls(balls);
  }

  /** The row's curve and its extras, on a y range wide enough for all of them. */
  private drawSeries(ranking: RankedQuery, v: RowView, style: QueryStyle): void {
    const extras = [...this.extras.values()];
    const lo = Math.min(v.yDomain[0], ...extras.map((e) => e.ranking.extent[0]));
    const hi = Math.max(v.yDomain[1], ...extras.map((e) => e.ranking.extent[1]));
    const series = [
      { curve: (cw: number, log: boolean) => ranking.curve(cw, log), style, slot: this.query.slot },
      ...extras.map((e, i) => ({ curve: (cw: number, log: boolean) => e.ranking.curve(cw, log), style: e.style, slot: EXTRA_SLOT_BASE + i })),
    ];
    this.chart.setSeries(series, ranking.n, [lo, hi], v.logRanks);
  }

  private showLegend(): void {
    const extras = [...this.extras.values()];
    this.legend.hidden = extras.length === 0;
    if (!extras.length) return;
    const entry = (style: QueryStyle, text: string): HTMLSpanElement => {
      const span = element("span", "legend-entry");
      span.append(swatch(style), text);
      return span;
    };
    this.legend.replaceChildren(entry(queryStyle(this.query.slot), extras[0].mainLabel), ...extras.map((e) => entry(e.style, e.label)));
  }
}

/** The query's image; hovering one of the project's images highlights it everywhere. */
function queryImage(query: Query, api: Pick<Api, "thumbUrl" | "uploadThumbUrl">, highlight: Highlight): HTMLImageElement {
  const img = element("img", "query-image");
  img.dataset.testid = "query-image";
  img.width = QUERY_PX;
  img.height = QUERY_PX;
  img.alt = query.ref.kind === "image" ? `image ${query.ref.id}` : "uploaded image";
  img.src = query.ref.kind === "image" ? api.thumbUrl(QUERY_PX, query.ref.id) : api.uploadThumbUrl(query.ref.key);
  if (query.ref.kind === "image") {
    const id = query.ref.id;
    img.addEventListener("pointerenter", (e) => highlight.set({ id, source: "query", clientX: e.clientX, clientY: e.clientY }));
    img.addEventListener("pointerleave", () => {
      if (highlight.current?.source === "query") highlight.set(null);
    });
  }
  return img;
}

/** A short line in the query's colour and dash, as on the charts. */
function swatch(style: QueryStyle): SVGSVGElement {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "swatch");
  svg.setAttribute("width", "40");
  svg.setAttribute("height", "8");
  svg.innerHTML = `<line x1="0" y1="4" x2="40" y2="4" stroke="${style.colour}" stroke-width="3" stroke-dasharray="${style.dash.join(" ")}"/>`;
  return svg;
}

function button(text: string, testid: string, title: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.title = title;
  b.setAttribute("aria-label", title);
  b.dataset.testid = testid;
  b.addEventListener("click", (e) => {
    e.stopPropagation();
    onClick();
  });
  return b;
}
