// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { MapToolbar, mapSettingsSlice } from "../src/mapToolbar";
import { parseHash, Store } from "../src/store";

const project = { name: "cats", n: 1234, thumbnail_sizes: [48, 96], labels: ["a", "b"] };

describe("map toolbar", () => {
  it("reads m and b; a size the project lacks reads as fit", () => {
    const slice = mapSettingsSlice([48, 96]);
    expect(slice.parse(parseHash(""))).toEqual({ size: "fit", labelBorders: false });
    expect(slice.parse(parseHash("#m=96&b=1"))).toEqual({ size: 96, labelBorders: true });
    expect(slice.parse(parseHash("#m=64")).size).toBe("fit");
  });
  it("offers fit and the stored sizes, shows the legend with label borders", () => {
    const store = new Store("#m=48");
    const toolbar = new MapToolbar(store, project);
    toolbar.render();
    expect(toolbar.root.textContent).toContain("1,234 images");
    const size = toolbar.root.querySelector<HTMLSelectElement>('[data-testid="map-size"]');
    expect([...(size?.options ?? [])].map((o) => o.value)).toEqual(["fit", "48", "96"]);
    expect(size?.value).toBe("48");
    const legend = toolbar.root.querySelector<HTMLElement>(".legend");
    expect(legend?.hidden).toBe(true);
    const borders = toolbar.root.querySelector<HTMLInputElement>('[data-testid="label-toggle"]');
    if (!size || !borders) throw new Error("controls missing");
    borders.checked = true;
    borders.dispatchEvent(new Event("change"));
    size.value = "fit";
    size.dispatchEvent(new Event("change"));
    toolbar.render();
    expect(toolbar.cell.value).toEqual({ size: "fit", labelBorders: true });
    expect(legend?.hidden).toBe(false);
    expect(legend?.querySelectorAll('[data-testid="legend-item"]').length).toBe(2);
  });
});
