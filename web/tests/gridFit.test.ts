// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { GridCells } from "../src/api";
import { GridFit, type GridTarget, nearestAspect } from "../src/gridFit";

const ASPECTS = [0.5, 0.707, 1, 1.414, 2];

describe("nearestAspect", () => {
  it("snaps in log scale, clamping outside the range", () => {
    expect(nearestAspect(1, ASPECTS)).toBe(1);
    expect(nearestAspect(0.8, ASPECTS)).toBe(0.707);
    expect(nearestAspect(0.9, ASPECTS)).toBe(1); // log midpoint of 0.707 and 1 is 0.841
    expect(nearestAspect(10, ASPECTS)).toBe(2);
    expect(nearestAspect(0.01, ASPECTS)).toBe(0.5);
  });
});

function target(aspect: { value: number }): GridTarget & { shown: number[]; busy: boolean[] } {
  const shown: number[] = [];
  const busy: boolean[] = [];
  return { shown, busy, paneAspect: () => aspect.value, setGrid: (_cells: GridCells, a: number) => shown.push(a), fitting: (on) => busy.push(on) };
}

const cells = (rows: number, cols: number): GridCells => ({ grid: new Int32Array([0, 0]), rows, cols });

describe("GridFit", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("asks for the pane's snapped aspect and shows the grid", async () => {
    const pane = { value: 0.72 };
    const t = target(pane);
    const fetch = vi.fn((a: number) => Promise.resolve(cells(Math.round(10 / a), 10)));
    await new GridFit(t, ASPECTS, fetch, () => undefined).fit();
    expect(fetch).toHaveBeenCalledWith(0.707);
    expect(t.shown).toEqual([0.707]);
  });

  it("does not ask again while the snapped aspect stays the same", async () => {
    const pane = { value: 1 };
    const t = target(pane);
    const fetch = vi.fn(() => Promise.resolve(cells(1, 1)));
    const fit = new GridFit(t, ASPECTS, fetch, () => undefined);
    await fit.fit();
    pane.value = 1.05;
    await fit.fit();
    expect(fetch).toHaveBeenCalledTimes(1);
    pane.value = 1.6;
    await fit.fit();
    expect(t.shown).toEqual([1, 1.414]);
  });

  it("keeps the grid it has while the server computes, and asks again later", async () => {
    const t = target({ value: 2 });
    let ready = false;
    const fetch = vi.fn(() => Promise.resolve(ready ? cells(1, 2) : null));
    await new GridFit(t, ASPECTS, fetch, () => undefined).fit();
    expect(t.shown).toEqual([]);
    ready = true;
    await vi.advanceTimersByTimeAsync(1100);
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(t.shown).toEqual([2]);
  });

  it("waits for a resize to settle, then asks once", async () => {
    const pane = { value: 1 };
    const t = target(pane);
    const fetch = vi.fn((a: number) => Promise.resolve(cells(1, a)));
    const fit = new GridFit(t, ASPECTS, fetch, () => undefined);
    for (const v of [0.9, 0.8, 0.6, 0.5]) {
      pane.value = v;
      fit.resized();
      await vi.advanceTimersByTimeAsync(50);
    }
    await vi.advanceTimersByTimeAsync(300);
    expect(fetch.mock.calls).toEqual([[0.5]]);
    expect(t.shown).toEqual([0.5]);
    // Busy from the first resize until the grid is shown, then not.
    expect(t.busy[0]).toBe(true);
    expect(t.busy[t.busy.length - 1]).toBe(false);
  });

  it("reports a failure and keeps the stored grid", async () => {
    const t = target({ value: 1 });
    const errors: string[] = [];
    await new GridFit(t, ASPECTS, () => Promise.reject(new Error("boom")), (m) => errors.push(m)).fit();
    expect(t.shown).toEqual([]);
    expect(errors).toEqual(["The map keeps its stored grid: boom"]);
  });
});
