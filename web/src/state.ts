// The app's state as plain data, and its URL-hash form: what reload and a shared link restore.

import type { RankWindow } from "./geometry";

/** A query is an image of the project (by id) or an uploaded file (by the server's key). */
export type QueryRef = { kind: "image"; id: number } | { kind: "upload"; key: string };

export interface Query {
  ref: QueryRef;
  /** Colour slot (see colors.queryStyle); kept stable while queries are reordered or deleted. */
  slot: number;
  /** Brushed rank window; null until the row knows how many images its strip shows. */
  window: RankWindow | null;
}

/** Map cell size in CSS px, or "fit" to show the whole grid in the pane. */
export type MapSize = "fit" | 32 | 64 | 128;

export interface AppState {
  queries: Query[];
  /** Index of the query whose brushed window lights up the map (-1: none). */
  active: number;
  linked: boolean;
  mapSize: MapSize;
  stripSize: number;
  /** Map pane width as a fraction of the window. */
  split: number;
  /** Fit the y axis to the data instead of [-1, 1]. */
  fitted: boolean;
  labelBorders: boolean;
  /** Lines linking the same images in adjacent queries' rankings. */
  links: boolean;
  /** Feature set to rank with; null = the project's default. */
  features: string | null;
}

export const STRIP_SIZES = [32, 64, 128] as const;
export const MAP_SIZES: readonly MapSize[] = ["fit", 32, 64, 128];

export function defaultState(): AppState {
  return {
    queries: [],
    active: -1,
    linked: false,
    mapSize: "fit",
    stripSize: 64,
    split: 0.45,
    fitted: false,
    labelBorders: false,
    links: true,
    features: null,
  };
}

export function refKey(ref: QueryRef): string {
  return ref.kind === "image" ? `i${ref.id}` : `u${ref.key}`;
}

export function sameRef(a: QueryRef, b: QueryRef): boolean {
  return refKey(a) === refKey(b);
}

/**
 * `#q=i12:0:0-20,uu1:1:-&a=1&l=1&m=fit&s=64&p=0.45&y=0&b=0&k=1&f=colour`; each query is
 * REF:SLOT:WINDOW with REF `i<id>` or `u<upload key>`, WINDOW `lo-hi` or `-` (not yet chosen).
 */
export function encodeState(s: AppState): string {
  const q = s.queries
    .map((x) => {
      const w = x.window ? `${x.window.lo}-${x.window.hi}` : "-";
      return `${encodeURIComponent(refKey(x.ref))}:${x.slot}:${w}`;
    })
    .join(",");
  const parts = [
    `q=${q}`,
    `a=${s.active}`,
    `l=${s.linked ? 1 : 0}`,
    `m=${s.mapSize}`,
    `s=${s.stripSize}`,
    `p=${Math.round(s.split * 1000) / 1000}`,
    `y=${s.fitted ? 1 : 0}`,
    `b=${s.labelBorders ? 1 : 0}`,
    `k=${s.links ? 1 : 0}`,
  ];
  if (s.features !== null) parts.push(`f=${encodeURIComponent(s.features)}`);
  return "#" + parts.join("&");
}

/** The state a hash describes; anything missing or malformed falls back to the default. */
export function decodeState(hash: string): AppState {
  const s = defaultState();
  const params = new Map<string, string>();
  for (const part of hash.replace(/^#/, "").split("&")) {
    const eq = part.indexOf("=");
    if (eq > 0) params.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const q = params.get("q");
  if (q) {
    for (const entry of q.split(",")) {
      const query = decodeQuery(entry);
      if (query && !s.queries.some((x) => sameRef(x.ref, query.ref))) s.queries.push(query);
    }
  }
  const slots = new Set<number>();
  for (const query of s.queries) {
    // Duplicate slots (a hand-edited link) would give two queries one colour: renumber them.
    while (slots.has(query.slot)) query.slot++;
    slots.add(query.slot);
  }
  const active = intParam(params.get("a"));
  s.active = active !== null && active >= 0 && active < s.queries.length ? active : s.queries.length - 1;
  s.linked = params.get("l") === "1";
  const m = params.get("m");
  const mapSize = MAP_SIZES.find((x) => String(x) === m);
  if (mapSize !== undefined) s.mapSize = mapSize;
  const strip = intParam(params.get("s"));
  if (strip !== null && (STRIP_SIZES as readonly number[]).includes(strip)) s.stripSize = strip;
  const split = Number(params.get("p"));
  if (params.has("p") && Number.isFinite(split)) s.split = Math.min(0.85, Math.max(0.15, split));
  s.fitted = params.get("y") === "1";
  s.labelBorders = params.get("b") === "1";
  if (params.has("k")) s.links = params.get("k") === "1";
  const f = params.get("f");
  if (f) s.features = safeDecode(f);
  return s;
}

function decodeQuery(entry: string): Query | null {
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

function intParam(text: string | undefined): number | null {
  if (text === undefined || !/^-?\d+$/.test(text)) return null;
  return Number(text);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
