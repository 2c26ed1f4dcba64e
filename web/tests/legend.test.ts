// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { LABEL_PATTERNS, LIT_ON_LABELS, labelStyle, labelSwatch } from "../src/colors";
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
  it("gives labels distinct styles: ten hues, then the hues with patterns, then shades; none the lit window's colour", () => {
    const styles = Array.from({ length: 630 }, (_, i) => labelStyle(i));
    expect(new Set(styles.map((st) => `${st.colour} ${st.dash.join(",")}`)).size).toBe(630);
    expect(new Set(styles.slice(0, 10).map((st) => st.colour)).size).toBe(10);
    expect(styles.slice(0, 10).every((st) => st.dash.length === 0)).toBe(true);
    // Labels 10..69 reuse the ten hues, each with its own pattern: no shade to tell apart.
    for (let i = 10; i < 70; i++) {
      expect(styles[i].colour).toBe(styles[i % 10].colour);
      expect(styles[i].dash).toEqual(LABEL_PATTERNS[Math.floor(i / 10)]);
    }
    expect(styles.map((st) => st.colour)).not.toContain(LIT_ON_LABELS);
  });
  it("shows each label's pattern in its swatch", () => {
    const legend = new Legend(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"], null);
    const swatches = [...legend.root.querySelectorAll<HTMLElement>(".legend-swatch")];
    expect(swatches).toHaveLength(12);
    expect(labelSwatch(labelStyle(0))).toBe(labelStyle(0).colour);
    expect(labelSwatch(labelStyle(11))).toMatch(/^repeating-linear-gradient\(to bottom, .* 0px 9px, #fff 9px 13.5px\)$/);
    expect(new Set(swatches.map((sw) => sw.closest("li")?.dataset.labelStyle)).size).toBe(12);
  });
});
