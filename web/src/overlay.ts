// The overlay chart above the rows: every query's curve in its own style on shared axes, a
// ball per curve at the hovered image's rank, and the active query's window shaded.

import { queryStyle } from "./colors";
import { CurveChart, type Ball, type CurveSeries } from "./curve";
import type { RankWindow } from "./geometry";
import type { RankedQuery } from "./rankedQuery";

export interface OverlayCurve {
  ranking: RankedQuery;
  slot: number;
}

export class Overlay {
  readonly chart = new CurveChart({ height: 190, testid: "overlay-chart", titles: true });
  private curves: OverlayCurve[] = [];

  get root(): HTMLDivElement {
    return this.chart.root;
  }

  update(
    curves: OverlayCurve[],
    n: number,
    axes: { yDomain: [number, number]; logRanks: boolean },
    width: number,
    active: { window: RankWindow; slot: number } | null,
  ): void {
    this.curves = curves;
    // Curves live on a canvas; this lists them for tests and assistive tools.
    this.chart.root.dataset.curves = curves.map((c) => c.slot).join(",");
    this.chart.resize(width);
    const series: CurveSeries[] = curves.map((c) => ({
      curve: (w, log) => c.ranking.curve(w, log),
      style: queryStyle(c.slot),
      slot: c.slot,
    }));
    this.chart.setSeries(series, n, axes.yDomain, axes.logRanks);
    this.chart.setBand(active ? active.window : null, active ? queryStyle(active.slot).colour : undefined);
  }

  setHover(id: number): void {
    const balls: Ball[] = [];
    for (const c of this.curves) {
      const at = id >= 0 && id < c.ranking.ids ? c.ranking.rankOf(id) : null; // null until the server answers
      if (at) balls.push({ rank: at.rank, sim: at.sim, style: queryStyle(c.slot), slot: c.slot });
    }
    this.chart.setBalls(balls);
  }
}
