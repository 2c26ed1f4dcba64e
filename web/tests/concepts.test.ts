import { describe, expect, it } from "vitest";
import { barcodeColumns } from "../src/barcode";
import { conceptSlice } from "../src/concepts";
import { pairClasses, sorted } from "../src/evalTable";
import { idsInPolygon } from "../src/lasso";

describe("barcodeColumns", () => {
  it("puts each member at its rank's column on a linear axis", () => {
    expect(barcodeColumns([0, 50, 99], { left: 0, width: 100, n: 100, log: false })).toEqual([0, 50, 99]);
  });
  it("merges members closer than a pixel into one column", () => {
    const ranks = Array.from({ length: 1000 }, (_, i) => i);
    const cols = barcodeColumns(ranks, { left: 0, width: 100, n: 1000, log: false });
    expect(cols).toHaveLength(100);
    expect(cols[0]).toBe(0);
    expect(cols[99]).toBe(99);
  });
  it("follows a log axis: the head gets the width", () => {
    const cols = barcodeColumns([0, 9, 999_999], { left: 0, width: 600, n: 1_000_000, log: true });
    expect(cols[0]).toBe(Math.floor((Math.log1p(0.5) / Math.log1p(1e6)) * 600));
    expect(cols[1]).toBeGreaterThan(90);
    expect(cols[2]).toBe(599);
  });
});

describe("idsInPolygon", () => {
  // A 2 x 3 grid: ids 0..5 at [row, col], cells 10 px, no offset.
  const grid = new Int32Array([0, 0, 0, 1, 0, 2, 1, 0, 1, 1, 1, 2]);
  const t = { x: 0, y: 0, k: 10 };
  it("takes the cells whose centres are inside", () => {
    const square: [number, number][] = [[0, 0], [20, 0], [20, 20], [0, 20]];
    expect(idsInPolygon(square, grid, t)).toEqual([0, 1, 3, 4]);
  });
  it("handles a concave outline and a panned map", () => {
    const l: [number, number][] = [[100, 100], [130, 100], [130, 110], [110, 110], [110, 120], [100, 120]];
    expect(idsInPolygon(l, grid, { x: 100, y: 100, k: 10 })).toEqual([0, 1, 2, 3]);
  });
  it("takes nothing from a line", () => {
    expect(idsInPolygon([[0, 0], [30, 30]], grid, t)).toEqual([]);
  });
});

describe("the per-class table's order", () => {
  const rows = [
    { label: "b", n: 3, map: 0.5, precision_at_k: 0.2 },
    { label: "a", n: 5, map: 0.9, precision_at_k: 0.2 },
    { label: "c", n: 4, map: 0.1, precision_at_k: 0.7 },
  ];
  it("sorts by a figure, ties by label", () => {
    expect(sorted(rows, "map", true).map((r) => r.label)).toEqual(["a", "b", "c"]);
    expect(sorted(rows, "precision_at_k", false).map((r) => r.label)).toEqual(["a", "b", "c"]);
    expect(sorted(rows, "label", true).map((r) => r.label)).toEqual(["c", "b", "a"]);
  });
});

describe("the two-set per-class table", () => {
  const summary = (name: string, classes: { label: string; n: number; map: number; precision_at_k: number }[]) =>
    ({ feature_set: name, k: 5, queries: 12, skipped: 0, unlabelled: 0, map: 0, precision_at_k: 0, classes }) as unknown as Parameters<typeof pairClasses>[0];
  const a = summary("a", [
    { label: "cats", n: 4, map: 0.5, precision_at_k: 0.4 },
    { label: "dogs", n: 3, map: 0.9, precision_at_k: 0.8 },
    { label: "owls", n: 2, map: 0.3, precision_at_k: 0.1 },
  ]);
  const b = summary("b", [
    { label: "dogs", n: 3, map: 0.6, precision_at_k: 0.5 },
    { label: "cats", n: 4, map: 0.75, precision_at_k: 0.6 },
  ]);
  it("joins the classes by label, the difference being the second minus the first", () => {
    const rows = pairClasses(a, b);
    expect(rows.map((r) => [r.label, r.map_b, r.precision_at_k_b])).toEqual([["cats", 0.75, 0.6], ["dogs", 0.6, 0.5], ["owls", null, null]]);
    expect(rows[0].delta).toBeCloseTo(0.25);
    expect(rows[1].delta).toBeCloseTo(-0.3);
    expect(rows[2].delta).toBeNull();
  });
  it("sorts by the difference either way, a class the second set lacks last", () => {
    const rows = pairClasses(a, b);
    expect(sorted(rows, "delta", true).map((r) => r.label)).toEqual(["cats", "dogs", "owls"]);
    expect(sorted(rows, "delta", false).map((r) => r.label)).toEqual(["dogs", "cats", "owls"]);
    expect(sorted(rows, "map_b", false).map((r) => r.label)).toEqual(["dogs", "cats", "owls"]);
  });
});

describe("conceptSlice", () => {
  it("reads the active concept and k from the URL, with defaults", () => {
    expect(conceptSlice.parse(new Map([["c", "big%20cats"], ["ck", "25"]]))).toEqual({ name: "big cats", k: 25 });
    expect(conceptSlice.parse(new Map([["ck", "0"]]))).toEqual({ name: null, k: 10 });
    expect(conceptSlice.serialise({ name: "a&b", k: 5 })).toEqual([["c", "a%26b"], ["ck", "5"]]);
  });
});
