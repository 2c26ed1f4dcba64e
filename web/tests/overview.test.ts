import { describe, expect, it } from "vitest";
import { hexWord, labelRgb, paintCells, paintWindow, rgbaWord } from "../src/overview";

describe("rgbaWord / hexWord", () => {
  it("stores r, g, b, a as bytes in that order (little-endian ImageData)", () => {
    const bytes = new Uint8Array(new Uint32Array([rgbaWord(1, 2, 3, 4)]).buffer);
    expect([...bytes]).toEqual([1, 2, 3, 4]);
  });
  it("reads #rrggbb and #rgb, and makes anything else transparent", () => {
    expect(hexWord("#0072B2")).toBe(rgbaWord(0x00, 0x72, 0xb2));
    expect(hexWord("#fff", 128)).toBe(rgbaWord(255, 255, 255, 128));
    expect(hexWord("transparent")).toBe(0);
  });
});

describe("paintCells", () => {
  // 2 rows x 3 cols, 5 images at cells (1,1) (1,0) (0,2) (0,1) (0,0); cell (1,2) is empty.
  const grid = new Int32Array([1, 1, 1, 0, 0, 2, 0, 1, 0, 0]);
  it("puts each image's mean colour at its own cell and leaves empty cells alone", () => {
    const px = new Uint32Array(6);
    const colours = new Uint8Array(15);
    for (let id = 0; id < 5; id++) colours.set([id * 10, id * 10 + 1, id * 10 + 2], 3 * id);
    paintCells(px, grid, 3, colours, () => 7);
    expect(px[1 * 3 + 1]).toBe(rgbaWord(0, 1, 2));
    expect(px[1 * 3 + 0]).toBe(rgbaWord(10, 11, 12));
    expect(px[0]).toBe(rgbaWord(40, 41, 42));
    expect(px[5]).toBe(0);
  });
  it("uses the fallback when there are no colours (or too few)", () => {
    const px = new Uint32Array(6);
    paintCells(px, grid, 3, new Uint8Array(3), (id) => 100 + id);
    expect(px[4]).toBe(100);
    expect(px[2]).toBe(102);
  });
});

describe("paintWindow", () => {
  it("fades every cell and lights exactly the window's images", () => {
    const grid = new Int32Array([0, 0, 0, 1, 1, 0, 1, 1]);
    const ids = new Int32Array([3, 1, 0, 2]);
    const px = new Uint32Array(4).fill(9);
    paintWindow(px, grid, 2, ids, 1, 3, 5, 6);
    // ranks 1..2 are ids 1 and 0: cells 1 and 0.
    expect([...px]).toEqual([6, 6, 5, 5]);
  });
  it("clamps a window past the end", () => {
    const px = new Uint32Array(2);
    paintWindow(px, new Int32Array([0, 0, 0, 1]), 2, new Int32Array([1, 0]), 1, 10, 1, 2);
    expect([...px]).toEqual([2, 1]);
  });
});

describe("labelRgb", () => {
  it("gives each image its label's colour, and unlabelled images the neutral one", () => {
    const colour = (code: number): string => ["#ff0000", "#00ff80"][code];
    const rgb = labelRgb(new Int32Array([1, -1, 0, 1]), colour, [1, 2, 3]);
    expect([...rgb]).toEqual([0, 255, 128, 1, 2, 3, 255, 0, 0, 0, 255, 128]);
  });
});
