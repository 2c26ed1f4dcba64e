// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { conceptChanges, makeSession, mismatches, readSession, SESSION_VERSION, type SessionConcept, SessionMenu } from "../src/session";
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

describe("concepts in a session", () => {
  const cats: SessionConcept = { name: "cats", ids: [1, 2, 3], source: "lasso" };
  const dogs: SessionConcept = { name: "dogs", ids: [7], source: "" };

  it("are saved with the session and read back; damaged ones are refused", () => {
    const back = readSession(JSON.stringify(makeSession(project, "#q=i3", new Date(), [cats])));
    expect(back.concepts).toEqual([cats]);
    expect(readSession(JSON.stringify(makeSession(project, "#q=i3", new Date()))).concepts).toBeUndefined();
    const bad = { ...makeSession(project, "", new Date()), concepts: [{ name: "x", ids: ["a"], source: "" }] };
    expect(() => readSession(JSON.stringify(bad))).toThrow(/concepts are damaged/);
  });

  it("say which differ from the project's: missing, or other members", () => {
    const { differ, words } = conceptChanges([cats, dogs], [{ ...cats, ids: [1, 2, 4, 5] }, dogs]);
    expect(differ).toEqual([cats]);
    expect(words).toEqual(["“cats” has 4 images here and 3 in the session (3 differ)"]);
    expect(conceptChanges([dogs], []).words).toEqual(["“dogs” (1 images) is not in this project"]);
    expect(conceptChanges([cats], [cats]).differ).toEqual([]);
  });

  it("are restored when the user agrees, and only reported when not", async () => {
    const held: SessionConcept[] = [{ ...cats, ids: [9] }];
    const said: string[] = [];
    let changed = 0;
    const conceptStore = {
      list: () => Promise.resolve(held.map((c) => ({ ...c }))),
      put: (c: SessionConcept) => {
        const i = held.findIndex((h) => h.name === c.name);
        if (i >= 0) held[i] = c;
        else held.push(c);
        return Promise.resolve(c);
      },
      changed: () => changed++,
    };
    const file = new File([JSON.stringify(makeSession(project, "#q=i3", new Date(), [cats, dogs]))], "s.json");
    const open = async (answer: boolean): Promise<void> => {
      const menu = new SessionMenu(new Store(""), project, (m) => said.push(m), undefined, conceptStore, () => answer);
      const input = menu.root.querySelector("input") as HTMLInputElement;
      Object.defineProperty(input, "files", { value: [file], configurable: true });
      input.dispatchEvent(new Event("change"));
      await new Promise((r) => setTimeout(r, 20));
    };
    await open(false);
    expect(held).toEqual([{ ...cats, ids: [9] }]);
    expect(said.pop()).toMatch(/not restored: “cats” has 1 images here and 3 in the session.*“dogs”.*not in this project/);
    await open(true);
    expect(held).toEqual([cats, dogs]);
    expect(changed).toBe(1);
    expect(said.pop()).toMatch(/Restored 2 concept\(s\) from the session: “cats”, “dogs”/);
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
