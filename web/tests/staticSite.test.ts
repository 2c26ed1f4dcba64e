// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { chunkedSource, MAX_CHUNKS, rankBy, similaritiesTo, spearmanOf, wholeSource } from "../src/staticRanking";
import { siteConfigUrl } from "../src/staticSite";
import { splitTile, tileOf } from "../src/staticTiles";

/** A tile file as deepviz/export/site.py writes it. */
function tile(entries: [number, number[]][]): ArrayBuffer {
  const k = entries.length;
  const head = new Uint32Array(2 * k + 2);
  head[0] = k;
  let at = 0;
  entries.forEach(([id, bytes], i) => {
    head[1 + i] = id;
    head[1 + k + i] = at;
    at += bytes.length;
  });
  head[1 + 2 * k] = at;
  const out = new Uint8Array(head.byteLength + at);
  out.set(new Uint8Array(head.buffer));
  out.set(entries.flatMap(([, b]) => b), head.byteLength);
  return out.buffer;
}

describe("static site", () => {
  it("finds the config named in index.html, and none on a served page", () => {
    document.head.innerHTML = "";
    expect(siteConfigUrl()).toBeNull();
    document.head.innerHTML = '<meta name="deepviz-site" content="deepviz-site.json">';
    expect(siteConfigUrl()).toBe("deepviz-site.json");
  });

  it("cuts a tile file into each image's bytes and refuses a truncated one", () => {
    const parts = splitTile(tile([[7, [1, 2, 3]], [2, []], [40, [9]]]));
    expect([...parts.keys()]).toEqual([7, 2, 40]);
    expect([...(parts.get(7) ?? [])]).toEqual([1, 2, 3]);
    expect(parts.get(2)?.length).toBe(0);
    expect([...(parts.get(40) ?? [])]).toEqual([9]);
    expect(() => splitTile(tile([[1, [1, 2]]]).slice(0, 17))).toThrow(/past its end/);
  });

  it("names an image's tile by its cell's block of the grid", () => {
    const grid = Int32Array.from([0, 0, 15, 16, 16, 15, 33, 2]);
    expect([0, 1, 2, 3].map((id) => tileOf(grid, id, 16))).toEqual(["t0_0", "t0_1", "t1_0", "t2_0"]);
  });

  it("ranks int8 rows like the server: dot products of the dequantised rows, ties by lower id", () => {
    // unit rows: 0 and 2 the same direction, 1 orthogonal, 3 opposite; 4 is half of 0 (scale 0.5 / 127)
    const f = { q: Int8Array.from([127, 0, 0, 127, 127, 0, -127, 0, 127, 0]), scale: Float32Array.from([1, 1, 1, 1, 0.5].map((s) => s / 127)), d: 2 };
    const sims = similaritiesTo(f, 2);
    expect([...sims].map((s) => Math.round(s * 1e4) / 1e4)).toEqual([1, 0, 1, -1, 0.5]);
    const r = rankBy(Float32Array.from([0.5, 0.9, 0.5, -1]));
    expect([...r.ids]).toEqual([1, 0, 2, 3]);
    expect([...r.rankOf]).toEqual([1, 0, 2, 3]);
    expect(spearmanOf(r, r)).toBe(1);
    expect(spearmanOf(r, rankBy(Float32Array.from([-0.5, -0.9, -0.6, 1])))).toBeCloseTo(-1 + (6 * 2) / (4 * 15), 10);
  });

  it("answers a whole ranking's windows, ranks and curve", async () => {
    const source = wholeSource(() => Promise.resolve(rankBy(Float32Array.from([0.1, 0.9, 0.5]))));
    expect([...(await source.window(0, 2)).ids]).toEqual([1, 2]);
    expect([...(await source.of([0])).ranks]).toEqual([2]);
    const curve = await source.curve(300, false);
    expect([...curve.sims].map((s) => Math.round(s * 10) / 10)).toEqual([0.9, 0.5, 0.1]);
  });

  it("reads only the chunks a view asks for, and holds a bounded number of them", async () => {
    const n = 10;
    const order = [4, 3, 9, 0, 1, 2, 5, 6, 7, 8];
    const rankOf = new Int32Array(n);
    order.forEach((id, r) => (rankOf[id] = r));
    const files: Record<string, ArrayBuffer> = {};
    for (let k = 0; k < 4; k++) {
      files[`q/order-${k}.i32`] = Int32Array.from(order.slice(3 * k, 3 * k + 3)).buffer;
      files[`q/sims-${k}.f32`] = Float32Array.from(order.slice(3 * k, 3 * k + 3).map((_, i) => 1 - (3 * k + i) / 10)).buffer;
      files[`q/rank-${k}.i32`] = rankOf.slice(3 * k, 3 * k + 3).buffer;
    }
    files["q/curve-lin.f32"] = Float32Array.from([10, 20, 1, 0.5]).buffer;
    const asked: string[] = [];
    const source = chunkedSource("q", n, 3, 100, (url) => {
      asked.push(url);
      return Promise.resolve(files[url].slice(0));
    });
    const w = await source.window(2, 5);
    expect([...w.ids]).toEqual([9, 0, 1]);
    expect(asked.sort()).toEqual(["q/order-0.i32", "q/order-1.i32", "q/sims-0.f32", "q/sims-1.f32"]);
    const of = await source.of([9, 8]);
    expect([...of.ranks]).toEqual([2, 9]);
    expect(of.sims[1]).toBeCloseTo(0.1);
    const curve = await source.curve(50, false);
    expect([...curve.x]).toEqual([5, 10]);
    expect(MAX_CHUNKS).toBeLessThanOrEqual(64);
  });
});
