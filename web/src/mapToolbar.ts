// The map pane's toolbar: the project's name and size, the map's cell size (`m`: "fit" or one
// of the project's thumbnail sizes) and label borders (`b`) with their legend (every label).

import { checkbox, element, select } from "./dom";
import { Legend } from "./legend";
import { type Cell, flagParam, intParam, type Slice, type Store } from "./store";

/** Map cell size in CSS px, or "fit" to show the whole grid in the pane. */
export type MapSize = "fit" | number;

export interface MapSettings {
  size: MapSize;
  /** Colour each cell's border by its label. */
  labelBorders: boolean;
}

/** The slice for a project storing thumbnails at `sizes` px; another size reads as "fit". */
export function mapSettingsSlice(sizes: readonly number[]): Slice<MapSettings> {
  return {
    keys: ["m", "b"],
    parse: (params) => {
      const m = intParam(params.get("m"));
      return { size: m !== null && sizes.includes(m) ? m : "fit", labelBorders: flagParam(params, "b", false) };
    },
    serialise: (v) => [
      ["m", String(v.size)],
      ["b", v.labelBorders ? "1" : "0"],
    ],
  };
}

export interface MapToolbarProject {
  name: string;
  n: number;
  thumbnail_sizes: readonly number[];
  labels: readonly string[];
}

export class MapToolbar {
  readonly root: HTMLElement;
  readonly cell: Cell<MapSettings>;
  private readonly size: HTMLSelectElement;
  private readonly labelBorders: HTMLInputElement;
  private readonly legend: HTMLElement;

  /** `counts[code]`: images per label, for the legend. */
  constructor(store: Store, project: MapToolbarProject, counts: readonly number[] | null = null) {
    this.cell = store.register(mapSettingsSlice(project.thumbnail_sizes));
    this.root = element("header", "toolbar");
    const name = element("strong", "project-name");
    name.textContent = project.name;
    const count = element("span", "muted");
    count.textContent = `${project.n.toLocaleString()} images`;
    const sizes: [string, string][] = [["fit", "fit"], ...project.thumbnail_sizes.map((s): [string, string] => [String(s), `${s} px`])];
    const size = select("map", "map-size", "thumbnail size on the map", sizes);
    const borders = checkbox("labels", "label-toggle", "colour each cell's border by its label");
    this.size = size.select;
    this.labelBorders = borders.input;
    this.legend = new Legend(project.labels, counts).root;
    this.root.append(name, count, size.label, borders.label, this.legend);

    this.size.addEventListener("change", () => {
      const v = this.size.value === "fit" ? "fit" : Number(this.size.value);
      this.cell.set((s) => ({ ...s, size: v }));
    });
    this.labelBorders.addEventListener("change", () => this.cell.set((s) => ({ ...s, labelBorders: this.labelBorders.checked })));
  }

  render(): void {
    const v = this.cell.value;
    this.size.value = String(v.size);
    this.labelBorders.checked = v.labelBorders;
    this.legend.hidden = !v.labelBorders;
  }
}
