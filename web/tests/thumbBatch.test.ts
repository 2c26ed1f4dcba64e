import { describe, expect, it } from "vitest";
import { encodeIds, MAX_BATCH_IDS, planBatches, splitBatch } from "../src/thumbBatch";

/** A batch body as the server writes it (deepviz/server/batch.py). */
function body(jpegs: number[][]): ArrayBuffer {
  const header = new Uint32Array(jpegs.length + 2);
  header[0] = jpegs.length;
  let end = 0;
  jpegs.forEach((j, i) => {
    end += j.length;
    header[i + 2] = end;
  });
  const out = new Uint8Array(4 * header.length + end);
  const view = new DataView(out.buffer);
  header.forEach((v, i) => view.setUint32(4 * i, v, true));
  let at = 4 * header.length;
  for (const j of jpegs) {
    out.set(j, at);
    at += j.length;
  }
  return out.buffer;
}

/** A seeded linear congruential generator: the same "random" ids every run. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("planBatches", () => {
  it("puts the lowest priorities in the first batch, each batch sorted by id", () => {
    const ids = [50, 10, 40, 20, 30];
    const priority = [0, 4, 1, 3, 2];
    expect(planBatches(ids, priority, 2)).toEqual([[40, 50], [20, 30], [10]]);
  });
  it("stops after maxBatches and caps a batch at the server's limit", () => {
    const ids = Array.from({ length: 3000 }, (_, i) => i);
    const plan = planBatches(ids, ids, 5000, 2);
    expect(plan.map((b) => b.length)).toEqual([MAX_BATCH_IDS, MAX_BATCH_IDS]);
    expect(plan[1][0]).toBe(MAX_BATCH_IDS);
  });
  it("covers every wanted id exactly once, nearest first, on seeded data", () => {
    const rand = seeded(7);
    const n = 1000;
    const ids = Array.from({ length: n }, () => Math.floor(rand() * 1e6));
    const priority = ids.map(() => rand());
    const plan = planBatches(ids, priority, 64);
    expect(plan.flat().sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    const worst = plan.map((b) => Math.max(...b.map((id) => priority[ids.indexOf(id)])));
    const best = plan.map((b) => Math.min(...b.map((id) => priority[ids.indexOf(id)])));
    for (let i = 1; i < plan.length; i++) expect(best[i]).toBeGreaterThanOrEqual(worst[i - 1]);
  });
  it("plans nothing for nothing", () => {
    expect(planBatches([], [], 256)).toEqual([]);
  });
});

describe("encodeIds", () => {
  it("writes runs of three or more consecutive ids as ranges, in the given order", () => {
    expect(encodeIds([3, 7, 8, 9, 12, 13, 5])).toBe("3,7-9,12,13,5");
    expect(encodeIds([0, 1, 2, 3])).toBe("0-3");
    expect(encodeIds([4, 4, 4])).toBe("4,4,4");
    expect(encodeIds([])).toBe("");
  });
  it("keeps a full batch of seven-digit ids under 8 KB", () => {
    const ids = Array.from({ length: MAX_BATCH_IDS }, (_, i) => 9_000_000 + 2 * i);
    expect(encodeIds(ids).length).toBeLessThan(8192);
  });
});

describe("splitBatch", () => {
  it("returns each JPEG's bytes in order, as views into the answer", () => {
    const buf = body([[1, 2, 3], [], [9], [1, 2, 3]]);
    const parts = splitBatch(buf, 4);
    expect(parts.map((p) => [...p])).toEqual([[1, 2, 3], [], [9], [1, 2, 3]]);
    expect(parts[0].buffer).toBe(buf);
  });
  it("accepts an empty batch", () => {
    expect(splitBatch(body([]), 0)).toEqual([]);
  });
  it("refuses an answer that does not hold together", () => {
    expect(() => splitBatch(new ArrayBuffer(4))).toThrow(/too short/);
    expect(() => splitBatch(body([[1], [2]]), 3)).toThrow(/expected 3/);
    expect(() => splitBatch(body([[1], [2]]).slice(0, 12))).toThrow(/cut short/);
    expect(() => splitBatch(body([[1, 2], [3]]).slice(0, 17))).toThrow(/out of order or range/);
    const extra = new Uint8Array(body([[1]]).byteLength + 1);
    extra.set(new Uint8Array(body([[1]])));
    expect(() => splitBatch(extra.buffer)).toThrow(/after its last/);
    const unordered = new DataView(body([[1, 2], [3]]));
    unordered.setUint32(8, 3, true);
    unordered.setUint32(12, 2, true);
    expect(() => splitBatch(unordered.buffer)).toThrow(/out of order/);
  });
});
