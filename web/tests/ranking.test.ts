import { describe, expect, it } from "vitest";
import { fittedDomain } from "../src/downsample";
import { inversePermutation } from "../src/ranking";

/** Seeded LCG so the "random" permutations are the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function shuffled(n: number, seed: number): Int32Array {
  const r = rng(seed);
  const a = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

describe("inversePermutation", () => {
  it("gives each id its rank", () => {
    const ids = shuffled(1000, 7);
    const rankOf = inversePermutation(ids);
    for (let rank = 0; rank < 1000; rank++) expect(rankOf[ids[rank]]).toBe(rank);
  });
  it("rejects a non-permutation", () => {
    expect(() => inversePermutation(new Int32Array([0, 0, 1]))).toThrow(/not a permutation/);
    expect(() => inversePermutation(new Int32Array([0, 3, 1]))).toThrow(/not a permutation/);
  });
});

describe("fittedDomain", () => {
  it("pads the union of extents and defaults to [-1, 1]", () => {
    const [lo, hi] = fittedDomain([
      [0.2, 0.9],
      [-0.1, 0.5],
    ]);
    expect(lo).toBeLessThan(-0.1);
    expect(hi).toBeGreaterThan(0.9);
    expect(fittedDomain([])).toEqual([-1, 1]);
  });
  it("never pads past [-1, 1], where a similarity cannot go", () => {
    const [lo, hi] = fittedDomain([[0.35, 1]]);
    expect(hi).toBe(1);
    expect(lo).toBeCloseTo(0.35 - 0.65 * 0.04, 10);
    expect(fittedDomain([[-1, -0.2]])[0]).toBe(-1);
    const flat = fittedDomain([[0.9999999, 1]]);
    expect(flat[1]).toBe(1);
    expect(flat[0]).toBeCloseTo(0.9499999, 9);
    expect(fittedDomain([[0.5, 1.0000001]])[1]).toBe(1.0000001); // float rounding past 1: the data stays inside
  });
});
