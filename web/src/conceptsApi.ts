// The concepts and metrics calls (/api/concepts, /api/eval), typed from the server's schema.
// Every figure comes from the server, computed from its exact rankings: the page never needs a
// whole ranking to show a concept's barcode or average precision.

import { apiBytes, apiJson } from "./api";
import type { paths } from "./api-types";

type Json<P extends keyof paths, M extends "get" | "put" | "patch" | "post"> =
  paths[P] extends Record<M, infer Op> ? (Op extends { responses: { 200: { content: { "application/json": infer T } } } } ? T : never) : never;

export type ConceptInfo = Json<"/api/concepts/{name}", "put">;
export type ConceptMetrics = Json<"/api/concepts/{name}/metrics", "get">;
export type EvalSummary = Json<"/api/eval", "get">;
export type ClassQueries = Json<"/api/eval/class", "get">;
export type Comparison = Json<"/api/compare", "get">;
export type DuplicateGroups = Json<"/api/duplicates", "get">;
export type ExpandedQuery = Json<"/api/queries/expand", "post">;

// Fails to compile if a path or method is renamed in the schema.
type IsReal<T> = [T] extends [never] ? false : true;
type Assert<T extends true> = T;
export type ConceptSchemaChecks = [
  Assert<IsReal<ConceptInfo>>,
  Assert<IsReal<ConceptMetrics>>,
  Assert<IsReal<EvalSummary>>,
  Assert<IsReal<ClassQueries>>,
  Assert<IsReal<ExpandedQuery>>,
];

const BASE = "api";
const path = (name: string): string => `${BASE}/concepts/${encodeURIComponent(name)}`;
const body = (method: string, data: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });

/** The query of a metrics call: an image of the project or an uploaded query. */
export type MetricsQuery = { image: number } | { upload: string };

export const conceptsApi = {
  list: (): Promise<ConceptInfo[]> => apiJson<ConceptInfo[]>(`${BASE}/concepts`),
  save: (name: string, ids: readonly number[], source: string): Promise<ConceptInfo> =>
    apiJson<ConceptInfo>(path(name), body("PUT", { ids: [...ids], source })),
  edit: (name: string, change: { add?: number[]; remove?: number[]; rename?: string }): Promise<ConceptInfo> =>
    apiJson<ConceptInfo>(path(name), body("PATCH", change)),
  remove: async (name: string): Promise<void> => {
    const res = await fetch(path(name), { method: "DELETE" });
    if (!res.ok && res.status !== 404) throw new Error(`could not delete concept ${name} (${res.status})`);
  },
  metrics: (name: string, query: MetricsQuery, featureSet: string | null, k: number): Promise<ConceptMetrics> => {
    const q = "image" in query ? `image=${query.image}` : `query=${encodeURIComponent(query.upload)}`;
    const f = featureSet ? `&features=${encodeURIComponent(featureSet)}` : "";
    return apiJson<ConceptMetrics>(`${path(name)}/metrics?${q}&k=${k}${f}`);
  },
  compare: (image: number, a: string, b: string, k: number): Promise<Comparison> =>
    apiJson<Comparison>(`${BASE}/compare?image=${image}&a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}&k=${k}`),
  /** One byte per image: how differently `a` and `b` rank it for query `image` (rankDiffMap.ts reads the codes). */
  rankDifference: (image: number, a: string, b: string): Promise<Uint8Array> =>
    apiBytes(`${BASE}/compare/rank-difference?image=${image}&a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`),
  /** Image `image`'s query averaged with its top `k`, held by the server as upload:KEY. */
  expand: (image: number, k: number, featureSet: string | null): Promise<ExpandedQuery> =>
    apiJson<ExpandedQuery>(`${BASE}/queries/expand?image=${image}&k=${k}${featureSet ? `&features=${encodeURIComponent(featureSet)}` : ""}`, { method: "POST" }),
  duplicates: (featureSet: string | null, threshold: number): Promise<DuplicateGroups> =>
    apiJson<DuplicateGroups>(`${BASE}/duplicates?threshold=${threshold}${featureSet ? `&features=${encodeURIComponent(featureSet)}` : ""}`),
  evaluate: (featureSet: string | null, k: number): Promise<EvalSummary> =>
    apiJson<EvalSummary>(`${BASE}/eval?k=${k}${featureSet ? `&features=${encodeURIComponent(featureSet)}` : ""}`),
  classQueries: (label: string, featureSet: string | null, k: number, count: number): Promise<ClassQueries> =>
    apiJson<ClassQueries>(
      `${BASE}/eval/class?label=${encodeURIComponent(label)}&k=${k}&count=${count}${featureSet ? `&features=${encodeURIComponent(featureSet)}` : ""}`,
    ),
};
