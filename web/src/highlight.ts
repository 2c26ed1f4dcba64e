// The synchronised highlight: one hovered image id shared by the map, the strips, the query
// images, the balls on every curve and the preview. Kept out of the URL state on purpose: it
// changes on every mouse move.

export type HoverSource = "map" | "strip" | "query" | "links";

export interface Hover {
  id: number;
  source: HoverSource;
  /** Screen position of the pointer, for the preview card. */
  clientX: number;
  clientY: number;
}

type HoverListener = (hover: Hover | null) => void;

export class Highlight {
  private hover: Hover | null = null;
  private readonly listeners = new Set<HoverListener>();

  get current(): Hover | null {
    return this.hover;
  }

  set(hover: Hover | null): void {
    const same = hover === null ? this.hover === null : this.hover !== null && this.hover.id === hover.id && this.hover.source === hover.source;
    this.hover = hover;
    // Position changes still notify: the preview follows the pointer.
    if (!same || hover !== null) for (const fn of this.listeners) fn(hover);
  }

  subscribe(fn: HoverListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
