// The map coloured by where two feature sets disagree on the active query: one byte per image
// from the server (/api/compare/rank-difference: a signed log ratio of the image's two ranks),
// painted one pixel per grid cell on a diverging scale (ColorBrewer RdBu: red where the first set
// ranks the image nearer the top, blue where the second does, near-white where they agree) and
// drawn over the map as one scaled bitmap, so a million images cost one drawImage a frame.

import { interpolateRdBu } from "d3-scale-chromatic";
import { element } from "./dom";
import type { Viewport } from "./mapDraw";
import { hexWord } from "./overview";

/** Codes as the server sends them (deepviz/core/rank_difference.py). */
export const SAME = 127;
export const NO_VALUE = 255;
/** The query's own cell: it is in neither ranking. */
const QUERY_COLOUR = "#222222";
/** Over thumbnails the colours stay readable and the pictures stay guessable. */
const ALPHA = 0.85;

/** The colour of code `code` as "#rrggbb": 0 red (the first set ranks it far higher), 127 white-ish, 254 blue. */
export function rankDiffColour(code: number): string {
  if (code === NO_VALUE) return QUERY_COLOUR;
  const t = Math.max(0, Math.min(254, code)) / 254;
  return rgbToHex(interpolateRdBu(t));
}

/** The 256 colours of the codes as ImageData words. */
export function rankDiffPalette(): Uint32Array {
  const words = new Uint32Array(256);
  for (let c = 0; c < 256; c++) words[c] = hexWord(rankDiffColour(c));
  return words;
}

/** Write each image's colour into `px` (rows×cols words) at its cell of `grid` ((N, 2) [row, col] flattened). */
export function paintRankDifference(px: Uint32Array, grid: Int32Array, cols: number, codes: Uint8Array, palette: Uint32Array): void {
  const n = Math.min(grid.length / 2, codes.length);
  for (let id = 0; id < n; id++) {
    const cell = grid[2 * id] * cols + grid[2 * id + 1];
    if (cell >= 0 && cell < px.length) px[cell] = palette[codes[id]];
  }
}

function rgbToHex(css: string): string {
  const m = /^rgb\((\d+),\s*(\d+),\s*(\d+)\)$/.exec(css);
  if (!m) return css;
  return "#" + [m[1], m[2], m[3]].map((v) => Number(v).toString(16).padStart(2, "0")).join("");
}

export class RankDiffLayer {
  /** The legend over the map (hidden while the layer is off). */
  readonly legend: HTMLDivElement;
  private bitmap: HTMLCanvasElement | null = null;
  private codes: Uint8Array | null = null;
  private painted: { grid: Int32Array; codes: Uint8Array } | null = null;
  private readonly palette = rankDiffPalette();

  constructor(
    /** The grid the map shows now and its shape. */
    private readonly shape: () => { grid: Int32Array; rows: number; cols: number },
    private readonly redrawMap: () => void,
  ) {
    this.legend = element("div", "rank-diff-legend");
    this.legend.dataset.testid = "rank-diff-legend";
    this.legend.hidden = true;
  }

  /** Colour the map by `codes` (N bytes) for sets `a` and `b`, or stop (null). */
  show(codes: Uint8Array | null, a = "", b = "", query = ""): void {
    this.codes = codes;
    this.legend.hidden = codes === null;
    if (codes) this.drawLegend(a, b, query);
    this.redrawMap();
  }

  get on(): boolean {
    return this.codes !== null;
  }

  draw(ctx: CanvasRenderingContext2D, vp: Viewport): void {
    const codes = this.codes;
    if (!codes) return;
    const { grid, rows, cols } = this.shape();
    if (!this.bitmap || this.painted?.grid !== grid || this.painted.codes !== codes || this.bitmap.width !== cols || this.bitmap.height !== rows) {
      this.bitmap = this.paint(grid, rows, cols, codes);
      this.painted = { grid, codes };
    }
    const t = vp.transform;
    ctx.save();
    ctx.globalAlpha = ALPHA;
    ctx.imageSmoothingEnabled = t.k < 1;
    ctx.drawImage(this.bitmap, t.x, t.y, cols * t.k, rows * t.k);
    ctx.restore();
  }

  private paint(grid: Int32Array, rows: number, cols: number, codes: Uint8Array): HTMLCanvasElement {
    const c = document.createElement("canvas");
    c.width = cols;
    c.height = rows;
    const g = c.getContext("2d");
    if (!g) return c;
    const img = g.createImageData(cols, rows);
    paintRankDifference(new Uint32Array(img.data.buffer), grid, cols, codes, this.palette);
    g.putImageData(img, 0, 0);
    return c;
  }

  private drawLegend(a: string, b: string, query: string): void {
    const stops = [0, 0.25, 0.5, 0.75, 1].map((t) => `${rankDiffColour(Math.round(t * 254))} ${t * 100}%`).join(", ");
    const bar = element("div", "rank-diff-bar");
    bar.style.background = `linear-gradient(to right, ${stops})`;
    const ends = element("div", "rank-diff-ends");
    const left = element("span", "");
    left.textContent = `${a} ranks higher`;
    const mid = element("span", "");
    mid.textContent = "same";
    const right = element("span", "");
    right.textContent = `${b} ranks higher`;
    ends.append(left, mid, right);
    const title = element("div", "rank-diff-title");
    title.textContent = `rank difference for ${query}: ln((1 + rank in ${a}) / (1 + rank in ${b})), to ±ln(N − 1)`;
    this.legend.replaceChildren(title, bar, ends);
  }
}
