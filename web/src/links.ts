// Lines linking the same images in two adjacent queries' rankings, parallel-coordinates style
// (the paper's 7.2): each image of the upper row's brushed window goes from its rank on the
// upper axis to its rank on the lower one; Spearman's rho of the two full rankings (computed by
// the server) is printed.

import { select, type Selection } from "d3-selection";
import type { QueryStyle } from "./colors";
import { rankToX } from "./geometry";
import type { RankedQuery } from "./rankedQuery";

const HEIGHT = 44;
/** More lines than this are unreadable; the window is sampled evenly down to it. */
const MAX_LINES = 400;

export class RankLinks {
  readonly root: HTMLDivElement;
  private readonly svg: Selection<SVGSVGElement, unknown, null, undefined>;
  private readonly label: HTMLSpanElement;

  constructor() {
    this.root = document.createElement("div");
    this.root.className = "rank-links";
    this.root.dataset.testid = "rank-links";
    this.svg = select(this.root).append("svg").attr("height", HEIGHT);
    this.label = document.createElement("span");
    this.label.className = "spearman";
    this.label.dataset.testid = "spearman";
    this.root.append(this.label);
  }

  /**
   * Draw links for `ids` (the upper row's shown images) between `upper` and `lower`, on rank
   * rank axes `axis.width` px wide (log or linear) starting `axis.left` px from the band's left edge.
   */
  draw(
    upper: RankedQuery,
    lower: RankedQuery,
    ids: number[],
    axis: { left: number; width: number; log: boolean },
    style: QueryStyle,
    hovered: number,
    rho: number | null,
  ): void {
    const n = upper.n;
    const { left: plotLeft, width: plotWidth, log } = axis;
    const width = plotLeft + plotWidth + 12;
    this.svg.attr("width", width);
    const step = Math.max(1, Math.ceil(ids.length / MAX_LINES));
    const shown = ids.filter((_, i) => i % step === 0);
    if (hovered >= 0 && hovered < upper.ids && !shown.includes(hovered)) shown.push(hovered);
    // Ranks in both rankings, asked of the server; the lines wait for them (drawn again on arrival).
    const above = upper.ranksOf(shown);
    const below = lower.ranksOf(shown);
    const rankAbove = new Map(shown.map((id, i) => [id, above ? above[i] : 0]));
    const rankBelow = new Map(shown.map((id, i) => [id, below ? below[i] : 0]));
    this.svg
      .selectAll<SVGLineElement, number>("line")
      // An image left out of a ranking (a hidden near-duplicate) has rank -1 there: no line.
      .data(above && below ? shown.filter((id) => (rankAbove.get(id) ?? -1) >= 0 && (rankBelow.get(id) ?? -1) >= 0) : [], (d) => String(d))
      .join("line")
      .attr("data-id", (id) => id)
      .attr("x1", (id) => plotLeft + rankToX(rankAbove.get(id) ?? 0, plotWidth, n, log))
      .attr("x2", (id) => plotLeft + rankToX(rankBelow.get(id) ?? 0, plotWidth, n, log))
      .attr("y1", 2)
      .attr("y2", HEIGHT - 2)
      .attr("stroke", (id) => (id === hovered ? "#111" : style.colour))
      .attr("stroke-width", (id) => (id === hovered ? 2.5 : 1))
      .attr("stroke-opacity", (id) => (id === hovered ? 1 : 0.55));
    this.label.textContent = rho === null ? "Spearman ρ = …" : `Spearman ρ = ${rho.toFixed(3)}`;
    this.label.title = "rank correlation of the two full rankings";
  }
}
