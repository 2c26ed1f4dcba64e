// Images marked from outside the page (the notebook's `view.highlight(ids)`): outlined on the map,
// with a button over it that says how many and clears them. Not in the URL: a set may hold a
// million ids, and it is the notebook's (the widget sends it again when the page reloads).

import { element } from "./dom";
import { outlineCells, type Viewport } from "./mapDraw";

/** Outside the query (Okabe-Ito), label (Tableau 10) and concept colours. */
export const MARK_COLOUR = "#00e5ff";
const NONE = new Int32Array(0);

export class Marks {
  /** The button over the map's corner: "N highlighted ×", hidden while nothing is. */
  readonly root: HTMLButtonElement;
  private ids: Int32Array = NONE;
  private readonly cleared = new Set<() => void>();

  constructor(
    /** The grid the map shows now, (N, 2) [row, col] flattened. */
    private readonly grid: () => Int32Array,
    private readonly redraw: () => void,
  ) {
    this.root = element("button", "marks");
    this.root.type = "button";
    this.root.dataset.testid = "marks";
    this.root.title = "images highlighted from the notebook (view.highlight); click to clear";
    this.root.hidden = true;
    this.root.addEventListener("click", () => this.clear());
  }

  /** The marked ids, ascending, each once. */
  get current(): Int32Array {
    return this.ids;
  }

  /** Mark `ids` (replacing the set); ids that are no image of this map are dropped. */
  set(ids: ArrayLike<number>): void {
    const n = this.grid().length / 2;
    const kept = Int32Array.from(ids).filter((id) => id >= 0 && id < n);
    kept.sort();
    this.ids = kept.filter((id, i) => i === 0 || id !== kept[i - 1]);
    this.root.hidden = this.ids.length === 0;
    this.root.textContent = `${this.ids.length.toLocaleString()} highlighted ×`;
    this.redraw();
  }

  /** The user cleared the marks on the page: `fn` is called (the notebook is told). */
  onClear(fn: () => void): void {
    this.cleared.add(fn);
  }

  clear(): void {
    this.set(NONE);
    for (const fn of this.cleared) fn();
  }

  /** The marked cells, outlined inside any concept outline (a map layer). */
  draw(ctx: CanvasRenderingContext2D, vp: Viewport): void {
    outlineCells(ctx, vp, this.grid(), this.ids, MARK_COLOUR, Math.min(3, Math.max(1, vp.transform.k * 0.08)));
  }
}
