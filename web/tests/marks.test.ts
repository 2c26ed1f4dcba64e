// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { Marks } from "../src/marks";

// 4 images on a 2x2 grid.
const grid = new Int32Array([0, 0, 0, 1, 1, 0, 1, 1]);

describe("Marks", () => {
  it("keeps each image id once, ascending, drops ids of no image, and shows how many on its button", () => {
    let redraws = 0;
    const marks = new Marks(() => grid, () => redraws++);
    expect(marks.root.hidden).toBe(true);
    marks.set([3, 1, 3, 9, -1]);
    expect(Array.from(marks.current)).toEqual([1, 3]);
    expect(marks.root.hidden).toBe(false);
    expect(marks.root.textContent).toBe("2 highlighted ×");
    expect(redraws).toBe(1);
  });

  it("tells its listeners when the page clears it, not when it is set from outside", () => {
    const marks = new Marks(() => grid, () => undefined);
    const told: number[][] = [];
    marks.onClear(() => told.push(Array.from(marks.current)));
    marks.set(new Int32Array([0, 2]));
    marks.set([]);
    expect(told).toEqual([]);
    marks.set([2]);
    marks.root.click();
    expect(told).toEqual([[]]);
    expect(marks.root.hidden).toBe(true);
  });
});
