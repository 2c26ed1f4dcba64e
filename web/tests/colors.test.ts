import { describe, expect, it } from "vitest";
import { labelColour, nextSlot, OKABE_ITO, queryStyle } from "../src/colors";

describe("query colours", () => {
  it("starts with Okabe–Ito", () => {
    expect(queryStyle(0)).toEqual({ colour: OKABE_ITO[0].toLowerCase(), dash: [] });
    for (let i = 0; i < 8; i++) expect(queryStyle(i).dash).toEqual([]);
  });
  it("never repeats a style in the first 200 queries", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const st = queryStyle(i);
      expect(st.colour).toMatch(/^#[0-9a-f]{6}$/);
      seen.add(`${st.colour}|${st.dash.join(",")}`);
    }
    expect(seen.size).toBe(200);
  });
  it("gives queries 9..16 the same hues with a dash, so colour alone never has to carry >8 classes", () => {
    for (let i = 8; i < 16; i++) {
      expect(queryStyle(i).colour).toBe(queryStyle(i - 8).colour);
      expect(queryStyle(i).dash.length).toBeGreaterThan(0);
    }
  });
  it("reuses the smallest free slot", () => {
    expect(nextSlot([])).toBe(0);
    expect(nextSlot([0, 1, 3])).toBe(2);
  });
  it("colours labels, none for -1", () => {
    expect(labelColour(-1)).toBe("transparent");
    expect(labelColour(10)).toBe(labelColour(0)); // the same hue, told apart by its pattern (labelStyle)
  });
});
