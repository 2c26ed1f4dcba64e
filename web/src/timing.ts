// What the page records about its own speed, as standard User Timing entries (see the
// browser's performance panel, or bench/bench_page.py which reads them with
// performance.getEntriesByName). Nothing in the app reads them back.
//
//   mark    "deepviz:first-draw:map"            the first map frame
//   mark    "deepviz:first-draw:curve:<query>"  a query row's first curve (<query>: i12, u3, ...)
//   measure "deepviz:map-frame"                 each map frame's drawing; `detail` is a MapFrame

const FIRST_DRAW = "deepviz:first-draw:";
export const MAP_FRAME = "deepviz:map-frame";

/** The `detail` of a "deepviz:map-frame" measure. */
export interface MapFrame {
  /** "overview" (one pixel per cell, mean colours), "tiles" (the tile pyramid's pixels) or "cells" (thumbnails). */
  mode: "overview" | "tiles" | "cells";
  /** Cells drawn one by one (0 in the overview). */
  cells: number;
  /** CSS px per grid cell. */
  cellPx: number;
  /** Cells drawn without their thumbnail at the wanted size (a placeholder instead), or tiles not
   * loaded yet (mean colours instead): 0 when the view is filled. */
  missing: number;
  /** The tile level drawn (pixels per cell); 0 when not drawing tiles. */
  tilePx?: number;
}

/** Frame measures kept before the map clears them: a long session must not grow the timeline without end. */
export const MAX_FRAME_MEASURES = 5000;

/** Mark the first draw of `what` ("map", "curve:i12"). */
export function markFirstDraw(what: string): void {
  performance.mark(FIRST_DRAW + what);
}
