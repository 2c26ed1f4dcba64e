// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { firstSplit, Splitter, splitSlice } from "../src/splitter";
import { parseHash, Store } from "../src/store";

describe("splitter", () => {
  it("reads p within [0.15, 0.85], else the first-visit share", () => {
    const slice = splitSlice(0.5);
    expect(slice.parse(parseHash("#p=0.333"))).toBe(0.333);
    expect(slice.parse(parseHash("#p=2"))).toBe(0.5);
    expect(slice.parse(parseHash("#p=5"))).toBe(0.5);
    expect(slice.parse(parseHash("#p=0.85"))).toBe(0.85);
    expect(slice.parse(parseHash("#p=nan"))).toBe(0.5);
    expect(slice.parse(parseHash(""))).toBe(0.5);
    expect(slice.serialise(0.33333)).toEqual([["p", "0.333"]]);
  });
  it("gives a first visit the width of the grid at 32 px, within [0.35, 0.65]", () => {
    expect(firstSplit(30, 32, 2560)).toBeCloseTo(968 / 2560);
    expect(firstSplit(2, 32, 2560)).toBe(0.35);
    expect(firstSplit(200, 32, 2560)).toBe(0.65);
  });
  it("leaves the query pane room for a strip of 8 images where the window allows", () => {
    expect(firstSplit(200, 32, 1440)).toBeCloseTo(1 - 780 / 1440);
    expect(firstSplit(200, 32, 1920)).toBeCloseTo(1 - 780 / 1920);
    expect(firstSplit(200, 32, 900)).toBe(0.3);
  });
  it("lays the container out at its share", () => {
    const app = document.createElement("div");
    const splitter = new Splitter(new Store("#p=0.4"), app, 0.5);
    splitter.render();
    expect(app.style.gridTemplateColumns).toBe("40.00% 6px 1fr");
    expect(splitter.root.dataset.testid).toBe("pane-splitter");
  });
});
