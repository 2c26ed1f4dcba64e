// Starts the app: loads the project, builds the components and wires them together. Each
// component owns its DOM and its part of the URL state; this file only connects them.
//
//   map pane     MapToolbar (m, b) with the SessionMenu, above MapView (with Marks' button in its corner) (the canvas), and the hover card (Preview)
//   splitter     Splitter (p)
//   query pane   QueryPane (q, a) with UploadButton, TextQueryBox, QuerySettings (l, s, y, k),
//                FeaturePicker (f) and ErrorBox in its toolbar

import "./style.css";
import { type Api, type Backend, getTile, httpBackend, type ProjectInfo } from "./api";
import { showBuilding } from "./building";
import { bridgeToParent } from "./embedBridge";
import { ConceptBar } from "./concepts";
import { ConceptRows } from "./conceptRows";
import { CompareRows } from "./compareRows";
import { showEmptyProject } from "./emptyProject";
import { ErrorBox } from "./errorBox";
import { EvalTable } from "./evalTable";
import { DuplicatesPanel } from "./duplicates";
import { FeaturePicker } from "./featurePicker";
import { GridFit } from "./gridFit";
import { Highlight } from "./highlight";
import { labelCounts } from "./legend";
import { labelColour } from "./colors";
import { labelRgb } from "./overview";
import { MapToolbar } from "./mapToolbar";
import { MapView } from "./mapView";
import { Marks } from "./marks";
import { Preview } from "./preview";
import { QueryPane } from "./queryPane";
import { refKey } from "./queryList";
import { imageName, uploadName } from "./queryName";
import { QueryExpansion } from "./queryExpansion";
import { QuerySettings } from "./querySettings";
import { RankDiffLayer } from "./rankDiffMap";
import { conceptsApi } from "./conceptsApi";
import { type SessionConcept, SessionMenu } from "./session";
import { siteConfigUrl, staticBackend, staticNoteText } from "./staticSite";
import { Rankings } from "./rankings";
import { firstSplit, Splitter } from "./splitter";
import { normaliseUrl, urlStore } from "./store";
import { TextQueryBox } from "./textQuery";
import { UploadButton } from "./upload";

/** An unlabelled image's colour on a preview's map (before the build has its mean colour). */
const PREVIEW_UNLABELLED = [0x8a, 0x8a, 0x84] as const;

/** First visit: the map gets the width that shows every cell at this size (the paper's). */
const FIRST_CELL_PX = 32;

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

async function start(app: HTMLElement, errors: ErrorBox): Promise<void> {
  // A static site (deepviz export) names its config in index.html and reads files, not the API.
  const siteUrl = siteConfigUrl();
  const site = siteUrl ? await staticBackend(siteUrl) : null;
  const backend: Backend = site ?? httpBackend;
  const serverless = site !== null;
  const project = await backend.getProject();
  // A build running: its progress, and a reload when it commits (a first build has no map yet).
  if (showBuilding(app, project, backend.getProject, () => location.reload())) return;
  // Handled now: a failure must not wait, unhandled, for the map to exist. A first build's preview
  // has no mean colours yet: its map shows each image's label colour instead.
  const colours = project.preview
    ? Promise.resolve(null)
    : backend.getColours().catch((err: unknown) => {
        errors.show(`The map's colours could not be loaded: ${message(err)}`);
        return null;
      });
  const [grid, labels] = await Promise.all([backend.getGrid(), backend.getLabels()]);
  if (showEmptyProject(app, project)) return;
  const api = backend.createApi(project, grid);
  document.title = `deepviz · ${project.name}`;
  const store = urlStore();
  const highlight = new Highlight();

  const toolbar = new MapToolbar(store, project, labelCounts(labels, project.labels.length));
  const mapData = { rows: project.grid.rows, cols: project.grid.cols, grid, labels, thumbnailSizes: api.thumbSizes };
  const pick = (id: number): void => {
    errors.hide();
    if (concepts.takesClicks) concepts.toggle(id);
    else pane.add({ kind: "image", id });
  };
  // A static site has no tile endpoint: its map draws thumbnails and mean colours.
  const tiles = !serverless && project.tiles ? { levels: project.tiles.levels, tilePx: project.tiles.tile_px, url: api.tileUrl, fetch: getTile } : null;
  const map = new MapView(mapData, highlight, pick, api.thumbBatch, tiles);
  const fit = new GridFit(map, project.grid_aspects, backend.getFittedGrid, (m) => errors.show(m));
  // The map starts neutral rather than wait for its colours (`colours` cannot reject).
  void colours.then((c) => c && map.setColours(c));
  if (project.preview) map.setColours(labelRgb(labels, labelColour, PREVIEW_UNLABELLED));
  const splitter = new Splitter(store, app, firstSplit(project.grid.cols, FIRST_CELL_PX, window.innerWidth));
  const features = new FeaturePicker(store, project.feature_sets, project.default_feature_set);
  const rankings = new Rankings(api, features.cell.value, project.n);
  const settings = new QuerySettings(store, api.thumbSizes, () => pane.alignWindows(), project.n);
  const pane = new QueryPane(store, settings.cell, rankings, highlight, api, project.n);
  const expansion = new QueryExpansion(api, project.n, () => render(), (m) => errors.show(m));
  const rankDiff = new RankDiffLayer(() => map.cells, () => map.redraw());
  // Under the concept outlines and the hidden duplicates (layers added later are drawn over it).
  map.addLayer((ctx, vp) => rankDiff.draw(ctx, vp));
  map.root.append(rankDiff.legend);
  const compareRows = new CompareRows(store, project.feature_sets, api, project.n, (m) => errors.show(m), () => render(), (codes, a, b, q) => rankDiff.show(codes, a, b, q));
  const { concepts, evalTable, duplicates, conceptRows } = conceptParts(store, project, api, serverless, labels, map, pane, features, rankings, errors, () => render(), () => compareRows.cell.value);
  pane.setNamer((ref) => (ref.kind === "image" ? api.image(ref.id).then(imageName) : api.uploadInfo(ref.key).then((u) => uploadName(u.name))));
  // A static site has no server to embed an upload: no button and no drop zone (staticNote says why).
  const upload = new UploadButton(serverless ? document.createElement("div") : pane.root, (file) => {
    errors.hide();
    api.upload(file, file.name, features.cell.value).then(
      (answer) => pane.add({ kind: "upload", key: answer.query }),
      (err: unknown) => errors.show(`Upload failed: ${message(err)}`),
    );
  });
  const text = new TextQueryBox(project.text_feature_sets, (words) => {
    errors.hide();
    return api.text(words, features.cell.value).then(
      (answer) => pane.add({ kind: "upload", key: answer.query }),
      (err: unknown) => {
        errors.show(`Text query failed: ${message(err)}`);
        throw err;
      },
    );
  });
  pane.addTools(...(site ? [staticNote(staticNoteText(site.site))] : [upload.root, text.root]), settings.root, features.root, compareRows.root);
  const figure = (format: "svg" | "png"): { url: string; note?: string } | { error: string } => {
    const queries = pane.cell.value.queries;
    const images = queries.flatMap((q) => (q.ref.kind === "image" ? [{ id: q.ref.id, w: q.window }] : []));
    if (!images.length) return { error: "A figure is drawn from queries of project images: click an image on the map first." };
    const p = new URLSearchParams({ format, log: String(settings.cell.value.logRanks), fitted: String(settings.cell.value.fitted) });
    if (features.cell.value) p.set("fs", features.cell.value);
    for (const q of images) {
      p.append("q", String(q.id));
      p.append("w", q.w ? `${q.w.lo}:${q.w.hi}` : "0:8");
    }
    const left = queries.length - images.length;
    return { url: `api/figure?${p.toString()}`, note: left ? `${left} uploaded quer${left > 1 ? "ies are" : "y is"} left out of the figure (deepviz figure draws project images).` : undefined };
  };
  const marks = new Marks(() => map.grid, () => map.redraw());
  map.addLayer((ctx, vp) => marks.draw(ctx, vp));
  map.root.append(marks.root);
  // A static site has neither figures nor concepts: the session keeps the view only.
  const conceptStore = { list: conceptsApi.list, put: (c: SessionConcept) => conceptsApi.save(c.name, c.ids, c.source), changed: () => void concepts.reload() };
  const share = serverless ? new SessionMenu(store, project, (t) => errors.show(t)) : new SessionMenu(store, project, (t) => errors.show(t), figure, conceptStore);
  toolbar.root.append(share.root);
  pane.addMessages(errors.root);
  const preview = new Preview(api, () => pane.cell.value.queries.map((q) => ({ slot: q.slot, ranking: rankings.ready(q.ref) })));
  highlight.subscribe((h) => preview.show(h));
  app.replaceChildren(mapPane(toolbar.root, concepts.root, evalTable.root, duplicates.root, map.root), splitter.root, pane.root);
  document.body.append(preview.root);

  const render = (): void => {
    rankings.setFeatures(features.cell.value);
    rankings.setHidden(duplicates.hiding);
    rankings.retain(pane.cell.value.queries.map((q) => q.ref));
    for (const c of [toolbar, splitter, settings, features, pane, concepts, evalTable, duplicates]) c.render();
    text.render(features.current);
    conceptRows.update(pane.rowsInOrder(), concepts.active?.name ?? null, concepts.version, features.cell.value, concepts.cell.value.k);
    const active = pane.cell.value.queries[pane.cell.value.active];
    compareRows.update(pane.rowsInOrder(), features.current, concepts.cell.value.k, active ? active.ref : null);
    expansion.update(pane.rowsInOrder(), features.current);
    const rule = duplicates.rule;
    for (const row of pane.rowsInOrder()) row.setRule(rule, rule === null ? "" : `near-duplicates ≥ ${rule}`);
    map.setLabelBorders(toolbar.cell.value.labelBorders);
    map.setSize(toolbar.cell.value.size);
    map.setWindow(litWindow(pane, rankings));
    document.body.dataset.queries = pane.cell.value.queries.map((q) => refKey(q.ref)).join(",");
  };
  store.subscribe(render);
  rankings.onChange(render);
  watchSizes(map, pane, render, () => {
    highlight.set(null);
    fit.resized();
  });
  // A small project's grid for this pane comes at once: the map never shows another one to click on.
  await fit.fit();
  normaliseUrl(store);
  bridgeToParent(store, highlight, marks);
  document.body.dataset.ready = "true";
}

/** The concept bar (over the map, with its lasso and member outlines), the rows' barcodes and the per-class table. */
function conceptParts(
  store: ReturnType<typeof urlStore>,
  project: ProjectInfo,
  api: Api,
  serverless: boolean,
  labels: Int32Array,
  map: MapView,
  pane: QueryPane,
  features: FeaturePicker,
  rankings: Rankings,
  errors: ErrorBox,
  render: () => void,
  compareWith: () => string | null,
): { concepts: ConceptBar; evalTable: EvalTable; duplicates: DuplicatesPanel; conceptRows: ConceptRows } {
  const activeRanks = async (lo: number, hi: number): Promise<Int32Array | null> => {
    const q = pane.cell.value.queries[pane.cell.value.active];
    return q ? (await api.rankingSource(q.ref, features.cell.value, rankings.hiding).window(lo, hi)).ids : null;
  };
  const duplicates = new DuplicatesPanel(api, () => features.cell.value, () => map.grid, () => map.redraw(), render);
  const evalTable = new EvalTable(
    () => ({ featureSet: features.cell.value, k: concepts.cell.value.k, other: compareWith() }),
    (picked) => {
      for (const q of [...picked.best, ...picked.worst]) pane.add({ kind: "image", id: q.id });
    },
    (m) => errors.show(m),
  );
  const concepts: ConceptBar = new ConceptBar(
    store,
    {
      grid: () => map.grid,
      labels,
      labelNames: project.labels,
      viewport: () => map.viewport,
      activeRanks,
      activeWindow: () => pane.activeWindow()?.window ?? null,
      redrawMap: () => map.redraw(),
      refresh: render,
      error: (m) => errors.show(m),
      serverless,
    },
    [evalTable.button, duplicates.button],
  );
  map.addLayer((ctx, vp) => duplicates.drawHidden(ctx, vp));
  map.addLayer((ctx, vp) => concepts.drawMembers(ctx, vp));
  map.root.append(concepts.lasso.root);
  return { concepts, evalTable, duplicates, conceptRows: new ConceptRows((m) => errors.show(m)) };
}

/** The active query's brushed window, to light up on the map. */
function litWindow(pane: QueryPane, rankings: Rankings): Parameters<MapView["setWindow"]>[0] {
  const active = pane.activeWindow();
  const q = pane.cell.value.queries[pane.cell.value.active];
  const ranking = q ? rankings.ready(q.ref) : null;
  // The window's ids come from the server (the page holds no whole ranking): the last one held
  // is shown while a newly brushed one is on its way.
  const lit = active && ranking ? ranking.window(active.window.lo, active.window.hi) : null;
  return active && lit ? { ranking: lit.ranking, window: { lo: lit.lo, hi: lit.hi }, slot: active.slot } : null;
}

/** Says, where the upload and text buttons would be, what a static site leaves out and why. */
function staticNote(text: string): HTMLElement {
  const note = document.createElement("span");
  note.className = "static-note";
  note.dataset.testid = "static-note";
  note.textContent = text;
  return note;
}

function mapPane(...children: HTMLElement[]): HTMLElement {
  const section = document.createElement("section");
  section.className = "pane map-pane";
  section.setAttribute("aria-label", "map of all images");
  section.append(...children);
  return section;
}

/**
 * The panes change size with the window and with the splitter: the map refits, the rows
 * relayout, and `changed` drops a hover card (now over the wrong place) and refits the grid.
 */
function watchSizes(map: MapView, pane: QueryPane, render: () => void, changed: () => void): void {
  const resized = new ResizeObserver(() => {
    changed();
    map.resize();
    render();
  });
  resized.observe(map.root);
  resized.observe(pane.body);
  map.resize();
  render();
}

const app = document.getElementById("app");
const errors = new ErrorBox();
if (app) {
  start(app, errors).catch((err: unknown) => {
    if (!errors.root.isConnected) app.before(errors.root);
    errors.show(`deepviz could not start: ${message(err)}`);
    document.body.dataset.ready = "error";
  });
}
