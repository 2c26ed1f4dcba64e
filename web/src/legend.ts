// The label legend: every label with its border colour and how many images carry it, in a
// scrolling panel that opens from the map's toolbar (a project may have hundreds of labels).

import { labelStyle, labelSwatch } from "./colors";
import { element } from "./dom";

/** How many images carry each of `k` label codes (codes outside [0, k) are not counted). */
export function labelCounts(codes: ArrayLike<number>, k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c >= 0 && c < k) counts[c]++;
  }
  return counts;
}

export class Legend {
  readonly root: HTMLDetailsElement;

  /** `names[code]` and, when known, `counts[code]`. */
  constructor(names: readonly string[], counts: readonly number[] | null) {
    this.root = element("details", "legend");
    this.root.dataset.testid = "legend";
    const summary = element("summary", "");
    summary.textContent = `${names.length} label${names.length === 1 ? "" : "s"}`;
    const list = element("ol", "legend-list");
    list.dataset.testid = "legend-list";
    list.replaceChildren(...names.map((name, code) => legendItem(name, code, counts ? counts[code] : null)));
    this.root.append(summary, list);
  }
}

function legendItem(name: string, code: number, count: number | null): HTMLLIElement {
  const item = element("li", "legend-item");
  item.dataset.testid = "legend-item";
  const style = labelStyle(code);
  const swatch = element("span", "legend-swatch");
  swatch.style.background = labelSwatch(style);
  item.dataset.labelStyle = `${style.colour} ${style.dash.join(",")}`;
  item.append(swatch);
  const label = element("span", "legend-name");
  label.textContent = name;
  item.append(label);
  if (count !== null) {
    const n = element("span", "legend-count");
    n.textContent = count.toLocaleString();
    item.append(n);
  }
  return item;
}
