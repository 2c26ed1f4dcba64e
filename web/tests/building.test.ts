// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { POLL_MS, progressText, showBuilding } from "../src/building";

const stage = "decode + features + thumbnails";

describe("building", () => {
  afterEach(() => vi.useRealTimers());
  it("writes progress with its share, or the stage alone", () => {
    expect(progressText({ stage, done: 2048, total: 100000 })).toBe(`${stage}: 2,048 of 100,000 (2%)`);
    expect(progressText({ stage: "layout", done: 0, total: 0 })).toBe("layout");
  });
  it("leaves a finished project alone", () => {
    const app = document.createElement("div");
    expect(showBuilding(app, { name: "p", n: 3, building: null }, () => Promise.reject(new Error("no")), () => {})).toBe(false);
    expect(app.children.length).toBe(0);
  });
  it("shows a first build's progress until it commits, then calls done", async () => {
    vi.useFakeTimers();
    const app = document.createElement("div");
    const answers = [
      { name: "p", n: 0, building: { stage, done: 4, total: 12 } },
      { name: "p", n: 12, building: null },
    ];
    const done = vi.fn();
    const first = showBuilding(app, { name: "p", n: 0, building: { stage, done: 0, total: 12 } }, () => Promise.resolve(answers.shift()!), done);
    expect(first).toBe(true);
    expect(app.textContent).toContain("Building “p”");
    expect(app.querySelector("[data-testid=building-progress]")!.textContent).toBe(`${stage}: 0 of 12 (0%)`);
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(app.querySelector("[data-testid=building-progress]")!.textContent).toBe(`${stage}: 4 of 12 (33%)`);
    expect(done).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(done).toHaveBeenCalledOnce();
  });
  it("marks a rebuild over the map it still shows", () => {
    vi.useFakeTimers();
    const app = document.createElement("div");
    const first = showBuilding(app, { name: "p", n: 5, building: { stage: "layout", done: 0, total: 0 } }, () => new Promise(() => {}), () => {});
    expect(first).toBe(false);
    expect(app.children.length).toBe(0);
    expect(document.body.querySelector("[data-testid=building]")!.textContent).toContain("last finished one");
  });
  it("says a preview is a map whose thumbnails are still being made, and reloads when the build is done", async () => {
    vi.useFakeTimers();
    const app = document.createElement("div");
    const done = vi.fn();
    const answers = [{ name: "p", n: 12, preview: true, building: { stage, done: 8, total: 12 } }, { name: "p", n: 12, preview: false, building: null }];
    const first = showBuilding(app, { name: "p", n: 12, preview: true, building: { stage, done: 4, total: 12 } }, () => Promise.resolve(answers.shift()!), done);
    expect(first).toBe(false); // the map is drawn under the notice
    const notes = document.body.querySelectorAll("[data-testid=building]");
    expect(notes[notes.length - 1].textContent).toContain("thumbnails are still being made");
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(done).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(done).toHaveBeenCalledOnce();
  });
});
