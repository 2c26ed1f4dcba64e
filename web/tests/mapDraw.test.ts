import { describe, expect, it } from "vitest";
import { LIT_ON_LABELS, labelStyle, queryStyle } from "../src/colors";
import { buildIdByCell } from "../src/geometry";
import { cellCentre, drawCells, drawHovered, drawTiles, type MapScene, markWindow, outlineCells, type Viewport } from "../src/mapDraw";
import { inversePermutation } from "../src/ranking";

/** The calls a drawing makes, with the fill/stroke style in effect at each. */
class RecordingContext {
  calls: string[] = [];
  fillStyle = "";
  strokeStyle = "";
  lineWidth = 1;
  imageSmoothingEnabled = true;
  imageSmoothingQuality = "low";
  drawImage(_img: unknown, x: number, y: number, w: number, h: number): void {
    this.calls.push(`image ${x},${y},${w},${h}`);
  }
  fillRect(x: number, y: number, w: number, h: number): void {
    this.calls.push(`fill ${this.fillStyle} ${x},${y},${w},${h}`);
  }
  private dash: number[] = [];
  setLineDash(d: number[]): void {
    this.dash = d;
  }
  strokeRect(x: number, y: number, w: number, h: number): void {
    const dash = this.dash.length ? ` dash ${this.dash.join(",")}` : "";
    this.calls.push(`stroke ${this.strokeStyle} ${x},${y},${w},${h}${dash}`);
  }
  beginPath(): void {}
  rect(x: number, y: number, w: number, h: number): void {
    this.calls.push(`rect ${x},${y},${w},${h}`);
  }
  fill(): void {}
  stroke(): void {}
  asContext(): CanvasRenderingContext2D {
    return this as unknown as CanvasRenderingContext2D;
  }
}

// 3 images on a 2x2 grid: id 0 at (0,0), id 1 at (0,1), id 2 at (1,1); cell (1,0) is empty.
const grid = new Int32Array([0, 0, 0, 1, 1, 1]);
const scene = (patch: Partial<MapScene> = {}): MapScene => ({
  rows: 2,
  cols: 2,
  grid,
  labels: new Int32Array([0, 1, -1]),
  idByCell: buildIdByCell(grid, 2, 2),
  colours: new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255]),
  labelBorders: false,
  lit: null,
  hovered: -1,
  ...patch,
});
const vp: Viewport = { width: 100, height: 100, transform: { x: 10, y: 20, k: 10 } };
const all = { r0: 0, r1: 2, c0: 0, c1: 2 };
const ranking = (ids: number[]) => {
  const i = new Int32Array(ids);
  return { ids: i, sims: new Float32Array(ids.length), rankOf: inversePermutation(i) };
};

describe("drawCells", () => {
  it("draws each image's thumbnail in its cell, its mean colour while it has none", () => {
    const ctx = new RecordingContext();
    const asked: string[] = [];
    drawCells(ctx.asContext(), scene(), vp, all, (id, x, y, s) => {
      asked.push(`${id}@${x},${y},${s}`);
      return id === 1 ? ({} as CanvasImageSource) : null;
    });
    expect(asked).toEqual(["0@10,20,10", "1@20,20,10", "2@20,30,10"]);
    expect(ctx.calls).toEqual(["fill rgb(255,0,0) 10,20,10,10", "image 20,20,10,10", "fill rgb(0,0,255) 20,30,10,10"]);
  });
  it("outlines the lit window's images, fades the others, and draws label borders", () => {
    const ctx = new RecordingContext();
    const lit = { ranking: ranking([2, 0, 1]), window: { lo: 0, hi: 1 }, slot: 3 };
    drawCells(ctx.asContext(), scene({ lit, labelBorders: true }), vp, { r0: 1, r1: 2, c0: 0, c1: 2 }, () => null);
    // Only id 2 is in rows 1..2; it is rank 0, inside the window, and has no label.
    // With label borders on, the window is outlined near-black, outside the label palette.
    expect(ctx.calls).toEqual(["fill rgb(0,0,255) 20,30,10,10", `stroke ${LIT_ON_LABELS} 20.75,30.75,8.5,8.5`]);
    const plain = new RecordingContext();
    drawCells(plain.asContext(), scene({ lit }), vp, { r0: 1, r1: 2, c0: 0, c1: 2 }, () => null);
    expect(plain.calls[1]).toBe(`stroke ${queryStyle(3).colour} 20.75,30.75,8.5,8.5`);
    const faded = new RecordingContext();
    drawCells(faded.asContext(), scene({ lit, labelBorders: true }), vp, { r0: 0, r1: 1, c0: 0, c1: 1 }, () => null);
    expect(faded.calls[1]).toBe("fill rgba(244,244,242,0.6) 10,20,10,10");
    expect(faded.calls[2]).toMatch(/^stroke #[0-9a-f]{6} 10.5,20.5,9,9$/);
  });
});

describe("label borders", () => {
  it("draws the first ten labels solid, later ones dashed over white in their hue", () => {
    const labelled = (code: number): string[] => {
      const ctx = new RecordingContext();
      drawCells(ctx.asContext(), scene({ labelBorders: true, labels: new Int32Array([code, -1, -1]) }), vp, { r0: 0, r1: 1, c0: 0, c1: 1 }, () => null);
      return ctx.calls.slice(1);
    };
    expect(labelled(2)).toEqual([`stroke ${labelStyle(2).colour} 10.5,20.5,9,9`]);
    const dashed = labelled(12);
    expect(labelStyle(12).colour).toBe(labelStyle(2).colour); // the same hue ...
    expect(dashed).toEqual(["stroke #fff 10.5,20.5,9,9", `stroke ${labelStyle(2).colour} 10.5,20.5,9,9 dash 3,1.5`]); // ... dashed
    expect(labelled(22)[1]).toMatch(/ dash 1,1$/);
  });
});

describe("window markers and the hovered cell", () => {
  it("marks the window's images that are on screen, at least MARK_PX wide", () => {
    const ctx = new RecordingContext();
    const lit = { ranking: ranking([1, 2, 0]), window: { lo: 0, hi: 2 }, slot: 0 };
    const small: Viewport = { width: 12, height: 100, transform: { x: 0, y: 0, k: 2 } };
    markWindow(ctx.asContext(), scene({ lit }), small);
    expect(ctx.calls).toEqual(["rect 0.5,-1.5,5,5", "rect 0.5,0.5,5,5"]);
  });
  it("outlines the hovered image only", () => {
    const none = new RecordingContext();
    drawHovered(none.asContext(), scene(), vp);
    expect(none.calls).toEqual([]);
    const ctx = new RecordingContext();
    drawHovered(ctx.asContext(), scene({ hovered: 2 }), vp);
    expect(ctx.calls).toEqual(["stroke #111 18.5,28.5,13,13", "stroke #fff 16.25,26.25,17.5,17.5"]);
    expect(cellCentre(scene(), vp.transform, 2)).toEqual({ x: 25, y: 35 });
    expect(cellCentre(scene(), vp.transform, 3)).toBeNull();
  });
});

describe("outlineCells", () => {
  it("outlines each id's cell in one stroke, inset when asked, skipping cells off the pane", () => {
    const ctx = new RecordingContext();
    outlineCells(ctx.asContext(), vp, grid, [2, 0], "#0ff");
    expect(ctx.calls).toEqual(["rect 20.5,30.5,9,9", "rect 10.5,20.5,9,9"]);
    expect(ctx.strokeStyle).toBe("#0ff");
    const inset = new RecordingContext();
    outlineCells(inset.asContext(), vp, grid, [2], "#0ff", 1);
    expect(inset.calls).toEqual(["rect 21.5,31.5,7,7"]);
    const away = new RecordingContext();
    outlineCells(away.asContext(), { ...vp, transform: { x: -500, y: 20, k: 10 } }, grid, [0, 1, 2], "#0ff");
    expect(away.calls).toEqual([]);
  });

  it("keeps a cell of a zoomed-out map at least MARK_PX wide", () => {
    const ctx = new RecordingContext();
    outlineCells(ctx.asContext(), { ...vp, transform: { x: 0, y: 0, k: 1 } }, grid, [2], "#0ff");
    expect(ctx.calls).toEqual(["rect -0.5,-0.5,4,4"]);
  });
});

describe("drawTiles", () => {
  it("draws the tiles that have a picture on their squares, and skips the rest", () => {
    const ctx = new RecordingContext();
    const g = { rows: 300, cols: 520, levels: [1, 2, 4, 8], tilePx: 256 };
    const vp: Viewport = { width: 800, height: 600, transform: { x: 0, y: 0, k: 0.5 } };
    // Level 1 at half a pixel per cell: tiles of 256 cells are 128 px; the last column holds 8 cells.
    drawTiles(ctx.asContext(), vp, g, 1, { ty0: 0, ty1: 2, tx0: 0, tx1: 3 }, (ty, tx) => (ty === 1 && tx === 1 ? null : ({} as ImageBitmap)));
    expect(ctx.calls).toEqual([
      "image 0,0,128,128",
      "image 128,0,128,128",
      "image 256,0,4,128",
      "image 0,128,128,22",
      "image 256,128,4,22",
    ]);
  });
});
