// The query pane's settings and their controls: linked brushes (`l`), a fitted y axis (`y`),
// links between adjacent rankings (`k`), a log rank axis (`x`) and the strip's thumbnail size
// (`s`), which is always one of the project's stored sizes.

import { checkbox, element, select } from "./dom";
import { thumbSizeFor } from "./geometry";
import { LOG_DEFAULT_ABOVE } from "./rankScale";
import { type Cell, flagParam, intParam, type Slice, type Store } from "./store";

export interface QuerySettingsValue {
  /** Every row brushes the same ranks. */
  linked: boolean;
  /** Fit the y axis to the data (the default: features after ReLU never go below 0) instead of [-1, 1]. */
  fitted: boolean;
  /** Lines linking the same images in adjacent queries' rankings. */
  links: boolean;
  /** Log rank axis: the head of a big ranking gets real width (default above LOG_DEFAULT_ABOVE images). */
  logRanks: boolean;
  /** Strip thumbnail size in px: one of the project's thumbnail sizes. */
  stripSize: number;
}

/** Strips show 64 px thumbnails when the project has them (else the nearest stored size). */
const PREFERRED_STRIP_PX = 64;

/** The slice for a project storing thumbnails at `sizes` px; a size it lacks reads as the default. */
export function querySettingsSlice(sizes: readonly number[], n = 0): Slice<QuerySettingsValue> {
  const fallback = thumbSizeFor(PREFERRED_STRIP_PX, sizes);
  return {
    keys: ["l", "s", "y", "k", "x"],
    parse: (params) => {
      const s = intParam(params.get("s"));
      return {
        linked: flagParam(params, "l", false),
        fitted: flagParam(params, "y", true),
        links: flagParam(params, "k", true),
        logRanks: flagParam(params, "x", n > LOG_DEFAULT_ABOVE),
        stripSize: s !== null && sizes.includes(s) ? s : fallback,
      };
    },
    serialise: (v) => [
      ["l", v.linked ? "1" : "0"],
      ["s", String(v.stripSize)],
      ["y", v.fitted ? "1" : "0"],
      ["k", v.links ? "1" : "0"],
      ["x", v.logRanks ? "1" : "0"],
    ],
  };
}

export class QuerySettings {
  /** The controls, to place in a toolbar (a `display: contents` wrapper). */
  readonly root: HTMLSpanElement;
  readonly cell: Cell<QuerySettingsValue>;
  private readonly linked: HTMLInputElement;
  private readonly fitted: HTMLInputElement;
  private readonly links: HTMLInputElement;
  private readonly logRanks: HTMLInputElement;
  private readonly stripSize: HTMLSelectElement;

  /** `onLink` runs in the same store batch as turning linking on: it aligns the rows' windows. */
  constructor(store: Store, sizes: readonly number[], onLink: () => void, n = 0) {
    this.cell = store.register(querySettingsSlice(sizes, n));
    const linked = checkbox("linked brushes", "link-toggle", "every row brushes the same ranks");
    const fitted = checkbox("fitted y", "fit-toggle", "fit the y axis to the similarities shown; off shows the full range [-1, 1]");
    const links = checkbox("rank links", "links-toggle", "lines linking the same images in adjacent rankings");
    const logRanks = checkbox("log ranks", "log-toggle", "a logarithmic rank axis: the first ranks get real width");
    const strip = select("strip", "strip-size", "thumbnail size in the strips", sizes.map((s) => [String(s), `${s} px`]));
    this.linked = linked.input;
    this.fitted = fitted.input;
    this.links = links.input;
    this.logRanks = logRanks.input;
    this.stripSize = strip.select;
    this.root = element("span", "tools");
    this.root.append(linked.label, fitted.label, links.label, logRanks.label, strip.label);

    const set = (patch: Partial<QuerySettingsValue>): void => this.cell.set((v) => ({ ...v, ...patch }));
    this.linked.addEventListener("change", () =>
      store.batch(() => {
        set({ linked: this.linked.checked });
        if (this.linked.checked) onLink();
      }),
    );
    this.fitted.addEventListener("change", () => set({ fitted: this.fitted.checked }));
    this.links.addEventListener("change", () => set({ links: this.links.checked }));
    this.logRanks.addEventListener("change", () => set({ logRanks: this.logRanks.checked }));
    this.stripSize.addEventListener("change", () => set({ stripSize: Number(this.stripSize.value) }));
  }

  render(): void {
    const v = this.cell.value;
    this.linked.checked = v.linked;
    this.fitted.checked = v.fitted;
    this.links.checked = v.links;
    this.logRanks.checked = v.logRanks;
    this.stripSize.value = String(v.stripSize);
  }
}
