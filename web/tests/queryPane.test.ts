// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { Highlight } from "../src/highlight";
import { QueryPane } from "../src/queryPane";
import { querySettingsSlice } from "../src/querySettings";
import type { QueryRef } from "../src/queryList";
import { inversePermutation, type Ranking } from "../src/ranking";
import { Rankings } from "../src/rankings";
import { Store } from "../src/store";
import { denseSource } from "./denseSource";

const N = 6;

/** A pane over N images whose rankings come from a fake API: the query's id first, then the others in order. */
function pane(hash = "") {
  const store = new Store(hash);
  const settings = store.register(querySettingsSlice([24, 48]));
  const rank = (id: number): Ranking => {
    const ids = new Int32Array([id, ...Array.from({ length: N }, (_, i) => i).filter((i) => i !== id)]);
    return { ids, sims: new Float32Array(N).map((_, i) => 1 - i / N), rankOf: inversePermutation(ids) };
  };
  const rankingSource = (ref: QueryRef) => denseSource(rank(ref.kind === "image" ? ref.id : 0));
  const rankings = new Rankings({ rankingSource, spearman: () => Promise.resolve(0.5) }, null, N);
  const api = { thumbUrl: (px: number, id: number) => `thumb/${px}/${id}`, uploadThumbUrl: (key: string) => `upload/${key}` };
  const p = new QueryPane(store, settings, rankings, new Highlight(), api, N);
  store.subscribe(() => p.render());
  rankings.onChange(() => p.render());
  return { store, settings, pane: p };
}

const refs = (root: HTMLElement): string[] => [...root.querySelectorAll<HTMLElement>("[data-testid=query-row]")].map((r) => r.dataset.ref ?? "");

describe("QueryPane", () => {
  it("adds a row per query, reorders and deletes them, and keeps the list in the URL", () => {
    const { store, pane: p } = pane();
    p.render();
    expect(p.root.querySelector<HTMLButtonElement>("[data-testid=clear-queries]")?.disabled).toBe(true);
    p.add({ kind: "image", id: 4 });
    p.add({ kind: "image", id: 1 });
    p.add({ kind: "image", id: 4 });
    expect(refs(p.root)).toEqual(["i4", "i1"]);
    expect(p.cell.value.active).toBe(0);
    p.root.querySelectorAll<HTMLButtonElement>("[data-testid=move-up]")[1].click();
    expect(refs(p.root)).toEqual(["i1", "i4"]);
    expect(store.hash).toContain("q=i1:1:-,i4:0:-&a=1");
    p.root.querySelector<HTMLButtonElement>("[data-testid=delete-query]")?.click();
    expect(refs(p.root)).toEqual(["i4"]);
    p.root.querySelector<HTMLButtonElement>("[data-testid=clear-queries]")?.click();
    expect(refs(p.root)).toEqual([]);
  });
  it("restores queries from the URL and asks for their images at 128 px", () => {
    const { pane: p } = pane("#q=i2:5:0-3&a=0");
    p.render();
    expect(refs(p.root)).toEqual(["i2"]);
    const row = p.root.querySelector<HTMLElement>("[data-testid=query-row]");
    expect(row?.dataset.slot).toBe("5");
    expect(row?.querySelector("img")?.getAttribute("src")).toBe("thumb/128/2");
  });
  it("shows a ranking's strip at the chosen stored size once it arrives", async () => {
    // happy-dom lays nothing out: give every element the width of a pane.
    vi.spyOn(HTMLElement.prototype, "getBoundingClientRect").mockReturnValue(new DOMRect(0, 0, 600, 100));
    const { settings, pane: p } = pane("#q=i2:0:0-3&a=0&s=24");
    p.render();
    await new Promise((done) => setTimeout(done, 0));
    const strip = [...p.root.querySelectorAll<HTMLImageElement>("[data-testid=strip-image]")];
    expect(settings.value.stripSize).toBe(24);
    expect(strip.map((i) => i.dataset.id)).toEqual(["2", "0", "1"]);
    expect(strip.map((i) => i.getAttribute("src"))).toEqual(["thumb/24/2", "thumb/24/0", "thumb/24/1"]);
    expect(p.activeWindow()?.window).toEqual({ lo: 0, hi: 3 });
    vi.restoreAllMocks();
  });
});
