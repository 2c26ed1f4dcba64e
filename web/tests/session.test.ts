// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { makeSession, mismatches, readSession, SESSION_VERSION } from "../src/session";
import { Store } from "../src/store";

const project = { name: "emoji", revision: "r1", n: 885, feature_sets: ["mobilenet_v2", "efficientnet_lite0"], labels: ["a", "b"] };

describe("session files", () => {
  it("round-trips the state and names the project it was made on", () => {
    const s = makeSession(project, "#q=i3&a=0", new Date("2026-12-01T00:00:00Z"));
    const back = readSession(JSON.stringify(s));
    expect(back.state).toBe("#q=i3&a=0");
    expect(back.project).toEqual({ name: "emoji", revision: "r1", n: 885, feature_sets: ["mobilenet_v2", "efficientnet_lite0"], labels: 2 });
    expect(back.deepviz_session).toBe(SESSION_VERSION);
    expect(mismatches(back, project)).toEqual([]);
  });
  it("says what no longer matches on another build", () => {
    const s = readSession(JSON.stringify(makeSession(project, "#q=i900", new Date())));
    const now = { ...project, revision: "r2", n: 800, feature_sets: ["mobilenet_v2"] };
    const said = mismatches(s, now).join("; ");
    expect(said).toMatch(/had 885 images and has 800 now/);
    expect(said).toMatch(/id 800 or above has no image/);
    expect(said).toMatch(/“efficientnet_lite0” is not in this project/);
    expect(mismatches(s, { ...project, revision: "r2" }).join()).toMatch(/rebuilt since/);
  });
  it("refuses what is not a session, with what to do", () => {
    expect(() => readSession("<html>")).toThrow(/not JSON/);
    expect(() => readSession('{"a": 1}')).toThrow(/no deepviz_session field/);
    expect(() => readSession('{"deepviz_session": 99, "state": "", "project": {}}')).toThrow(/newer deepviz/);
    expect(() => readSession('{"deepviz_session": 1, "project": {"n": 1}}')).toThrow(/damaged/);
  });
});

describe("Store.load", () => {
  it("replaces every slice's value from a hash and tells listeners once", () => {
    const store = new Store("#x=1");
    const slice = (key: string) => ({ keys: [key], parse: (p: ReadonlyMap<string, string>) => Number(p.get(key) ?? 0), serialise: (v: number): [string, string][] => [[key, String(v)]] });
    const x = store.register(slice("x"));
    const y = store.register(slice("y"));
    let calls = 0;
    store.subscribe(() => calls++);
    store.load("#y=5");
    expect([x.value, y.value, calls]).toEqual([0, 5, 1]);
  });
});
