import { describe, expect, it } from "vitest";
import {
  buildIdByCell,
  cellAt,
  chooseThumbSize,
  clampWindow,
  defaultWindow,
  fitTransform,
  idAt,
  pixelsFromWindow,
  rankToX,
  stripCapacity,
  stripRanks,
  visibleCells,
  windowFromPixels,
  zoomAboutCentre,
} from "../src/geometry";

describe("fitTransform", () => {
  it("fits a 32x32 grid of 1k images at 32 px in a 1024 px square pane", () => {
    const t = fitTransform(1032, 1032, 32, 32, 4);
    expect(t.k).toBeCloseTo(32);
    expect(t.x).toBeCloseTo(4);
    expect(t.y).toBeCloseTo(4);
  });
  it("centres the limiting dimension", () => {
    const t = fitTransform(400, 200, 10, 10, 0);
    expect(t.k).toBe(20);
    expect(t.x).toBe(100);
    expect(t.y).toBe(0);
  });
});

describe("visibleCells", () => {
  it("covers the whole grid when fitted", () => {
    const t = fitTransform(300, 300, 7, 9, 0);
    expect(visibleCells(t, 300, 300, 7, 9)).toEqual({ r0: 0, r1: 7, c0: 0, c1: 9 });
  });
  it("returns only the cells in view when zoomed into a 1000x1000 grid", () => {
    const t = { x: -5000, y: -2000, k: 50 };
    const v = visibleCells(t, 500, 300, 1000, 1000);
    expect(v).toEqual({ r0: 40, r1: 46, c0: 100, c1: 110 });
    expect((v.r1 - v.r0) * (v.c1 - v.c0)).toBe(60);
  });
  it("is empty when the grid is off screen", () => {
    const v = visibleCells({ x: 1000, y: 0, k: 10 }, 500, 500, 5, 5);
    expect(v.c1 - v.c0).toBe(0);
  });
});

describe("hit-testing", () => {
  // 3 images on a 2x3 grid: id 0 at (0,2), id 1 at (1,0), id 2 at (0,0).
  const grid = new Int32Array([0, 2, 1, 0, 0, 0]);
  const idByCell = buildIdByCell(grid, 2, 3);
  const t = { x: 10, y: 20, k: 32 };
  it("builds the cell → id table with -1 for empty cells", () => {
    expect(Array.from(idByCell)).toEqual([2, -1, 0, 1, -1, -1]);
  });
  it("maps pixels to cells and ids", () => {
    expect(cellAt(10, 20, t, 2, 3)).toEqual({ row: 0, col: 0 });
    expect(idAt(10 + 2 * 32 + 31, 20 + 5, t, idByCell, 2, 3)).toBe(0);
    expect(idAt(10 + 5, 20 + 32 + 1, t, idByCell, 2, 3)).toBe(1);
    expect(idAt(10 + 32 + 5, 20 + 5, t, idByCell, 2, 3)).toBe(-1);
  });
  it("returns null/-1 outside the grid", () => {
    expect(cellAt(9, 20, t, 2, 3)).toBeNull();
    expect(idAt(10 + 3 * 32, 25, t, idByCell, 2, 3)).toBe(-1);
  });
  it("round-trips every id through its cell centre", () => {
    const rows = 17;
    const cols = 23;
    const n = 300;
    // Deterministic scatter: cell = (id * 7) mod rows*cols is a bijection since gcd(7, 391) = 1.
    const g = new Int32Array(2 * n);
    for (let id = 0; id < n; id++) {
      const cell = (id * 7) % (rows * cols);
      g[2 * id] = Math.floor(cell / cols);
      g[2 * id + 1] = cell % cols;
    }
    const table = buildIdByCell(g, rows, cols);
    const tt = { x: -13.5, y: 7.25, k: 9.5 };
    for (let id = 0; id < n; id++) {
      const px = tt.x + (g[2 * id + 1] + 0.5) * tt.k;
      const py = tt.y + (g[2 * id] + 0.5) * tt.k;
      expect(idAt(px, py, tt, table, rows, cols)).toBe(id);
    }
  });
});

describe("zoomAboutCentre", () => {
  it("keeps the world point at the pane centre", () => {
    const t = { x: 30, y: -40, k: 12 };
    const z = zoomAboutCentre(t, 64, 400, 300);
    expect(z.k).toBe(64);
    expect((200 - t.x) / t.k).toBeCloseTo((200 - z.x) / z.k);
    expect((150 - t.y) / t.k).toBeCloseTo((150 - z.y) / z.k);
  });
});

describe("chooseThumbSize", () => {
  const sizes = [128, 32, 64];
  it("picks the smallest size at least as sharp as the screen", () => {
    expect(chooseThumbSize(10, 1, sizes)).toBe(32);
    expect(chooseThumbSize(32, 1, sizes)).toBe(32);
    expect(chooseThumbSize(33, 1, sizes)).toBe(64);
    expect(chooseThumbSize(32, 2, sizes)).toBe(64);
  });
  it("falls back to the largest", () => {
    expect(chooseThumbSize(500, 1, sizes)).toBe(128);
  });
});

describe("rank windows", () => {
  it("clamps into [0, n) keeping the width", () => {
    expect(clampWindow({ lo: -5, hi: 5 }, 100)).toEqual({ lo: 0, hi: 10 });
    expect(clampWindow({ lo: 95, hi: 105 }, 100)).toEqual({ lo: 90, hi: 100 });
    expect(clampWindow({ lo: 20, hi: 10 }, 100)).toEqual({ lo: 10, hi: 20 });
    expect(clampWindow({ lo: 5, hi: 5 }, 100)).toEqual({ lo: 5, hi: 6 });
    expect(clampWindow({ lo: 0, hi: 500 }, 24)).toEqual({ lo: 0, hi: 24 });
  });
  it("defaults to the top ranks that fit the strip", () => {
    expect(defaultWindow(8, 24)).toEqual({ lo: 0, hi: 8 });
    expect(defaultWindow(40, 24)).toEqual({ lo: 0, hi: 24 });
  });
  it("lists every rank of a window that fits", () => {
    expect(stripRanks({ lo: 3, hi: 7 }, 10)).toEqual([3, 4, 5, 6]);
  });
  it("spreads a wide window evenly, first and last included", () => {
    const r = stripRanks({ lo: 100, hi: 1100 }, 5);
    expect(r).toEqual([100, 350, 600, 849, 1099]);
    expect(new Set(r).size).toBe(5);
  });
  it("counts strip capacity with gaps", () => {
    expect(stripCapacity(64 * 5 + 4 * 4, 64, 4)).toBe(5);
    expect(stripCapacity(64 * 5 + 4 * 4 - 1, 64, 4)).toBe(4);
    expect(stripCapacity(10, 64, 4)).toBe(0);
  });
  it("converts brush pixels to windows and back", () => {
    const n = 24;
    const w = 480; // 20 px per rank
    expect(windowFromPixels(0, 100, w, n)).toEqual({ lo: 0, hi: 5 });
    expect(windowFromPixels(30, 95, w, n)).toEqual({ lo: 2, hi: 5 });
    // A window of 8 ranks dragged by a fraction of a rank stays 8 ranks wide.
    for (let shift = 0; shift < 20; shift += 1.7) {
      const got = windowFromPixels(40 + shift, 200 + shift, w, n);
      expect(got.hi - got.lo).toBe(8);
    }
    const back = pixelsFromWindow({ lo: 1, hi: 5 }, w, n);
    expect(back).toEqual([20, 100]);
    expect(windowFromPixels(back[0], back[1], w, n)).toEqual({ lo: 1, hi: 5 });
    expect(rankToX(0, w, n)).toBe(10);
  });
  it("maps a 1M-rank axis without losing the ends", () => {
    const n = 1_000_000;
    expect(windowFromPixels(0, 800, 800, n)).toEqual({ lo: 0, hi: n });
    expect(windowFromPixels(400, 400.0008, 800, n).hi - windowFromPixels(400, 400.0008, 800, n).lo).toBe(1);
  });
});
