// The drag handle between the map and the query pane, and the map's share of the width (`p`).

import { type Cell, type Slice, type Store } from "./store";

const MIN = 0.15;
const MAX = 0.85;

const clamp = (f: number): number => Math.min(MAX, Math.max(MIN, f));

/** The slice; `fallback` is the share a first visit (no `p` in the URL) gets. */
export function splitSlice(fallback: number): Slice<number> {
  return {
    keys: ["p"],
    parse: (params) => {
      const p = Number(params.get("p"));
      // Outside [MIN, MAX] is a bad link, not a wish for the extreme: it reads as the default.
      return params.has("p") && Number.isFinite(p) && p >= MIN && p <= MAX ? p : clamp(fallback);
    },
    serialise: (v) => [["p", String(Math.round(v * 1000) / 1000)]],
  };
}

/**
 * The query pane's width on a first visit when the window allows it: a row's head (140 px),
 * a strip of 8 images at 64 px and the paddings and scroll bar around them.
 */
export const QUERY_PANE_PX = 780;

/**
 * The share that shows every cell of a grid `cols` wide at `cellPx` px in a window `width` px
 * wide, within reason (~1k images at 32 px, the paper's size, are all visible without zooming),
 * but never so much that the query pane gets less than QUERY_PANE_PX while the map keeps 30 %.
 */
export function firstSplit(cols: number, cellPx: number, width: number): number {
  const forGrid = Math.min(0.65, Math.max(0.35, (cols * cellPx + 8) / width));
  return Math.max(0.3, Math.min(forGrid, 1 - QUERY_PANE_PX / width));
}

export class Splitter {
  readonly root: HTMLDivElement;
  readonly cell: Cell<number>;

  /** `container`: the grid whose first column is the map; `fallback` as in splitSlice. */
  constructor(
    store: Store,
    private readonly container: HTMLElement,
    fallback: number,
  ) {
    this.cell = store.register(splitSlice(fallback));
    const handle = (this.root = document.createElement("div"));
    handle.className = "splitter";
    handle.dataset.testid = "pane-splitter";
    handle.setAttribute("role", "separator");
    handle.setAttribute("aria-orientation", "vertical");
    handle.title = "drag to resize the panes";
    let dragging = false;
    handle.addEventListener("pointerdown", (e) => {
      dragging = true;
      handle.setPointerCapture(e.pointerId);
      e.preventDefault();
    });
    // While dragging only the layout follows; the URL (and every view) hears of the end.
    handle.addEventListener("pointermove", (e) => {
      if (dragging) this.apply(this.fraction(e.clientX));
    });
    const stop = (e: PointerEvent): void => {
      if (!dragging) return;
      dragging = false;
      this.cell.set(this.fraction(e.clientX));
    };
    handle.addEventListener("pointerup", stop);
    handle.addEventListener("pointercancel", stop);
  }

  render(): void {
    this.apply(this.cell.value);
  }

  private fraction(clientX: number): number {
    const r = this.container.getBoundingClientRect();
    return clamp((clientX - r.left) / Math.max(1, r.width));
  }

  private apply(fraction: number): void {
    this.container.style.gridTemplateColumns = `${(fraction * 100).toFixed(2)}% 6px 1fr`;
  }
}
