import { describe, expect, it } from "vitest";
import { gripPixels, keyWindow } from "../src/brushKeys";

describe("keyWindow", () => {
  const w = { lo: 10, hi: 14 };
  it("moves by a rank, keeping the width, inside [0, n)", () => {
    expect(keyWindow(w, "ArrowRight", false, 100)).toEqual({ lo: 11, hi: 15 });
    expect(keyWindow(w, "ArrowLeft", false, 100)).toEqual({ lo: 9, hi: 13 });
    expect(keyWindow({ lo: 0, hi: 4 }, "ArrowLeft", false, 100)).toEqual({ lo: 0, hi: 4 });
    expect(keyWindow({ lo: 96, hi: 100 }, "ArrowRight", false, 100)).toEqual({ lo: 96, hi: 100 });
  });
  it("pages by its width and jumps to the ends", () => {
    expect(keyWindow(w, "PageDown", false, 100)).toEqual({ lo: 14, hi: 18 });
    expect(keyWindow(w, "PageUp", false, 100)).toEqual({ lo: 6, hi: 10 });
    expect(keyWindow(w, "Home", false, 100)).toEqual({ lo: 0, hi: 4 });
    expect(keyWindow(w, "End", false, 100)).toEqual({ lo: 96, hi: 100 });
  });
  it("resizes with shift, never below one rank", () => {
    expect(keyWindow(w, "ArrowRight", true, 100)).toEqual({ lo: 10, hi: 15 });
    expect(keyWindow({ lo: 10, hi: 11 }, "ArrowLeft", true, 100)).toEqual({ lo: 10, hi: 11 });
  });
  it("ignores other keys", () => {
    expect(keyWindow(w, "a", false, 100)).toBeNull();
  });
});

describe("gripPixels", () => {
  it("widens a narrow window about its centre", () => {
    expect(gripPixels(100, 102, 12)).toEqual([95, 107]);
    expect(gripPixels(100, 130, 12)).toEqual([100, 130]);
  });
});
