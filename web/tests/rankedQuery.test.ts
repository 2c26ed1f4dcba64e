import { describe, expect, it } from "vitest";
import { HEAD, RankedQuery } from "../src/rankedQuery";
import { inversePermutation, type Ranking } from "../src/ranking";
import { curvePoints } from "../src/rankScale";
import { denseSource } from "./denseSource";

/** A seeded ranking of n images: a shuffled order, similarities falling from 1 with ties. */
function ranking(n: number): Ranking {
  let s = 12345;
  const rand = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const ids = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  const sims = Float32Array.from({ length: n }, (_, r) => Math.round((1 - (2 * r) / n) * 500) / 500);
  return { ids, sims, rankOf: inversePermutation(ids) };
}

const settle = (): Promise<void> => new Promise((done) => setTimeout(done, 0));

describe("RankedQuery", () => {
  it("asks only for the head and the last rank first, and knows the extent from them", async () => {
    const dense = ranking(5000);
    const calls: string[] = [];
    const q = await RankedQuery.load(5000, denseSource(dense, calls), () => {});
    expect(calls).toEqual([`at:${HEAD + 1}`]);
    expect(q.extent).toEqual([dense.sims[4999], dense.sims[0]]);
    expect(q.pick([0, 1, 2])).toEqual({ ids: [...dense.ids.slice(0, 3)], sims: [...dense.sims.slice(0, 3)] });
  });
  it("answers ranks, ids, windows and curves equal to the whole ranking once they arrive", async () => {
    const dense = ranking(5000);
    let changes = 0;
    const q = await RankedQuery.load(5000, denseSource(dense), () => changes++);
    const far = [4000, 300, 2500];
    expect(q.pick(far)).toBeNull();
    expect(q.rankOf(dense.ids[3210])).toBeNull();
    expect(q.curve(640, true)).toBeNull();
    expect(q.window(1000, 1100)).toBeNull();
    await settle();
    expect(changes).toBe(4);
    expect(q.pick(far)).toEqual({ ids: far.map((r) => dense.ids[r]), sims: far.map((r) => dense.sims[r]) });
    expect(q.rankOf(dense.ids[3210])).toEqual({ rank: 3210, sim: dense.sims[3210] });
    const want = curvePoints(dense.sims, 640, true);
    const got = q.curve(640, true);
    expect(got && [...got.x]).toEqual(want.map((p) => Math.fround(p[0])));
    expect(got && [...got.sims]).toEqual(want.map((p) => p[1]));
    const lit = q.window(1000, 1100);
    expect(lit && [...lit.ranking.ids.slice(1000, 1100)]).toEqual([...dense.ids.slice(1000, 1100)]);
    expect(lit?.ranking.rankOf[dense.ids[1050]]).toBe(1050);
    expect(lit?.ranking.rankOf[dense.ids[999]]).toBe(-1);
    expect(q.window(4990, 6000)).toBe(lit); // past the end: clamped, fetched once the last one is in
    await settle();
    expect(q.window(4990, 6000)).toMatchObject({ lo: 4990, hi: 5000 });
  });
  it("stretches the nearest curve held while the one for a new width is on its way", async () => {
    const q = await RankedQuery.load(5000, denseSource(ranking(5000)), () => {});
    q.curve(600, false);
    await settle();
    expect(q.curve(610, false)?.width).toBe(600);
    expect(q.curve(610, true)).toBeNull();
  });
});
