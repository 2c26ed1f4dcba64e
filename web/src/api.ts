// The HTTP API: JSON metadata typed from the server's OpenAPI schema, and the binary arrays
// (grid, labels, rankings) decoded into typed arrays. Nothing else in the app calls fetch.

import type { paths } from "./api-types";
import { thumbSizeFor } from "./geometry";
import type { QueryRef } from "./queryList";
import type { CurvePoints, RankingSource } from "./rankedQuery";
import { encodeIds, splitBatch } from "./thumbBatch";

type JsonOf<P extends keyof paths, M extends string> =
  paths[P] extends Record<M, infer Op>
    ? Op extends { responses: { 200: { content: { "application/json": infer T } } } }
      ? T
      : never
    : never;

export type ProjectInfo = JsonOf<"/api/project", "get">;
export type RankCorrelation = JsonOf<"/api/ranking/spearman", "get">;
export type ImageInfo = JsonOf<"/api/images/{image_id}", "get">;
export type UploadAnswer = JsonOf<"/api/queries/upload", "post">;
export type TextAnswer = JsonOf<"/api/queries/text", "post">;

// Fails to compile if a path or method is renamed in the schema (JsonOf would turn into never,
// which silently has every property).
type IsReal<T> = [T] extends [never] ? false : true;
export type SchemaChecks = [
  Assert<IsReal<ProjectInfo>>,
  Assert<IsReal<ImageInfo>>,
  Assert<IsReal<UploadAnswer>>,
  Assert<IsReal<RankCorrelation>>,
  Assert<IsReal<TextAnswer>>,
];
type Assert<T extends true> = T;

/** A failed request, carrying the server's `detail` message to show the user as is. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Relative URLs: the app works wherever the server mounts it. */
const BASE = "api";

async function request(url: string, init?: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    throw new ApiError(0, `cannot reach the deepviz server (${String(err)}); is \`deepviz serve\` still running?`);
  }
  if (!res.ok) throw new ApiError(res.status, await errorDetail(res));
  return res;
}

async function errorDetail(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const body: unknown = JSON.parse(text);
    if (body && typeof body === "object" && "detail" in body) {
      const detail = body.detail;
      // FastAPI validation errors put a list of {msg, loc} objects in detail.
      if (typeof detail === "string") return detail;
      if (Array.isArray(detail))
        return detail.map((d) => (d && typeof d === "object" && "msg" in d ? String((d as { msg: unknown }).msg) : String(d))).join("; ");
      return JSON.stringify(detail);
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return text || `${res.status} ${res.statusText}`;
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  return (await request(url, init)).json() as Promise<T>;
}

async function int32s(url: string): Promise<Int32Array> {
  const buf = await (await request(url)).arrayBuffer();
  return new Int32Array(buf.slice(0, buf.byteLength - (buf.byteLength % 4)));
}

/** What the page loads before it knows anything about the project. */
export const getProject = (): Promise<ProjectInfo> => json<ProjectInfo>(`${BASE}/project`);
/** (N, 2) [row, col] per id, flattened. */
export const getGrid = (): Promise<Int32Array> => int32s(`${BASE}/grid`);
/** A grid of the project's layout: (N, 2) [row, col] per id flattened, and its shape. */
export interface GridCells {
  grid: Int32Array;
  rows: number;
  cols: number;
}

/**
 * The layout on a grid of `aspect` (width / height, one of ProjectInfo.grid_aspects), or null
 * while the server is still computing it (answer 202: ask again later).
 */
export async function getFittedGrid(aspect: number): Promise<GridCells | null> {
  const res = await request(`${BASE}/grid?aspect=${aspect}`);
  if (res.status === 202) return null;
  const buf = await res.arrayBuffer();
  const grid = new Int32Array(buf.slice(0, buf.byteLength - (buf.byteLength % 4)));
  return { grid, rows: Number(res.headers.get("X-Grid-Rows")), cols: Number(res.headers.get("X-Grid-Cols")) };
}

/** (N,) label code per id, -1 for none; index into ProjectInfo.labels. */
export const getLabels = (): Promise<Int32Array> => int32s(`${BASE}/labels`);
/** (N, 3) uint8 mean RGB per id, flattened. */
export const getColours = async (): Promise<Uint8Array> => new Uint8Array(await (await request(`${BASE}/colors`)).arrayBuffer());

/** A map tile's PNG, or null while the grid it is cut from is still being fitted (answer 202). */
export async function getTile(url: string, signal: AbortSignal): Promise<Blob | null> {
  const res = await request(url, { signal });
  return res.status === 202 ? null : res.blob();
}

export type Api = ReturnType<typeof createApi>;

/**
 * The calls about one build of the project, from its ProjectInfo. `revision` goes into
 * thumbnail URLs, so the browser may cache them for good and a rebuild is fetched afresh;
 * thumbnails are asked for only at the sizes the project stores.
 */
export function createApi({ revision, thumbnail_sizes: sizes, tiles }: Pick<ProjectInfo, "revision" | "thumbnail_sizes"> & Partial<Pick<ProjectInfo, "tiles">>) {
  const v = revision ? `v=${encodeURIComponent(revision)}` : "";
  const tv = tiles ? `v=${encodeURIComponent(tiles.revision)}` : "";
  const features = (name: string | null): string => (name ? `?features=${encodeURIComponent(name)}` : "");
  return {
    image: (id: number): Promise<ImageInfo> => json<ImageInfo>(`${BASE}/images/${id}`),
    /** The stored thumbnail sizes in px, ascending. */
    thumbSizes: [...sizes].sort((x, y) => x - y) as readonly number[],
    /** Image `id`'s thumbnail for showing `displayPx` px wide: the nearest stored size at least that big, else the largest. */
    thumbUrl: (displayPx: number, id: number): string => `${BASE}/thumbs/${thumbSizeFor(displayPx, sizes)}/${id}${v ? `?${v}` : ""}`,
    /** The JPEG bytes of `ids` at `size` px, in that order, from one request (at most MAX_BATCH_IDS ids). */
    thumbBatch: async (size: number, ids: readonly number[], signal?: AbortSignal): Promise<Uint8Array<ArrayBuffer>[]> => {
      const url = `${BASE}/thumbs/${size}/batch?ids=${encodeIds(ids)}${v ? `&${v}` : ""}`;
      return splitBatch(await (await request(url, { signal })).arrayBuffer(), ids.length);
    },
    /** Tile (ty, tx) of level `px` of the grid shown: the stored one (aspect 0) or the one fitted to `aspect`. */
    tileUrl: (aspect: number, px: number, ty: number, tx: number): string =>
      `${BASE}/tiles/${px}/${ty}/${tx}?${tv}${aspect ? `&aspect=${aspect}` : ""}`,
    uploadThumbUrl: (key: string): string => `${BASE}/queries/${encodeURIComponent(key)}/thumb`,
    /** An uploaded query's name (the file's), size and feature set, as the server keeps them. */
    uploadInfo: (key: string): Promise<UploadAnswer> => json<UploadAnswer>(`${BASE}/queries/${encodeURIComponent(key)}/info`),
    /** The small answers about `ref`'s ranking the page asks for (never the whole ranking). */
    /** `hide`: a near-duplicates threshold; of each group found at it, all but the first are left out of the ranking. */
    rankingSource: (ref: QueryRef, featureSet: string | null, hide: number | null = null): RankingSource => rankingSource(ref, featureSet, hide),
    spearman: async (a: QueryRef, b: QueryRef, featureSet: string | null, hide: number | null = null): Promise<number> =>
      (await json<RankCorrelation>(`${BASE}/ranking/spearman?a=${queryParam(a)}&b=${queryParam(b)}${featuresAnd(featureSet)}${hide === null ? "" : `&hide_duplicates=${hide}`}`)).rho,
    upload: (file: Blob, name: string, featureSet: string | null): Promise<UploadAnswer> => {
      const form = new FormData();
      form.append("file", file, name);
      return json<UploadAnswer>(`${BASE}/queries/upload${features(featureSet)}`, { method: "POST", body: form });
    },
    /** Embeds `text` with the feature set's text tower; the answer is ranked like an upload. */
    text: (text: string, featureSet: string | null): Promise<TextAnswer> =>
      json<TextAnswer>(`${BASE}/queries/text${features(featureSet)}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text }),
      }),
  };
}

/**
 * Where the page's data comes from: the HTTP API of `deepviz serve` (httpBackend), or the files
 * of a static site (staticSite.ts). main.ts picks one; every component gets the Api it makes.
 */
export interface Backend {
  getProject: () => Promise<ProjectInfo>;
  getGrid: () => Promise<Int32Array>;
  getLabels: () => Promise<Int32Array>;
  getColours: () => Promise<Uint8Array>;
  getFittedGrid: (aspect: number) => Promise<GridCells | null>;
  /** The calls about one build; `grid` is the stored (N, 2) grid, which a static site's map tiles follow. */
  createApi: (project: ProjectInfo, grid: Int32Array) => Api;
}

export const httpBackend: Backend = { getProject, getGrid, getLabels, getColours, getFittedGrid, createApi: (project) => createApi(project) };

/** A query as the ranking endpoints name it: an image id, or upload:KEY. */
function queryParam(ref: QueryRef): string {
  return ref.kind === "image" ? String(ref.id) : encodeURIComponent(`upload:${ref.key}`);
}

function featuresAnd(name: string | null): string {
  return name ? `&features=${encodeURIComponent(name)}` : "";
}

/** Little-endian int32 then float32 halves of an answer with X-Count entries. */
async function pairs(url: string): Promise<{ ints: Int32Array; floats: Float32Array }> {
  const buf = await (await request(url)).arrayBuffer();
  const view = new DataView(buf);
  const k = buf.byteLength / 8;
  const ints = new Int32Array(k);
  const floats = new Float32Array(k);
  for (let i = 0; i < k; i++) {
    ints[i] = view.getInt32(4 * i, true);
    floats[i] = view.getFloat32(4 * (k + i), true);
  }
  return { ints, floats };
}

function rankingSource(ref: QueryRef, featureSet: string | null, hide: number | null): RankingSource {
  const hiding = hide === null ? "" : `&hide_duplicates=${hide}`;
  const q = `q=${queryParam(ref)}${featuresAnd(featureSet)}${hiding}`;
  const full = ref.kind === "image" ? `${BASE}/rank/${ref.id}` : `${BASE}/rank/upload/${encodeURIComponent(ref.key)}`;
  return {
    at: async (ranks) => {
      const { ints, floats } = await pairs(`${BASE}/ranking/at?${q}&ranks=${encodeIds(ranks)}`);
      return { ids: ints, sims: floats };
    },
    of: async (ids) => {
      const { ints, floats } = await pairs(`${BASE}/ranking/of?${q}&ids=${encodeIds(ids)}`);
      return { ranks: ints, sims: floats };
    },
    window: async (lo, hi) => {
      const { ints, floats } = await pairs(`${full}?start=${lo}&stop=${hi}${featuresAnd(featureSet)}${hiding}`);
      return { ids: ints, sims: floats };
    },
    curve: async (width, log): Promise<CurvePoints> => {
      const { ints, floats } = await pairs(`${BASE}/ranking/curve?${q}&width=${width}&log=${log}`);
      return { width, log, x: new Float32Array(ints.buffer), sims: floats };
    },
  };
}

/** The body of a binary answer as bytes (errors as for JSON). */
const bytes = async (url: string): Promise<Uint8Array> => new Uint8Array(await (await request(url)).arrayBuffer());

/** JSON from the API, with the server's message on failure: for the components that own their own calls (conceptsApi.ts). */
export { bytes as apiBytes, json as apiJson };
