// Near-duplicates in the page: a panel listing the groups the server finds exactly at a chosen
// threshold, with thumbnails, an export of the list as CSV or JSON, the threshold drawn as a
// line on every query's curve while the panel is open, and a toggle that hides every image of
// a group but its first from the map and from the rankings (the server leaves them out when
// asked with hide_duplicates, so ranks then count the images kept).

import type { Api } from "./api";
import { conceptsApi, type DuplicateGroups } from "./conceptsApi";
import { element } from "./dom";
import type { Viewport } from "./mapDraw";
import type { HiddenDuplicates } from "./rankings";

const THUMB_PX = 32;
const DEFAULT_THRESHOLD = 0.99;

export class DuplicatesPanel {
  readonly root: HTMLElement;
  readonly button: HTMLButtonElement;
  private readonly body: HTMLDivElement;
  private readonly threshold: HTMLInputElement;
  private readonly hide: HTMLInputElement;
  private readonly exportLink: HTMLAnchorElement;
  private readonly exportJson: HTMLAnchorElement;
  private found: DuplicateGroups | null = null;
  /** The key (feature set, threshold) `found` was asked with. */
  private foundKey = "";
  private key = "";
  /** Ids hidden from the map: every image of a group but its first, while the toggle is on. */
  private hidden: number[] = [];

  constructor(
    private readonly api: Pick<Api, "thumbUrl">,
    private readonly featureSet: () => string | null,
    /** The grid the map shows now (stored or fitted to the pane). */
    private readonly grid: () => Int32Array,
    private readonly redrawMap: () => void,
    /** The threshold's line on the curves follows the panel: told when it opens, closes or moves. */
    private readonly changed: () => void = () => undefined,
  ) {
    this.root = element("section", "eval-panel duplicates-panel");
    this.root.dataset.testid = "duplicates-panel";
    this.root.hidden = true;
    const head = element("div", "eval-head");
    const title = element("strong", "");
    title.textContent = "Near-duplicates";
    const controls = element("span", "duplicate-controls");
    this.threshold = document.createElement("input");
    this.threshold.type = "number";
    this.threshold.min = "0.5";
    this.threshold.max = "1";
    this.threshold.step = "0.001";
    this.threshold.value = String(DEFAULT_THRESHOLD);
    this.threshold.dataset.testid = "duplicates-threshold";
    this.threshold.addEventListener("change", () => {
      this.render();
      this.changed();
    });
    const hideLabel = document.createElement("label");
    this.hide = document.createElement("input");
    this.hide.type = "checkbox";
    this.hide.dataset.testid = "duplicates-hide";
    this.hide.addEventListener("change", () => this.applyHide());
    hideLabel.append(this.hide, " hide from the map and rankings");
    hideLabel.title = "of each group, keep the first image (lowest id): the others leave the map and every ranking";
    this.exportLink = element("a", "");
    this.exportLink.textContent = "export CSV";
    this.exportLink.download = "duplicates.csv";
    this.exportLink.dataset.testid = "duplicates-export";
    this.exportJson = element("a", "");
    this.exportJson.textContent = "JSON";
    this.exportJson.download = "duplicates.json";
    this.exportJson.dataset.testid = "duplicates-export-json";
    const close = element("button", "eval-close");
    close.type = "button";
    close.textContent = "✕";
    close.addEventListener("click", () => this.toggle(false));
    controls.append("similarity ≥ ", this.threshold, " ", hideLabel, " ", this.exportLink, " ", this.exportJson, close);
    head.append(title, controls);
    this.body = element("div", "eval-body");
    this.root.append(head, this.body);
    this.button = element("button", "");
    this.button.type = "button";
    this.button.textContent = "dups";
    this.button.title = "images whose features are nearly the same, found exactly";
    this.button.dataset.testid = "duplicates-open";
    this.button.addEventListener("click", () => this.toggle(this.root.hidden));
  }

  toggle(open: boolean): void {
    this.root.hidden = !open;
    this.button.classList.toggle("on", open);
    if (open) this.render();
    this.changed();
  }

  /** The threshold to mark on the curves: while the panel is open and the value is valid. */
  get rule(): number | null {
    const t = Number(this.threshold.value);
    return !this.root.hidden && t >= 0.5 && t <= 1 ? t : null;
  }

  render(): void {
    if (this.root.hidden) return;
    const t = Number(this.threshold.value);
    if (!(t >= 0.5 && t <= 1)) return;
    const featureSet = this.featureSet();
    const key = `${featureSet ?? ""}|${t}`;
    if (key === this.key) return;
    this.key = key;
    this.body.textContent = "comparing every pair of images…";
    conceptsApi.duplicates(featureSet, t).then(
      (d) => {
        if (this.key !== key) return;
        this.foundKey = key;
        this.show(d);
      },
      (err: unknown) => {
        this.key = "";
        this.body.textContent = err instanceof Error ? err.message : String(err);
      },
    );
  }

  /** What the rankings leave out while the toggle is on: the groups found for the feature set in use, else null. */
  get hiding(): HiddenDuplicates | null {
    const t = Number(this.threshold.value);
    const current = `${this.featureSet() ?? ""}|${t}`;
    if (!this.hide.checked || !this.found || this.foundKey !== current) return null;
    return { threshold: this.found.threshold, count: this.hidden.length };
  }

  /** Draws the hidden images as empty cells (a map layer). */
  drawHidden(ctx: CanvasRenderingContext2D, vp: Viewport): void {
    if (!this.hidden.length) return;
    const t = vp.transform;
    ctx.fillStyle = "#f4f4f2";
    // Half a pixel over each edge: no seam of the thumbnail left around the emptied cell.
    const grid = this.grid();
    for (const id of this.hidden) ctx.fillRect(t.x + grid[2 * id + 1] * t.k - 0.5, t.y + grid[2 * id] * t.k - 0.5, t.k + 1, t.k + 1);
  }

  private show(d: DuplicateGroups): void {
    this.found = d;
    const count = d.groups.reduce((a, g) => a + g.length, 0);
    const line = element("div", "eval-summary");
    line.dataset.testid = "duplicates-summary";
    line.textContent = `${d.feature_set}: ${d.pairs} pair(s) at similarity ≥ ${d.threshold}, ${count} images in ${d.groups.length} group(s)`;
    const list = element("div", "duplicate-groups");
    for (const g of d.groups) {
      const row = element("div", "compare-strip");
      row.dataset.testid = "duplicate-group";
      for (const id of g) {
        const img = element("img", "");
        img.width = THUMB_PX;
        img.height = THUMB_PX;
        img.src = this.api.thumbUrl(THUMB_PX, id);
        img.alt = `image ${id}`;
        img.title = `image ${id}`;
        img.dataset.id = String(id);
        row.append(img);
      }
      list.append(row);
    }
    const csv = ["group,id", ...d.groups.flatMap((g, i) => g.map((id) => `${i},${id}`))].join("\n");
    this.exportLink.href = `data:text/csv;charset=utf-8,${encodeURIComponent(csv + "\n")}`;
    const json = { feature_set: d.feature_set, threshold: d.threshold, pairs: d.pairs, groups: d.groups };
    this.exportJson.href = `data:application/json;charset=utf-8,${encodeURIComponent(JSON.stringify(json, null, 1) + "\n")}`;
    this.body.replaceChildren(line, list);
    this.applyHide();
  }

  private applyHide(): void {
    this.hidden = this.hide.checked && this.found ? this.found.groups.flatMap((g) => g.slice(1)) : [];
    this.redrawMap();
    this.changed();
  }
}
