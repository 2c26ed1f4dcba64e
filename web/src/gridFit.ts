// Keeps the map's grid shaped like its pane. The project stores one grid (of the build's
// aspect, 1.5 by default); a tall or square pane would show it as a band with empty space, so
// the page asks the server for the same layout on a grid of the pane's aspect, snapped to the
// aspects the server offers (steps of 19 %), and swaps it in. Until that grid arrives (a large
// project's takes seconds, computed in the background) the map shows the grid it has.

import type { GridCells } from "./api";

/** The member of `aspects` nearest to `aspect` in log scale (the server snaps the same way). */
export function nearestAspect(aspect: number, aspects: readonly number[]): number {
  let best = aspects[0];
  for (const a of aspects) if (Math.abs(Math.log(a / aspect)) < Math.abs(Math.log(best / aspect))) best = a;
  return best;
}

/** What the fitter drives: the map view's side of it. */
export interface GridTarget {
  paneAspect(): number;
  setGrid(cells: GridCells, aspect: number): void;
  /** Whether a resize is settling or a grid is on its way (tests wait for false before clicking). */
  fitting(on: boolean): void;
}

/** Waits after a resize before asking: a dragged splitter asks once, where it stops. */
const SETTLE_MS = 200;
/** How long to wait before asking again for a grid the server is still computing. */
const RETRY_MS = 1000;

export class GridFit {
  /** The aspect of the grid shown (0: the project's stored grid) and the one wanted. */
  private shown = 0;
  private wanted = 0;
  private asking = 0;
  private timer = 0;
  private settling = false;

  constructor(
    private readonly target: GridTarget,
    private readonly aspects: readonly number[],
    private readonly fetchGrid: (aspect: number) => Promise<GridCells | null>,
    private readonly onError: (message: string) => void,
  ) {}

  /** Ask now for the pane's aspect; resolves once the grid is shown or the server said "not yet". */
  async fit(): Promise<void> {
    if (this.aspects.length === 0) return;
    const aspect = nearestAspect(this.target.paneAspect(), this.aspects);
    this.wanted = aspect;
    if (aspect === this.shown || aspect === this.asking) return;
    let cells: GridCells | null;
    this.asking = aspect;
    this.mark();
    try {
      cells = await this.fetchGrid(aspect);
    } catch (err) {
      this.onError(`The map keeps its stored grid: ${err instanceof Error ? err.message : String(err)}`);
      return;
    } finally {
      this.asking = 0;
      this.mark();
    }
    if (aspect !== this.wanted) return; // the pane changed meanwhile: its own request follows
    if (cells) this.show(aspect, cells);
    else this.later(RETRY_MS);
  }

  /** The pane was resized: ask for its aspect once it settles. */
  resized(): void {
    this.settling = true;
    this.mark();
    this.later(SETTLE_MS);
  }

  private later(ms: number): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => {
      this.settling = false;
      this.mark();
      void this.fit();
    }, ms);
  }

  private mark(): void {
    this.target.fitting(this.settling || this.asking !== 0);
  }

  private show(aspect: number, cells: GridCells): void {
    this.shown = aspect;
    this.target.setGrid(cells, aspect);
  }
}
