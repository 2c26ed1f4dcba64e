// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import type { ImageInfo } from "../src/api";
import { Preview } from "../src/preview";
import { RankedQuery } from "../src/rankedQuery";
import { inversePermutation } from "../src/ranking";
import { denseSource } from "./denseSource";

describe("Preview", () => {
  it("shows a map-hovered image at a stored size with its info and its rank in each query", async () => {
    const info: ImageInfo = { id: 3, path: "cats/3.jpg", label: "cats", width: 640, height: 480 };
    const api = { thumbUrl: (px: number, id: number) => `thumb/${px}/${id}`, image: () => Promise.resolve(info) };
    const ids = new Int32Array([3, 0, 1, 2]);
    const dense = { ids, sims: new Float32Array([1, 0.5, 0.25, 0]), rankOf: inversePermutation(ids) };
    const ranking = await RankedQuery.load(4, denseSource(dense), () => {});
    const preview = new Preview(api, () => [{ slot: 0, ranking }, { slot: 1, ranking: null }]);
    preview.show({ id: 3, source: "map", clientX: 10, clientY: 10 });
    expect(preview.root.hidden).toBe(false);
    expect(preview.root.querySelector("img")?.getAttribute("src")).toBe("thumb/128/3");
    await new Promise((done) => setTimeout(done, 0));
    expect(preview.root.textContent).toContain("cats/3.jpg");
    expect(preview.root.textContent).toContain("label cats · id 3 · 640×480");
    expect(preview.root.textContent).toContain("rank 0 · sim 1.000");
    // Strip images get the card too (issue 8: hover cards everywhere name the image).
    preview.show({ id: 3, source: "strip", clientX: 10, clientY: 10 });
    expect(preview.root.hidden).toBe(false);
    preview.show(null);
    expect(preview.root.hidden).toBe(true);
  });
});
