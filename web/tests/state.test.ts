import { describe, expect, it } from "vitest";
import { queryStyle, nextSlot, OKABE_ITO, labelColour } from "../src/colors";
import { type AppState, decodeState, defaultState, encodeState } from "../src/state";

describe("URL state", () => {
  it("round-trips a full state", () => {
    const s: AppState = {
      queries: [
        { ref: { kind: "image", id: 12 }, slot: 0, window: { lo: 0, hi: 20 } },
        { ref: { kind: "upload", key: "u1" }, slot: 3, window: null },
        { ref: { kind: "image", id: 0 }, slot: 1, window: { lo: 400, hi: 480 } },
      ],
      active: 2,
      linked: true,
      mapSize: 64,
      stripSize: 128,
      split: 0.333,
      fitted: true,
      labelBorders: true,
      links: false,
      features: "timm:vit/b 16",
    };
    const hash = encodeState(s);
    expect(decodeState(hash)).toEqual(s);
    expect(decodeState(hash.slice(1))).toEqual(s);
  });
  it("round-trips the default state and decodes an empty hash to it", () => {
    expect(decodeState(encodeState(defaultState()))).toEqual(defaultState());
    expect(decodeState("")).toEqual(defaultState());
  });
  it("survives upload keys with separators", () => {
    const s = defaultState();
    s.queries = [{ ref: { kind: "upload", key: "a:b,c&d=e" }, slot: 0, window: null }];
    s.active = 0;
    expect(decodeState(encodeState(s)).queries[0].ref).toEqual({ kind: "upload", key: "a:b,c&d=e" });
  });
  it("ignores malformed parts and duplicate queries", () => {
    const s = decodeState("#q=i5:0:9-3,xx,i5:1:-,i7:0:1-2&a=99&s=33&m=17&p=nan");
    expect(s.queries.map((q) => q.ref)).toEqual([
      { kind: "image", id: 5 },
      { kind: "image", id: 7 },
    ]);
    expect(s.queries[0].window).toBeNull();
    // Two queries claimed slot 0: the second is moved so colours stay distinct.
    expect(new Set(s.queries.map((q) => q.slot)).size).toBe(2);
    expect(s.active).toBe(1);
    expect(s.stripSize).toBe(64);
    expect(s.mapSize).toBe("fit");
    expect(s.split).toBe(0.45);
  });
});

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
    expect(labelColour(0)).not.toBe(labelColour(10));
  });
});
