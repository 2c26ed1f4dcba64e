// Starts the app: loads the project, builds the two panes and wires state, URL and hover.

import "./style.css";
import { api, ApiError } from "./api";
import { labelColour, nextSlot } from "./colors";
import { Highlight } from "./highlight";
import { type MapWindow, MapView } from "./mapView";
import { Preview } from "./preview";
import { QueryPane } from "./queryPane";
import { Rankings } from "./rankings";
import { splitter } from "./splitter";
import { type AppState, MAP_SIZES, type QueryRef, refKey, sameRef } from "./state";
import { urlStore } from "./store";
import { uploadControls } from "./upload";

function el<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`index.html lacks #${id}`);
  return found as T;
}

async function start(): Promise<void> {
  // The colours only paint the overview: the map starts without them (neutral) rather than wait.
  const colours = api.colours();
  const [project, grid, labels] = await Promise.all([api.project(), api.grid(), api.labels()]);
  api.setRevision(project.revision);
  document.title = `deepviz · ${project.name}`;
  el("project-name").textContent = project.name;
  el("project-count").textContent = `${project.n.toLocaleString()} images`;

  const hadSplit = /(^#|&)p=/.test(location.hash);
  const store = urlStore();
  if (!hadSplit) {
    // First visit: give the map the width that shows every cell at 32 px (the paper's size),
    // within reason, so ~1k images are all visible without zooming.
    const want = (project.grid.cols * 32 + 8) / window.innerWidth;
    store.update({ split: Math.min(0.65, Math.max(0.35, want)) });
  }
  if (store.state.features !== null && !project.feature_sets.includes(store.state.features)) store.update({ features: null });
  const features = (s: AppState): string | null => s.features ?? null;
  const rankings = new Rankings(features(store.state));
  const highlight = new Highlight();
  const errorBox = el<HTMLDivElement>("error");
  const showError = (message: string): void => {
    errorBox.textContent = message;
    errorBox.hidden = false;
  };
  errorBox.addEventListener("click", () => (errorBox.hidden = true));

  const addQuery = (ref: QueryRef): void => {
    errorBox.hidden = true;
    store.update((s) => {
      const existing = s.queries.findIndex((q) => sameRef(q.ref, ref));
      // Clicking an image that is already a query makes it the active one instead of a duplicate.
      if (existing >= 0) return { active: existing };
      const linkedWindow = s.linked ? (s.queries[s.active]?.window ?? null) : null;
      const queries = [...s.queries, { ref, slot: nextSlot(s.queries.map((q) => q.slot)), window: linkedWindow }];
      return { queries, active: queries.length - 1 };
    });
  };
  const addImage = (id: number): void => addQuery({ kind: "image", id });

  const mapHolder = el<HTMLDivElement>("map-holder");
  const map = new MapView(
    mapHolder,
    { rows: project.grid.rows, cols: project.grid.cols, grid, labels, thumbnailSizes: project.thumbnail_sizes },
    highlight,
    addImage,
  );
  colours.then(
    (c) => map.setColours(c),
    () => undefined, // an old server without /api/colors: the overview stays neutral
  );
  const pane = new QueryPane(el("query-scroll"), store, rankings, highlight, project.n, addImage);
  const preview = new Preview(() =>
    store.state.queries.map((q) => ({ slot: q.slot, ranking: rankings.ready(q.ref) })),
  );
  highlight.subscribe((h) => preview.show(h));

  // Label legend, shown while label borders are on.
  const legend = el<HTMLSpanElement>("label-legend");
  legend.replaceChildren(
    ...project.labels.slice(0, 20).map((name, code) => {
      const item = document.createElement("span");
      item.className = "legend-item";
      item.style.borderColor = labelColour(code);
      item.textContent = name;
      return item;
    }),
  );

  // Toolbar controls ⇄ state.
  const mapSize = el<HTMLSelectElement>("map-size");
  const labelToggle = el<HTMLInputElement>("label-toggle");
  const linkToggle = el<HTMLInputElement>("link-toggle");
  const fitToggle = el<HTMLInputElement>("fit-toggle");
  const linksToggle = el<HTMLInputElement>("links-toggle");
  const stripSize = el<HTMLSelectElement>("strip-size");
  const featureSelect = el<HTMLSelectElement>("features");
  if (project.feature_sets.length > 1) {
    el("features-label").hidden = false;
    featureSelect.replaceChildren(...project.feature_sets.map((f) => new Option(f, f)));
  }
  mapSize.addEventListener("change", () => {
    const v = MAP_SIZES.find((m) => String(m) === mapSize.value);
    if (v !== undefined) store.update({ mapSize: v });
  });
  labelToggle.addEventListener("change", () => store.update({ labelBorders: labelToggle.checked }));
  linkToggle.addEventListener("change", () =>
    store.update((s) => {
      if (!linkToggle.checked) return { linked: false };
      // Linking gives every row the active row's window (what the user was just looking at).
      const w = pane.activeWindow()?.window ?? null;
      return { linked: true, queries: w ? s.queries.map((q) => ({ ...q, window: w })) : s.queries };
    }),
  );
  fitToggle.addEventListener("change", () => store.update({ fitted: fitToggle.checked }));
  linksToggle.addEventListener("change", () => store.update({ links: linksToggle.checked }));
  stripSize.addEventListener("change", () => store.update({ stripSize: Number(stripSize.value) }));
  featureSelect.addEventListener("change", () =>
    store.update({ features: featureSelect.value === project.default_feature_set ? null : featureSelect.value }),
  );
  el("clear-queries").addEventListener("click", () => store.update({ queries: [], active: -1 }));

  uploadControls(el<HTMLInputElement>("upload-input"), el("query-pane"), (file) => {
    api.upload(file, file.name, features(store.state)).then(
      (answer) => addQuery({ kind: "upload", key: answer.query }),
      (err: unknown) => showError(err instanceof ApiError ? `Upload failed: ${err.message}` : `Upload failed: ${String(err)}`),
    );
  });

  // Resizable panes: the map refits (or keeps its centre at a fixed cell size).
  const app = el<HTMLDivElement>("app");
  const applySplit = (fraction: number): void => {
    app.style.gridTemplateColumns = `${(fraction * 100).toFixed(2)}% 6px 1fr`;
  };
  splitter(el("splitter"), app, (fraction, final) => {
    applySplit(fraction);
    if (final) store.update({ split: fraction });
  });

  let lastMapSize = store.state.mapSize;
  let lastWindow: MapWindow | null = null;
  const render = (): void => {
    const s = store.state;
    rankings.setFeatures(features(s));
    rankings.retain(s.queries.map((q) => q.ref));
    mapSize.value = String(s.mapSize);
    labelToggle.checked = s.labelBorders;
    linkToggle.checked = s.linked;
    fitToggle.checked = s.fitted;
    linksToggle.checked = s.links;
    stripSize.value = String(s.stripSize);
    featureSelect.value = s.features ?? project.default_feature_set;
    legend.hidden = !s.labelBorders;
    applySplit(s.split);
    el("clear-queries").toggleAttribute("disabled", s.queries.length === 0);
    map.setLabelBorders(s.labelBorders);
    if (s.mapSize !== lastMapSize) {
      lastMapSize = s.mapSize;
      map.applySize(s.mapSize);
    }
    pane.render();
    // Light up the active query's window on the map (a new object only when it changed, so
    // the overview mask is rebuilt only then).
    const active = pane.activeWindow();
    const q = s.queries[s.active];
    const ranking = q ? rankings.ready(q.ref) : null;
    const next = active && ranking ? { ranking, window: active.window, slot: active.slot } : null;
    const same =
      next && lastWindow && next.ranking === lastWindow.ranking && next.window.lo === lastWindow.window.lo && next.window.hi === lastWindow.window.hi && next.slot === lastWindow.slot;
    if (!same && (next || lastWindow)) {
      lastWindow = next;
      map.setWindow(next);
    }
    document.body.dataset.queries = s.queries.map((x) => refKey(x.ref)).join(",");
  };

  store.subscribe(render);
  rankings.onChange(render);
  // The panes change size with the window and with the splitter.
  const resized = new ResizeObserver(() => {
    map.resize();
    render();
  });
  resized.observe(mapHolder);
  resized.observe(el("query-scroll"));
  map.resize();
  render();
  document.body.dataset.ready = "true";
}

start().catch((err: unknown) => {
  const box = document.getElementById("error");
  const message = err instanceof Error ? err.message : String(err);
  if (box) {
    box.textContent = `deepviz could not start: ${message}`;
    box.hidden = false;
  }
  document.body.dataset.ready = "error";
});
