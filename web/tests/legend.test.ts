// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { labelColour, LIT_ON_LABELS } from "../src/colors";
import { labelCounts, Legend } from "../src/legend";

describe("legend", () => {
  it("counts images per label", () => {
    expect(labelCounts(Int32Array.from([0, 2, 2, -1, 1, 2, 7]), 3)).toEqual([1, 1, 3]);
  });
  it("lists every label with its count, however many", () => {
    const names = Array.from({ length: 73 }, (_, i) => `label ${i}`);
    const legend = new Legend(names, names.map((_, i) => i + 1));
    const items = legend.root.querySelectorAll('[data-testid="legend-item"]');
    expect(items.length).toBe(73);
    expect(items[72].textContent).toBe("label 7273");
    expect(legend.root.querySelector("summary")?.textContent).toBe("73 labels");
  });
  it("gives the first 90 labels distinct colours, none the lit window's", () => {
    const colours = Array.from({ length: 90 }, (_, i) => labelColour(i));
    expect(new Set(colours).size).toBe(90);
    expect(colours).not.toContain(LIT_ON_LABELS);
  });
});
