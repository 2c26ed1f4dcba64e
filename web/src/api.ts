// The HTTP API: JSON metadata typed from the server's OpenAPI schema, and the binary arrays
// (grid, labels, rankings) decoded into typed arrays. Nothing else in the app calls fetch.

import type { paths } from "./api-types";
import { thumbSizeFor } from "./geometry";
import { decodeRanking, type Ranking } from "./ranking";
import { encodeIds, splitBatch } from "./thumbBatch";

type JsonOf<P extends keyof paths, M extends string> =
  paths[P] extends Record<M, infer Op>
    ? Op extends { responses: { 200: { content: { "application/json": infer T } } } }
      ? T
      : never
    : never;

export type ProjectInfo = JsonOf<"/api/project", "get">;
export type ImageInfo = JsonOf<"/api/images/{image_id}", "get">;
export type UploadAnswer = JsonOf<"/api/queries/upload", "post">;

// Fails to compile if a path or method is renamed in the schema (JsonOf would turn into never,
// which silently has every property).
type IsReal<T> = [T] extends [never] ? false : true;
export type SchemaChecks = [
  Assert<IsReal<ProjectInfo>>,
  Assert<IsReal<ImageInfo>>,
  Assert<IsReal<UploadAnswer>>,
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
/** (N,) label code per id, -1 for none; index into ProjectInfo.labels. */
export const getLabels = (): Promise<Int32Array> => int32s(`${BASE}/labels`);
/** (N, 3) uint8 mean RGB per id, flattened. */
export const getColours = async (): Promise<Uint8Array> => new Uint8Array(await (await request(`${BASE}/colors`)).arrayBuffer());

export type Api = ReturnType<typeof createApi>;

/**
 * The calls about one build of the project, from its ProjectInfo. `revision` goes into
 * thumbnail URLs, so the browser may cache them for good and a rebuild is fetched afresh;
 * thumbnails are asked for only at the sizes the project stores.
 */
export function createApi({ revision, thumbnail_sizes: sizes }: Pick<ProjectInfo, "revision" | "thumbnail_sizes">) {
  const v = revision ? `v=${encodeURIComponent(revision)}` : "";
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
    uploadThumbUrl: (key: string): string => `${BASE}/queries/${encodeURIComponent(key)}/thumb`,
    rank: async (id: number, featureSet: string | null): Promise<Ranking> =>
      decodeRanking(await (await request(`${BASE}/rank/${id}${features(featureSet)}`)).arrayBuffer()),
    rankUpload: async (key: string, featureSet: string | null): Promise<Ranking> =>
      decodeRanking(await (await request(`${BASE}/rank/upload/${encodeURIComponent(key)}${features(featureSet)}`)).arrayBuffer()),
    upload: (file: Blob, name: string, featureSet: string | null): Promise<UploadAnswer> => {
      const form = new FormData();
      form.append("file", file, name);
      return json<UploadAnswer>(`${BASE}/queries/upload${features(featureSet)}`, { method: "POST", body: form });
    },
  };
}

/** JSON from the API, with the server's message on failure: for the components that own their own calls (conceptsApi.ts). */
export { json as apiJson };
