// A similarity-curve chart: curves on a canvas (each the server's envelope at the chart's width:
// per-pixel-column min/max beyond one point per pixel, so 1M ranks cost `width` segments), axes,
// balls and a brush layer in an SVG on top.

import { type Axis, axisBottom, axisLeft } from "d3-axis";
import { type NumberValue, scaleLinear, type ScaleLinear } from "d3-scale";
import { select, type Selection } from "d3-selection";
import type { QueryStyle } from "./colors";
import { rankToX } from "./geometry";
import type { CurvePoints } from "./rankedQuery";
import { logTicks, positionToX } from "./rankScale";
import { yTickValues } from "./ticks";

export interface CurveSeries {
  /** The curve's points for a plot `width` px wide (null until they arrive). */
  curve: (width: number, log: boolean) => CurvePoints | null;
  style: QueryStyle;
  /** Colour slot of the query: tests and tooltips find a curve's ball by it. */
  slot: number;
}

export interface Ball {
  rank: number;
  sim: number;
  style: QueryStyle;
  slot: number;
}

export interface ChartOptions {
  height: number;
  testid: string;
  /** Axis titles are drawn only where there is room (the overlay); rows keep tick labels. */
  titles: boolean;
}

const MARGIN = { top: 8, right: 12, bottom: 22, left: 40 };

export class CurveChart {
  readonly root: HTMLDivElement;
  /** The plot area group; the brush is added into it by its owner. */
  readonly plot: Selection<SVGGElement, unknown, null, undefined>;
  private readonly canvas: HTMLCanvasElement;
  private readonly svg: Selection<SVGSVGElement, unknown, null, undefined>;
  private readonly xAxis: Selection<SVGGElement, unknown, null, undefined>;
  private readonly yAxis: Selection<SVGGElement, unknown, null, undefined>;
  private readonly balls: Selection<SVGGElement, unknown, null, undefined>;
  private readonly band: Selection<SVGRectElement, unknown, null, undefined>;
  private readonly margin: typeof MARGIN;
  private width = 0;
  private series: CurveSeries[] = [];
  private n = 0;
  private yDomain: [number, number] = [-1, 1];
  /** Log rank axis (see rankScale). */
  private log = false;
  /** A similarity marked by a horizontal line (the duplicates threshold), and its label. */
  private rule: { sim: number; label: string } | null = null;

  constructor(private readonly options: ChartOptions) {
    this.margin = { ...MARGIN, bottom: options.titles ? 34 : MARGIN.bottom, left: options.titles ? 48 : MARGIN.left };
    this.root = document.createElement("div");
    this.root.className = "curve-chart";
    this.root.dataset.testid = options.testid;
    this.root.style.height = `${options.height}px`;
    this.canvas = document.createElement("canvas");
    this.root.append(this.canvas);
    this.svg = select(this.root).append("svg").attr("height", options.height);
    this.xAxis = this.svg.append("g").attr("class", "axis x-axis");
    this.yAxis = this.svg.append("g").attr("class", "axis y-axis");
    this.plot = this.svg.append("g").attr("transform", `translate(${this.margin.left},${this.margin.top})`);
    this.band = this.plot.append("rect").attr("class", "window-band").attr("y", 0);
    this.balls = this.svg.append("g").attr("transform", `translate(${this.margin.left},${this.margin.top})`).attr("class", "balls");
    if (options.titles) {
      this.svg.append("text").attr("class", "axis-title x-title").attr("text-anchor", "middle").text("rank (0 = most similar)");
      this.svg
        .append("text")
        .attr("class", "axis-title y-title")
        .attr("text-anchor", "middle")
        .attr("transform", `translate(12,${this.margin.top + this.plotHeight / 2}) rotate(-90)`)
        .text("cosine similarity");
    }
  }

  get plotWidth(): number {
    return Math.max(10, this.width - this.margin.left - this.margin.right);
  }

  get plotHeight(): number {
    return Math.max(10, this.options.height - this.margin.top - this.margin.bottom);
  }

  /** Left offset of the plot area inside the chart (links between rows align to it). */
  get plotLeft(): number {
    return this.margin.left;
  }

  get count(): number {
    return this.n;
  }

  x(rank: number): number {
    return rankToX(rank, this.plotWidth, this.n, this.log);
  }

  get logRanks(): boolean {
    return this.log;
  }

  y(): ScaleLinear<number, number> {
    return scaleLinear().domain(this.yDomain).range([this.plotHeight, 0]);
  }

  resize(width: number): void {
    if (Math.abs(width - this.width) < 0.5) return;
    this.width = width;
    this.draw();
  }

  setSeries(series: CurveSeries[], n: number, yDomain: [number, number], log = false): void {
    this.series = series;
    this.n = n;
    this.yDomain = yDomain;
    this.log = log;
    this.root.dataset.rankScale = log ? "log" : "linear";
    this.draw();
  }

  /** Mark similarity `sim` with a dashed horizontal line labelled `label` (null: none). */
  setRule(sim: number | null, label = ""): void {
    const same = sim === null ? this.rule === null : this.rule !== null && this.rule.sim === sim && this.rule.label === label;
    if (same) return;
    this.rule = sim === null ? null : { sim, label };
    if (sim === null) delete this.root.dataset.rule;
    else this.root.dataset.rule = String(sim);
    this.draw();
  }

  /** Shade the rank window [lo, hi) (the overlay shows the active query's brush). */
  setBand(window: { lo: number; hi: number } | null, colour = "#888"): void {
    if (!window || this.n === 0) {
      this.band.attr("width", 0);
      return;
    }
    const x0 = positionToX(window.lo, this.plotWidth, this.n, this.log);
    const x1 = positionToX(window.hi, this.plotWidth, this.n, this.log);
    this.band
      .attr("x", x0)
      .attr("width", Math.max(1, x1 - x0))
      .attr("height", this.plotHeight)
      .attr("fill", colour);
  }

  setBalls(balls: Ball[]): void {
    const y = this.y();
    this.balls
      .selectAll<SVGCircleElement, Ball>("circle")
      .data(balls, (b) => String(b.slot))
      .join("circle")
      .attr("data-testid", "curve-ball")
      .attr("data-chart", this.options.testid)
      .attr("data-slot", (b) => b.slot)
      .attr("data-rank", (b) => b.rank)
      .attr("data-sim", (b) => b.sim.toFixed(4))
      .attr("r", 5)
      .attr("cx", (b) => this.x(b.rank))
      .attr("cy", (b) => y(b.sim))
      .attr("fill", (b) => b.style.colour)
      .attr("stroke", "#fff")
      .attr("stroke-width", 1.5);
  }

  private draw(): void {
    if (this.width <= 0) return;
    const { plotWidth: pw, plotHeight: ph, margin } = this;
    const h = this.options.height;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(this.width * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.canvas.style.width = `${this.width}px`;
    this.canvas.style.height = `${h}px`;
    this.svg.attr("width", this.width);
    const y = this.y();
    this.xAxis.attr("transform", `translate(${margin.left},${margin.top + ph})`).call(this.rankAxis(pw));
    this.yAxis
      .attr("transform", `translate(${margin.left},${margin.top})`)
      .call(axisLeft(y).tickValues(yTickValues(this.yDomain, ph)).tickFormat((v) => Number(v).toFixed(2)));
    this.root.dataset.yDomain = this.yDomain.map((v) => v.toFixed(4)).join(",");
    this.svg.select(".x-title").attr("x", margin.left + pw / 2).attr("y", h - 4);

    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, h);
    ctx.save();
    ctx.translate(margin.left, margin.top);
    // Zero line: similarity 0 separates "alike" from "unlike".
    if (this.yDomain[0] < 0 && this.yDomain[1] > 0) {
      ctx.strokeStyle = "#ddd";
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(0, y(0));
      ctx.lineTo(pw, y(0));
      ctx.stroke();
    }
    for (const s of this.series) this.drawCurve(ctx, s, pw, y);
    if (this.rule) drawRule(ctx, this.rule, pw, y(this.rule.sim), this.yDomain);
    ctx.restore();
  }

  /** The x axis: round ranks on a linear axis, powers of ten on a log one (same positions as the curves). */
  private rankAxis(pw: number): Axis<NumberValue> {
    const n = Math.max(1, this.n);
    if (!this.log) return axisBottom(scaleLinear().domain([0, n]).range([0, pw])).ticks(Math.max(2, Math.floor(pw / 80)), "~s").tickSizeOuter(0);
    const scale = scaleLinear().domain([0, pw]).range([0, pw]);
    const ticks = logTicks(n);
    const at = new Map(ticks.map((t) => [positionToX(t, pw, n, true), t]));
    return axisBottom(scale)
      .tickValues([...at.keys()])
      .tickFormat((x) => format(at.get(Number(x)) ?? 0))
      .tickSizeOuter(0);
  }

  private drawCurve(ctx: CanvasRenderingContext2D, s: CurveSeries, pw: number, y: ScaleLinear<number, number>): void {
    const pts = s.curve(pw, this.log);
    if (!pts || pts.x.length === 0) return;
    // Points made for another width (while this one's are on their way) are stretched to fit.
    const k = pw / pts.width;
    ctx.strokeStyle = s.style.colour;
    ctx.lineWidth = 1.75;
    ctx.setLineDash(s.style.dash as number[]);
    ctx.beginPath();
    ctx.moveTo(pts.x[0] * k, y(pts.sims[0]));
    for (let i = 1; i < pts.x.length; i++) ctx.lineTo(pts.x[i] * k, y(pts.sims[i]));
    ctx.stroke();
    ctx.setLineDash([]);
  }
}

/** A dashed line across the plot at height `at`, its label at the right end (nothing outside the y range). */
function drawRule(ctx: CanvasRenderingContext2D, rule: { sim: number; label: string }, pw: number, at: number, domain: [number, number]): void {
  if (rule.sim < domain[0] || rule.sim > domain[1]) return;
  ctx.strokeStyle = "#b00020";
  ctx.lineWidth = 1;
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  ctx.moveTo(0, at);
  ctx.lineTo(pw, at);
  ctx.stroke();
  ctx.setLineDash([]);
  if (!rule.label) return;
  ctx.fillStyle = "#b00020";
  ctx.font = "10px sans-serif";
  ctx.textAlign = "right";
  // Above the line, or below it when the line is at the top of the plot (near-duplicates usually are).
  const below = at < 12;
  ctx.textBaseline = below ? "top" : "bottom";
  ctx.fillText(rule.label, pw - 2, below ? at + 2 : at - 1);
}

/** 0, 1, 10, 100, 1k, 10k, … */
function format(rank: number): string {
  return rank >= 1000 ? `${rank / 1000 >= 1000 ? `${rank / 1e6}M` : `${rank / 1000}k`}` : String(rank);
}
