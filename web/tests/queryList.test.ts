import { describe, expect, it } from "vitest";
import { addQuery, brushQuery, moveQuery, type QueryList, queryListSlice, removeQuery } from "../src/queryList";
import { parseHash } from "../src/store";

const encode = (s: QueryList): string => "#" + queryListSlice.serialise(s).map(([k, v]) => `${k}=${v}`).join("&");
const decode = (hash: string): QueryList => queryListSlice.parse(parseHash(hash));

const three: QueryList = {
  queries: [
    { ref: { kind: "image", id: 12 }, slot: 0, window: { lo: 0, hi: 20 } },
    { ref: { kind: "upload", key: "u1" }, slot: 3, window: null },
    { ref: { kind: "image", id: 0 }, slot: 1, window: { lo: 400, hi: 480 } },
  ],
  active: 2,
};

describe("the query list in the URL", () => {
  it("round-trips queries, windows, slots and the active query", () => {
    expect(encode(three)).toBe("#q=i12:0:0-20,uu1:3:-,i0:1:400-480&a=2");
    expect(decode(encode(three))).toEqual(three);
    expect(decode(encode(three).slice(1))).toEqual(three);
  });
  it("reads an empty hash as no queries", () => {
    expect(decode("")).toEqual({ queries: [], active: -1 });
    expect(decode(encode({ queries: [], active: -1 }))).toEqual({ queries: [], active: -1 });
  });
  it("survives upload keys with separators", () => {
    const s: QueryList = { queries: [{ ref: { kind: "upload", key: "a:b,c&d=e" }, slot: 0, window: null }], active: 0 };
    expect(decode(encode(s)).queries[0].ref).toEqual({ kind: "upload", key: "a:b,c&d=e" });
  });
  it("ignores malformed parts and duplicate queries", () => {
    const s = decode("#q=i5:0:9-3,xx,i5:1:-,i7:0:1-2&a=99");
    expect(s.queries.map((q) => q.ref)).toEqual([
      { kind: "image", id: 5 },
      { kind: "image", id: 7 },
    ]);
    expect(s.queries[0].window).toBeNull();
    // Two queries claimed slot 0: the second is moved so colours stay distinct.
    expect(new Set(s.queries.map((q) => q.slot)).size).toBe(2);
    expect(s.active).toBe(1);
  });
});

describe("query list edits", () => {
  it("adds a query in the first free colour and makes it active", () => {
    const s = addQuery({ queries: three.queries.slice(0, 2), active: 0 }, { kind: "image", id: 9 }, { lo: 5, hi: 9 });
    expect(s.queries[2]).toEqual({ ref: { kind: "image", id: 9 }, slot: 1, window: { lo: 5, hi: 9 } });
    expect(s.active).toBe(2);
  });
  it("activates an image that is already a query instead of adding it twice", () => {
    const s = addQuery(three, { kind: "image", id: 12 }, null);
    expect(s.queries).toBe(three.queries);
    expect(s.active).toBe(0);
  });
  it("removes a query keeping the same active query", () => {
    const s = removeQuery(three, 0);
    expect(s.queries.map((q) => q.slot)).toEqual([3, 1]);
    expect(s.active).toBe(1);
    expect(removeQuery({ queries: three.queries.slice(0, 1), active: 0 }, 0)).toEqual({ queries: [], active: -1 });
    expect(removeQuery(three, 7)).toBe(three);
  });
  it("moves a query, the active one following it", () => {
    const s = moveQuery(three, 2, -1);
    expect(s.queries.map((q) => q.slot)).toEqual([0, 1, 3]);
    expect(s.active).toBe(1);
    expect(moveQuery(three, 0, -1)).toBe(three);
  });
  it("brushes one row, or every row when linked", () => {
    const w = { lo: 3, hi: 7 };
    expect(brushQuery(three, 1, w, false).queries.map((q) => q.window)).toEqual([{ lo: 0, hi: 20 }, w, { lo: 400, hi: 480 }]);
    const linked = brushQuery(three, 1, w, true);
    expect(linked.queries.map((q) => q.window)).toEqual([w, w, w]);
    expect(linked.active).toBe(1);
  });
});
