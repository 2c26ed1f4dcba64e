// What the page reports about its own speed, on `window.__deepviz`, for bench/bench_page.py
// and the e2e tests: when things were first drawn and what each map frame cost. The app
// never reads it back.

export interface Probe {
  /** performance.now() of the first time each named thing was drawn ("map", "curve i12", ...). */
  marks: Record<string, number>;
  /** Duration in ms of the most recent map frames (bounded). */
  mapFrames: number[];
  /** What the latest map frame drew: "overview" or "cells", and how many cells. */
  mapMode: string;
  mapCells: number;
  /** CSS px per grid cell in the latest map frame. */
  mapCellPx: number;
  /** Cells of the latest "cells" frame drawn without their thumbnail at the wanted size (a
   * placeholder instead): 0 when the view is filled. */
  mapMissing: number;
}

declare global {
  interface Window {
    __deepviz?: Probe;
  }
}

const MAX_FRAMES = 2000;

export const probe: Probe = { marks: {}, mapFrames: [], mapMode: "", mapCells: 0, mapCellPx: 0, mapMissing: 0 };
if (typeof window !== "undefined") window.__deepviz = probe;

/** Record the first time `name` was drawn (later calls keep the first time). */
export function markFirst(name: string): void {
  if (!(name in probe.marks)) probe.marks[name] = performance.now();
}

export function recordMapFrame(ms: number, mode: string, cells: number, cellPx: number, missing = 0): void {
  if (probe.mapFrames.length >= MAX_FRAMES) probe.mapFrames.splice(0, MAX_FRAMES / 2);
  probe.mapFrames.push(ms);
  probe.mapMode = mode;
  probe.mapCells = cells;
  probe.mapCellPx = cellPx;
  probe.mapMissing = missing;
}
