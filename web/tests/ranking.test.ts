import { describe, expect, it } from "vitest";
import { columnExtents, fittedDomain } from "../src/downsample";
import { decodeRanking, inversePermutation, simExtent, spearman } from "../src/ranking";

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

function encode(ids: Int32Array, sims: Float32Array): ArrayBuffer {
  const buf = new ArrayBuffer(8 * ids.length);
  const view = new DataView(buf);
  ids.forEach((v, i) => view.setInt32(4 * i, v, true));
  sims.forEach((v, i) => view.setFloat32(4 * (ids.length + i), v, true));
  return buf;
}

describe("decodeRanking", () => {
  it("decodes ids, similarities and the inverse permutation", () => {
    const ids = shuffled(1000, 7);
    const sims = Float32Array.from({ length: 1000 }, (_, i) => 1 - (2 * i) / 999);
    const r = decodeRanking(encode(ids, sims));
    expect(Array.from(r.ids)).toEqual(Array.from(ids));
    expect(r.sims[0]).toBeCloseTo(1);
    expect(r.sims[999]).toBeCloseTo(-1);
    for (let rank = 0; rank < 1000; rank++) expect(r.rankOf[r.ids[rank]]).toBe(rank);
    expect(simExtent(r)[0]).toBeCloseTo(-1);
  });
  it("rejects a truncated buffer and a non-permutation", () => {
    expect(() => decodeRanking(new ArrayBuffer(12))).toThrow(/multiple of 8/);
    expect(() => inversePermutation(new Int32Array([0, 0, 1]))).toThrow(/not a permutation/);
    expect(() => inversePermutation(new Int32Array([0, 3, 1]))).toThrow(/not a permutation/);
  });
});

describe("spearman", () => {
  it("is 1 for equal rankings and -1 for reversed ones", () => {
    const a = shuffled(500, 1);
    const rankA = inversePermutation(a);
    const rev = Int32Array.from(a).reverse();
    expect(spearman(rankA, rankA)).toBeCloseTo(1, 12);
    expect(spearman(rankA, inversePermutation(rev))).toBeCloseTo(-1, 12);
  });
  it("matches the Pearson correlation of the ranks", () => {
    const ra = inversePermutation(shuffled(300, 2));
    const rb = inversePermutation(shuffled(300, 3));
    const n = 300;
    const mean = (n - 1) / 2;
    let cov = 0;
    let va = 0;
    let vb = 0;
    for (let i = 0; i < n; i++) {
      cov += (ra[i] - mean) * (rb[i] - mean);
      va += (ra[i] - mean) ** 2;
      vb += (rb[i] - mean) ** 2;
    }
    expect(spearman(ra, rb)).toBeCloseTo(cov / Math.sqrt(va * vb), 10);
  });
});

describe("columnExtents", () => {
  it("keeps each column's min and max so spikes survive", () => {
    const values = new Float32Array(1000).fill(0);
    values[537] = 0.9;
    values[538] = -0.8;
    const e = columnExtents(values, 10);
    expect(e.max[5]).toBeCloseTo(0.9);
    expect(e.min[5]).toBeCloseTo(-0.8);
    expect(e.max[4]).toBe(0);
  });
  it("shows every point when there are fewer points than columns", () => {
    const e = columnExtents([3, 2, 1], 6);
    expect(Array.from(e.first)).toEqual([3, 3, 2, 2, 1, 1]);
  });
  it("is O(width) in output for a 1M curve", () => {
    const values = Float32Array.from({ length: 1_000_000 }, (_, i) => 1 - i / 500_000);
    const e = columnExtents(values, 400);
    expect(e.min.length).toBe(400);
    expect(e.max[0]).toBeCloseTo(1);
    expect(e.min[399]).toBeCloseTo(-1, 4);
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
