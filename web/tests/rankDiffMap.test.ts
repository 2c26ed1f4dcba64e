import { describe, expect, it } from "vitest";
import { hexWord } from "../src/overview";
import { NO_VALUE, paintRankDifference, rankDiffColour, rankDiffPalette, SAME } from "../src/rankDiffMap";

const channels = (hex: string): number[] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

describe("rankDiffColour", () => {
  it("is red where the first set ranks higher, blue where the second does, pale where they agree", () => {
    const [r0, , b0] = channels(rankDiffColour(0));
    const [r1, , b1] = channels(rankDiffColour(254));
    expect(r0).toBeGreaterThan(b0 + 50);
    expect(b1).toBeGreaterThan(r1 + 50);
    expect(Math.min(...channels(rankDiffColour(SAME)))).toBeGreaterThan(230);
  });
  it("darkens monotonically away from the middle on each side", () => {
    const light = (c: number): number => channels(rankDiffColour(c)).reduce((a, v) => a + v, 0);
    expect(light(0)).toBeLessThan(light(60));
    expect(light(60)).toBeLessThan(light(SAME));
    expect(light(254)).toBeLessThan(light(200));
  });
  it("gives the query its own dark colour", () => {
    expect(rankDiffColour(NO_VALUE)).toBe("#222222");
  });
});

describe("paintRankDifference", () => {
  it("puts each image's code colour at its cell and leaves empty cells alone", () => {
    // 2 rows x 2 cols; 3 images at (1,0) (0,1) (0,0); cell (1,1) empty.
    const grid = new Int32Array([1, 0, 0, 1, 0, 0]);
    const px = new Uint32Array(4);
    const palette = rankDiffPalette();
    paintRankDifference(px, grid, 2, new Uint8Array([0, SAME, NO_VALUE]), palette);
    expect(px[2]).toBe(hexWord(rankDiffColour(0)));
    expect(px[1]).toBe(hexWord(rankDiffColour(SAME)));
    expect(px[0]).toBe(hexWord("#222222"));
    expect(px[3]).toBe(0);
  });
});
