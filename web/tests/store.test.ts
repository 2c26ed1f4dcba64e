// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { flagParam, normaliseUrl, parseHash, type Slice, Store } from "../src/store";

const counter = (key: string, fallback = 0): Slice<number> => ({
  keys: [key],
  parse: (p) => (p.has(key) ? Number(p.get(key)) : fallback),
  serialise: (v) => [[key, String(v)]],
});

describe("Store", () => {
  it("gives each slice its value from the starting hash and writes every slice back", () => {
    const store = new Store("#x=3&y=oops=1");
    const x = store.register(counter("x"));
    const z = store.register(counter("z", 7));
    expect(x.value).toBe(3);
    expect(z.value).toBe(7);
    z.set((v) => v + 1);
    expect(store.hash).toBe("#x=3&z=8");
    expect(parseHash("#y=oops=1").get("y")).toBe("oops=1");
  });
  it("refuses two slices claiming one key", () => {
    const store = new Store("");
    store.register(counter("x"));
    expect(() => store.register(counter("x"))).toThrow(/"x"/);
  });
  it("tells listeners after every change, once per batch", () => {
    const store = new Store("");
    const x = store.register(counter("x"));
    const y = store.register(counter("y"));
    let calls = 0;
    const stop = store.subscribe(() => calls++);
    x.set(1);
    expect(calls).toBe(1);
    store.batch(() => {
      x.set(2);
      y.set(3);
      expect(calls).toBe(1);
    });
    expect(calls).toBe(2);
    stop();
    y.set(4);
    expect(calls).toBe(2);
  });
  it("reads flags with a default for a missing key", () => {
    const p = parseHash("#a=1&b=0");
    expect([flagParam(p, "a", false), flagParam(p, "b", true), flagParam(p, "c", true)]).toEqual([true, false, true]);
    // A malformed flag is a bad link: it reads as the default, not as "off".
    expect(flagParam(parseHash("#b=banana"), "b", true)).toBe(true);
  });
  it("rewrites the URL in its own words: unknown keys dropped, values as the slices read them", () => {
    history.replaceState(null, "", "#b=banana&zz=1");
    const store = new Store(location.hash);
    store.register<boolean>({ keys: ["b"], parse: (p) => flagParam(p, "b", true), serialise: (v) => [["b", v ? "1" : "0"]] });
    normaliseUrl(store);
    expect(location.hash).toBe("#b=1");
  });
});
