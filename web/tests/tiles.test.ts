import { describe, expect, it } from "vitest";
import { aroundTiles, chooseLevel, cellsPerTile, type TileGrid, tileRect, visibleTiles } from "../src/tiles";

const levels = [1, 2, 4, 8];
// 1000 x 1500 cells, 256 px tiles: level 8 cuts 32 cells a side, level 1 256.
const g: TileGrid = { rows: 1000, cols: 1500, levels, tilePx: 256 };

describe("chooseLevel", () => {
  it("takes the smallest level at least as sharp as the device pixels of a cell", () => {
    expect(chooseLevel(0.3, 1, levels)).toBe(1);
    expect(chooseLevel(1, 1, levels)).toBe(1);
    expect(chooseLevel(1.2, 1, levels)).toBe(1); // enlarged a little rather than four times the pixels
    expect(chooseLevel(1.5, 1, levels)).toBe(2);
    expect(chooseLevel(1.5, 2, levels)).toBe(4);
    expect(chooseLevel(4.5, 1, levels)).toBe(4);
    expect(chooseLevel(5.5, 1, levels)).toBe(8);
    expect(chooseLevel(11, 2, levels)).toBe(8); // past the sharpest level: the sharpest
  });
});

describe("visibleTiles", () => {
  it("covers the pane and no more, clamped to the grid", () => {
    // 2 px per cell at the origin, a 600 x 400 pane: 300 x 200 cells, level 2 has 128-cell tiles.
    const r = visibleTiles({ x: 0, y: 0, k: 2 }, 600, 400, g, 2);
    expect(cellsPerTile(2, 256)).toBe(128);
    expect(r).toEqual({ ty0: 0, ty1: 2, tx0: 0, tx1: 3 });
    // Panned to the grid's far corner: the last tiles only (1000 rows / 128 = 7.8 -> 8 tile rows).
    const far = visibleTiles({ x: -(1500 * 2 - 100), y: -(1000 * 2 - 100), k: 2 }, 600, 400, g, 2);
    expect(far).toEqual({ ty0: 7, ty1: 8, tx0: 11, tx1: 12 });
    // Off the grid: nothing.
    const none = visibleTiles({ x: 5000, y: 0, k: 2 }, 600, 400, g, 2);
    expect(none.tx1 - none.tx0).toBe(0);
  });
});

describe("aroundTiles", () => {
  it("adds the ring of tiles a pan reaches next, inside the grid", () => {
    expect(aroundTiles({ ty0: 2, ty1: 4, tx0: 3, tx1: 5 }, g, 2)).toEqual({ ty0: 1, ty1: 5, tx0: 2, tx1: 6 });
    expect(aroundTiles({ ty0: 0, ty1: 8, tx0: 0, tx1: 12 }, g, 2)).toEqual({ ty0: 0, ty1: 8, tx0: 0, tx1: 12 });
  });
});

describe("tileRect", () => {
  it("places neighbouring tiles edge to edge and cuts the last to the grid", () => {
    const t = { x: 10.3, y: -4.6, k: 0.7 };
    const a = tileRect(t, g, 1, 0, 0);
    const b = tileRect(t, g, 1, 0, 1);
    expect(b.x).toBe(a.x + a.w);
    const below = tileRect(t, g, 1, 1, 0);
    expect(below.y).toBe(a.y + a.h);
    // The last column of level 1 holds 1500 - 5 * 256 = 220 cells.
    const last = tileRect({ x: 0, y: 0, k: 1 }, g, 1, 0, 5);
    expect(last).toEqual({ x: 1280, y: 0, w: 220, h: 256 });
  });
});
