import { describe, expect, it } from "vitest";
import { yTickValues } from "../src/ticks";

describe("yTickValues", () => {
  it("labels both ends of a fitted domain", () => {
    const t = yTickValues([0.23, 1.01], 74);
    expect(t[0]).toBe(0.23);
    expect(t[t.length - 1]).toBe(1.01);
    expect(t.length).toBeGreaterThan(2);
  });
  it("keeps inner ticks away from the ends", () => {
    const t = yTickValues([-1, 1], 150, 14);
    expect(t).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(yTickValues([0.5, 0.51], 74, 40)).toEqual([0.5, 0.51]);
  });
  it("copes with an empty domain", () => {
    expect(yTickValues([0.3, 0.3], 74)).toEqual([0.3]);
  });
});
