// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { QuerySettings, querySettingsSlice } from "../src/querySettings";
import { parseHash, Store } from "../src/store";

const change = (el: HTMLInputElement | HTMLSelectElement): boolean => el.dispatchEvent(new Event("change"));
const q = <T extends Element>(root: Element, testid: string): T => root.querySelector(`[data-testid="${testid}"]`) as T;

describe("query settings", () => {
  it("read l, s, y, k with defaults, and only stored strip sizes", () => {
    const slice = querySettingsSlice([32, 64, 128]);
    expect(slice.parse(parseHash(""))).toEqual({ linked: false, fitted: true, links: true, logRanks: false, stripSize: 64 });
    expect(slice.parse(parseHash("#l=1&s=128&y=1&k=0"))).toEqual({ linked: true, fitted: true, links: false, logRanks: false, stripSize: 128 });
    expect(slice.parse(parseHash("#s=33")).stripSize).toBe(64);
    expect(slice.parse(parseHash("#y=0")).fitted).toBe(false);
    // Log ranks by default above 10,000 images; either way on request.
    expect(querySettingsSlice([64], 20_000).parse(parseHash("")).logRanks).toBe(true);
    expect(querySettingsSlice([64], 20_000).parse(parseHash("#x=0")).logRanks).toBe(false);
    expect(slice.parse(parseHash("#x=1")).logRanks).toBe(true);
    // A project with one 48 px size: a shared link's 64 becomes 48.
    expect(querySettingsSlice([48]).parse(parseHash("#s=64")).stripSize).toBe(48);
    expect(querySettingsSlice([16, 32]).parse(parseHash("")).stripSize).toBe(32);
  });
  it("offer only the project's sizes and write what the user picks", () => {
    const store = new Store("#s=48");
    let linkedRows = 0;
    const settings = new QuerySettings(store, [24, 48], () => linkedRows++);
    settings.render();
    const strip = q<HTMLSelectElement>(settings.root, "strip-size");
    expect([...strip.options].map((o) => o.value)).toEqual(["24", "48"]);
    expect(strip.value).toBe("48");
    strip.value = "24";
    change(strip);
    expect(settings.cell.value.stripSize).toBe(24);
    const link = q<HTMLInputElement>(settings.root, "link-toggle");
    link.checked = true;
    change(link);
    expect(settings.cell.value.linked).toBe(true);
    expect(linkedRows).toBe(1);
    expect(store.hash).toBe("#l=1&s=24&y=1&k=1&x=0");
  });
});
