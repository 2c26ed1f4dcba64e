// Which feature set ranks the queries (`f`; absent: the project's default), and its select,
// shown only when the project has more than one.

import { select } from "./dom";
import { type Cell, safeDecode, type Slice, type Store } from "./store";

/** The slice for a project with `featureSets`, `fallback` first among them; null = the default. */
export function featureSlice(featureSets: readonly string[], fallback: string): Slice<string | null> {
  return {
    keys: ["f"],
    parse: (params) => {
      const f = params.get("f");
      const name = f ? safeDecode(f) : null;
      // A link from another project (or an older build of this one) falls back to the default.
      return name !== null && name !== fallback && featureSets.includes(name) ? name : null;
    },
    serialise: (v) => (v === null ? [] : [["f", encodeURIComponent(v)]]),
  };
}

export class FeaturePicker {
  readonly root: HTMLLabelElement;
  readonly cell: Cell<string | null>;
  private readonly select: HTMLSelectElement;

  constructor(
    store: Store,
    featureSets: readonly string[],
    private readonly fallback: string,
  ) {
    this.cell = store.register(featureSlice(featureSets, fallback));
    const picker = select("features", "features", "the features that rank the images", featureSets.map((f) => [f, f]));
    this.root = picker.label;
    this.root.hidden = featureSets.length < 2;
    this.select = picker.select;
    this.select.addEventListener("change", () => this.cell.set(this.select.value === fallback ? null : this.select.value));
  }

  /** The feature set in effect: the chosen one or the project's default. */
  get current(): string {
    return this.cell.value ?? this.fallback;
  }

  render(): void {
    this.select.value = this.current;
  }
}
