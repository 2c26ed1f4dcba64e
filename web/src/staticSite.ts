// The page as a static site (deepviz export): the same app, reading files the export wrote
// instead of the HTTP API. The export names its config in a <meta name="deepviz-site"> of
// index.html; without one the page is served by `deepviz serve` and nothing here runs. Every
// URL is relative, so the site works under any sub-path (GitHub Pages) and from a plain file
// server, which need not answer Range requests: files are cut to what a view reads instead.

import type { Api, Backend, GridCells, ImageInfo, ProjectInfo } from "./api";
import type { QueryRef } from "./queryList";
import type { RankingSource } from "./rankedQuery";
import type { Ranking } from "./ranking";
import { chunkedSource, type QuantisedFeatures, rankBy, similaritiesTo, spearmanOf, wholeSource } from "./staticRanking";
import { tileOf, tileUrl, splitTile } from "./staticTiles";

/** deepviz-site.json (deepviz/export/site.py's SiteConfig). */
export interface SiteConfig {
  deepviz_site: number;
  deepviz_version: string;
  mode: "browser" | "precomputed";
  feature_set: string;
  dim: number;
  limit_mb: number;
  features_mb: number;
  similarity_error_bound: number | null;
  queries: number[];
  spearman: Record<string, number>;
  tile: number;
  chunk: number;
  images_chunk: number;
  curve_width: number;
}

/** What a static site cannot do, shown where the upload and text buttons would be. */
export const STATIC_NOTE = "static site: uploads, text queries, figures and concepts need deepviz serve";

/** The note a static site shows: what it leaves out, and in precomputed mode which images are queries. */
export function staticNoteText(site: SiteConfig): string {
  if (site.mode === "browser") return STATIC_NOTE;
  const ids = site.queries.length > 8 ? `${site.queries.slice(0, 8).join(", ")} …` : site.queries.join(", ");
  return `${STATIC_NOTE}; rankings are precomputed for images ${ids} only`;
}

/** The config's URL if this page is a static site, else null. */
export function siteConfigUrl(doc: Document = document): string | null {
  return doc.querySelector('meta[name="deepviz-site"]')?.getAttribute("content") ?? null;
}

async function bytes(url: string): Promise<ArrayBuffer> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new Error(`cannot read ${url} from the site's server (${String(err)})`, { cause: err });
  }
  if (!res.ok) throw new Error(`${url}: ${res.status} ${res.statusText} (is the whole exported folder served?)`);
  return res.arrayBuffer();
}

async function json<T>(url: string): Promise<T> {
  return JSON.parse(new TextDecoder().decode(await bytes(url))) as T;
}

/** Rankings kept whole in browser mode (each 12 bytes per image). */
const KEEP_RANKINGS = 8;
/** Map tiles kept (each at most tile² thumbnails: ~0.3 MB at 32 px, 16 x 16). */
const KEEP_TILES = 96;

/** The backend of a static site whose config is at `url`. */
export async function staticBackend(url: string): Promise<Backend & { site: SiteConfig }> {
  const site = await json<SiteConfig>(url);
  const base = url.includes("/") ? url.slice(0, url.lastIndexOf("/") + 1) : "";
  const data = `${base}data`;
  return {
    site,
    getProject: () => json<ProjectInfo>(`${data}/project.json`),
    getGrid: async () => new Int32Array(await bytes(`${data}/grid.i32`)),
    getLabels: async () => new Int32Array(await bytes(`${data}/labels.i32`)),
    getColours: async () => new Uint8Array(await bytes(`${data}/colors.u8`)),
    // The export writes no grids fitted to other aspects (ProjectInfo.grid_aspects is empty).
    getFittedGrid: (): Promise<GridCells | null> => Promise.resolve(null),
    createApi: (project, grid) => staticApi(site, data, project, grid),
  };
}

function staticApi(site: SiteConfig, data: string, project: ProjectInfo, grid: Int32Array): Api {
  const sizes = [...project.thumbnail_sizes].sort((x, y) => x - y);
  const largest = sizes[sizes.length - 1];
  const images = cached<ImageInfo[]>(Infinity, (k) => json(`${data}/images/${k}.json`));
  const tiles = cached<ReturnType<typeof splitTile>>(KEEP_TILES, async (key) => splitTile(await bytes(`${data}/thumbs/${key}`)));
  const rankings = rankingsOf(site, data, project.n);
  const refuse = (what: string) => (): Promise<never> => Promise.reject(new Error(`${what}: ${STATIC_NOTE}`));
  return {
    image: async (id) => (await images(String(Math.floor(id / site.images_chunk))))[id % site.images_chunk],
    thumbSizes: sizes,
    // One file per image at the largest size only (deepviz/export/site.py): an image shown alone is that one, scaled.
    thumbUrl: (_displayPx, id) => `${data}/thumbs/${largest}/${id}.jpg`,
    thumbBatch: async (size, ids) => {
      if (size === largest) return Promise.all(ids.map(async (id) => new Uint8Array(await bytes(`${data}/thumbs/${largest}/${id}.jpg`))));
      const files = await Promise.all(ids.map((id) => tiles(tileUrl(size, tileOf(grid, id, site.tile)))));
      return ids.map((id, i) => files[i].get(id) ?? new Uint8Array(0));
    },
    // No tile pyramid in a site (main.ts gives its map none): its smaller thumbnails come packed by map cell instead.
    tileUrl: () => "",
    uploadThumbUrl: () => "",
    uploadInfo: refuse("uploaded queries"),
    rankingSource: (ref) => rankings.source(ref),
    spearman: (a, b) => rankings.spearman(a, b),
    upload: refuse("upload"),
    text: refuse("text query"),
  };
}

/** The rankings of a static site, by its mode. */
function rankingsOf(site: SiteConfig, data: string, n: number): { source(ref: QueryRef): RankingSource; spearman(a: QueryRef, b: QueryRef): Promise<number> } {
  if (site.mode === "precomputed") {
    const only = (ref: QueryRef): number => {
      if (ref.kind !== "image" || !site.queries.includes(ref.id)) {
        const which = ref.kind === "image" ? `image ${ref.id}` : "an uploaded image";
        throw new Error(`${which} has no ranking in this static site: it holds those of images ${site.queries.join(", ")} (deepviz export --queries); \`deepviz serve\` ranks any image`);
      }
      return ref.id;
    };
    const failing = (err: unknown): RankingSource => {
      const no = (): Promise<never> => Promise.reject(err instanceof Error ? err : new Error(String(err)));
      return { at: no, of: no, window: no, curve: no };
    };
    return {
      source: (ref) => {
        try {
          return chunkedSource(`${data}/rankings/${only(ref)}`, n, site.chunk, site.curve_width, bytes);
        } catch (err) {
          return failing(err);
        }
      },
      spearman: (a, b) => {
        const [x, y] = [only(a), only(b)].sort((p, q) => p - q);
        return Promise.resolve(x === y ? 1 : site.spearman[`${x},${y}`]);
      },
    };
  }
  const features = once(async (): Promise<QuantisedFeatures> => {
    const [q, scale] = await Promise.all([bytes(`${data}/features.i8`), bytes(`${data}/scale.f32`)]);
    return { q: new Int8Array(q), scale: new Float32Array(scale), d: site.dim };
  });
  const whole = cached<Ranking>(KEEP_RANKINGS, async (key) => rankBy(similaritiesTo(await features(), Number(key))));
  const of = (ref: QueryRef): Promise<Ranking> =>
    ref.kind === "image" ? whole(String(ref.id)) : Promise.reject(new Error(`uploaded queries: ${STATIC_NOTE}`));
  return {
    source: (ref) => wholeSource(() => of(ref)),
    spearman: async (a, b) => spearmanOf(await of(a), await of(b)),
  };
}

/** `make(key)` remembered for the `keep` most recently used keys (a failure is forgotten, so it may be asked again). */
function cached<T>(keep: number, make: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const held = new Map<string, Promise<T>>();
  return (key) => {
    let p = held.get(key);
    if (p) held.delete(key);
    else {
      p = make(key);
      p.catch(() => held.delete(key));
    }
    held.set(key, p);
    while (held.size > keep) held.delete(held.keys().next().value as string);
    return p;
  };
}

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | null = null;
  return () => (p ??= make());
}
