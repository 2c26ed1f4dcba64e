// The HTTP API: JSON metadata typed from the server's OpenAPI schema, and the binary arrays
// (grid, labels, rankings) decoded into typed arrays. Nothing else in the app calls fetch.

import type { paths } from "./api-types";
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
export class ApiError extends Error {
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
let revision = "";

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

export const api = {
  project: (): Promise<ProjectInfo> => json<ProjectInfo>(`${BASE}/project`),
  /** (N, 2) [row, col] per id, flattened. */
  grid: (): Promise<Int32Array> => int32s(`${BASE}/grid`),
  /** (N,) label code per id, -1 for none; index into ProjectInfo.labels. */
  labels: (): Promise<Int32Array> => int32s(`${BASE}/labels`),
  /** (N, 3) uint8 mean RGB per id, flattened. */
  colours: async (): Promise<Uint8Array> => new Uint8Array(await (await request(`${BASE}/colors`)).arrayBuffer()),
  image: (id: number): Promise<ImageInfo> => json<ImageInfo>(`${BASE}/images/${id}`),
  /** `revision` (from ProjectInfo) lets the browser cache thumbnails for good. */
  thumbUrl: (size: number, id: number): string => `${BASE}/thumbs/${size}/${id}${revision ? `?v=${revision}` : ""}`,
  /** The JPEG bytes of `ids` at `size` px, in that order, from one request (at most MAX_BATCH_IDS ids). */
  thumbBatch: async (size: number, ids: readonly number[], signal?: AbortSignal): Promise<Uint8Array<ArrayBuffer>[]> => {
    const url = `${BASE}/thumbs/${size}/batch?ids=${encodeIds(ids)}${revision ? `&v=${revision}` : ""}`;
    return splitBatch(await (await request(url, { signal })).arrayBuffer(), ids.length);
  },
  setRevision: (value: string): void => {
    revision = encodeURIComponent(value);
  },
  uploadThumbUrl: (key: string): string => `${BASE}/queries/${encodeURIComponent(key)}/thumb`,
  rank: async (id: number, features: string | null): Promise<Ranking> => {
    const q = features ? `?features=${encodeURIComponent(features)}` : "";
    return decodeRanking(await (await request(`${BASE}/rank/${id}${q}`)).arrayBuffer());
  },
  rankUpload: async (key: string, features: string | null): Promise<Ranking> => {
    const q = features ? `?features=${encodeURIComponent(features)}` : "";
    return decodeRanking(await (await request(`${BASE}/rank/upload/${encodeURIComponent(key)}${q}`)).arrayBuffer());
  },
  upload: (file: Blob, name: string, features: string | null): Promise<UploadAnswer> => {
    const form = new FormData();
    form.append("file", file, name);
    const q = features ? `?features=${encodeURIComponent(features)}` : "";
    return json<UploadAnswer>(`${BASE}/queries/upload${q}`, { method: "POST", body: form });
  },
};
