// The list of queries as plain data: which images are queries, their colours and brushed
// windows, which one is active, its URL form (`q`, `a`) and the edits the query pane makes.
// Pure (no DOM), so it is unit-tested.

import { nextSlot } from "./colors";
import type { RankWindow } from "./geometry";
import { intParam, type Params, safeDecode, type Slice } from "./store";

/** A query is an image of the project (by id) or an uploaded file (by the server's key). */
export type QueryRef = { kind: "image"; id: number } | { kind: "upload"; key: string };

export interface Query {
  ref: QueryRef;
  /** Colour slot (see colors.queryStyle); kept stable while queries are reordered or deleted. */
  slot: number;
  /** Brushed rank window; null until the row knows how many images its strip shows. */
  window: RankWindow | null;
}

export interface QueryList {
  queries: Query[];
  /** Index of the query whose brushed window lights up the map (-1: none). */
  active: number;
}

export function refKey(ref: QueryRef): string {
  return ref.kind === "image" ? `i${ref.id}` : `u${ref.key}`;
}

function sameRef(a: QueryRef, b: QueryRef): boolean {
  return refKey(a) === refKey(b);
}

/**
 * `q=i12:0:0-20,uu1:1:-&a=1`: each query is REF:SLOT:WINDOW with REF `i<id>` or `u<upload key>`,
 * WINDOW `lo-hi` or `-` (not yet chosen); `a` is the active query's index.
 */
export const queryListSlice: Slice<QueryList> = {
  keys: ["q", "a"],
  parse: parseQueryList,
  serialise: (s) => {
    const q = s.queries.map((x) => {
      const w = x.window ? `${x.window.lo}-${x.window.hi}` : "-";
      return `${encodeURIComponent(refKey(x.ref))}:${x.slot}:${w}`;
    });
    return [
      ["q", q.join(",")],
      ["a", String(s.active)],
    ];
  },
};

function parseQueryList(params: Params): QueryList {
  const queries: Query[] = [];
  for (const entry of (params.get("q") ?? "").split(",")) {
    const query = entry ? parseQuery(entry) : null;
    if (query && !queries.some((x) => sameRef(x.ref, query.ref))) queries.push(query);
  }
  const slots = new Set<number>();
  for (const query of queries) {
    // Duplicate slots (a hand-edited link) would give two queries one colour: renumber them.
    while (slots.has(query.slot)) query.slot++;
    slots.add(query.slot);
  }
  const active = intParam(params.get("a"));
  return { queries, active: active !== null && active >= 0 && active < queries.length ? active : queries.length - 1 };
}

function parseQuery(entry: string): Query | null {
  const [refText, slotText, windowText] = entry.split(":");
  const ref = safeDecode(refText ?? "");
  let parsed: QueryRef | null = null;
  if (/^i\d+$/.test(ref)) parsed = { kind: "image", id: Number(ref.slice(1)) };
  else if (ref.length > 1 && ref[0] === "u") parsed = { kind: "upload", key: ref.slice(1) };
  if (!parsed) return null;
  const slot = intParam(slotText);
  let window: RankWindow | null = null;
  const m = /^(\d+)-(\d+)$/.exec(windowText ?? "");
  if (m && Number(m[2]) > Number(m[1])) window = { lo: Number(m[1]), hi: Number(m[2]) };
  return { ref: parsed, slot: slot !== null && slot >= 0 ? slot : 0, window };
}

/**
 * `ref` added as the active query, in the first free colour, with `window` (the linked window,
 * or null for its row's default). An image that is already a query becomes the active one
 * instead of a duplicate.
 */
export function addQuery(s: QueryList, ref: QueryRef, window: RankWindow | null): QueryList {
  const existing = s.queries.findIndex((q) => sameRef(q.ref, ref));
  if (existing >= 0) return { ...s, active: existing };
  const queries = [...s.queries, { ref, slot: nextSlot(s.queries.map((q) => q.slot)), window }];
  return { queries, active: queries.length - 1 };
}

/** Without query `i`; the active query stays the same query where it can. */
export function removeQuery(s: QueryList, i: number): QueryList {
  if (i < 0 || i >= s.queries.length) return s;
  const queries = s.queries.filter((_, j) => j !== i);
  const active = s.active > i || s.active >= queries.length ? s.active - 1 : s.active;
  return { queries, active: Math.min(active, queries.length - 1) };
}

/** Query `i` swapped with its neighbour `i + delta`; the active query stays the same query. */
export function moveQuery(s: QueryList, i: number, delta: -1 | 1): QueryList {
  const j = i + delta;
  if (i < 0 || j < 0 || j >= s.queries.length) return s;
  const queries = [...s.queries];
  [queries[i], queries[j]] = [queries[j], queries[i]];
  const active = s.active === i ? j : s.active === j ? i : s.active;
  return { queries, active };
}

/** Query `i`'s window set to `w` (every query's when linked), and query `i` made active. */
export function brushQuery(s: QueryList, i: number, w: RankWindow, linked: boolean): QueryList {
  if (i < 0 || i >= s.queries.length) return s;
  return { active: i, queries: s.queries.map((q, j) => (linked || j === i ? { ...q, window: w } : q)) };
}
