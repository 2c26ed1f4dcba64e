import { describe, expect, it } from "vitest";
import { curvePoints, logTicks, positionToX, xToPosition } from "../src/rankScale";

describe("rank scale", () => {
  it("is linear or log, and inverts", () => {
    expect(positionToX(50, 100, 100, false)).toBe(50);
    expect(positionToX(1_000_000, 400, 1_000_000, true)).toBeCloseTo(400);
    // At 1M ranks the first 1,000 take half the axis.
    expect(positionToX(1000, 400, 1_000_000, true)).toBeGreaterThan(195);
    for (const log of [false, true]) {
      for (const p of [0, 3, 999, 123456]) expect(xToPosition(positionToX(p, 400, 1_000_000, log), 400, 1_000_000, log)).toBeCloseTo(p, 3);
    }
    expect(xToPosition(-5, 400, 100, true)).toBe(0);
    expect(xToPosition(999, 400, 100, true)).toBeCloseTo(100);
  });
  it("ticks at powers of ten", () => {
    expect(logTicks(12_345)).toEqual([0, 1, 10, 100, 1000, 10000]);
  });
  it("draws every rank of the head and one segment per column of the tail", () => {
    const n = 100_000;
    const sims = Float32Array.from({ length: n }, (_, i) => 1 - i / n);
    const pts = curvePoints(sims, 300, true);
    expect(pts[0][1]).toBe(1);
    expect(pts[pts.length - 1][1]).toBeCloseTo(sims[n - 1]);
    expect(pts.length).toBeLessThan(2 * 300 + 50);
    for (let i = 1; i < pts.length; i++) expect(pts[i][0]).toBeGreaterThanOrEqual(pts[i - 1][0]);
    expect(curvePoints([0.9, 0.5, 0.1], 300, false)).toEqual([
      [50, 0.9],
      [150, 0.5],
      [250, 0.1],
    ]);
  });
});
