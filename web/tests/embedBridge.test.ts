// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { type BridgeMessage, bridgeToParent } from "../src/embedBridge";
import { Highlight } from "../src/highlight";
import { Marks } from "../src/marks";
import { Store } from "../src/store";

/** A window inside a frame: messages to the parent are collected, messages from it are delivered by `receive`. */
function framedWindow(): { win: Window; sent: BridgeMessage[]; receive: (data: unknown, fromParent?: boolean) => void } {
  const sent: BridgeMessage[] = [];
  const parent = { postMessage: (m: BridgeMessage) => sent.push(m) };
  const handlers: ((e: MessageEvent) => void)[] = [];
  const win = {
    parent,
    addEventListener: (_type: string, fn: (e: MessageEvent) => void) => handlers.push(fn),
  } as unknown as Window;
  const receive = (data: unknown, fromParent = true): void => {
    for (const fn of handlers) fn({ data, source: fromParent ? parent : {} } as unknown as MessageEvent);
  };
  return { win, sent, receive };
}

const marks = (): Marks => new Marks(() => new Int32Array(20), () => undefined); // 10 images

const counter = (store: Store) =>
  store.register<number>({ keys: ["n"], parse: (p) => Number(p.get("n") ?? 0), serialise: (v) => [["n", String(v)]] });

describe("bridgeToParent", () => {
  it("tells the parent the state once per change, and the hovered image once per image", () => {
    const store = new Store("#n=1");
    const cell = counter(store);
    const highlight = new Highlight();
    const { win, sent } = framedWindow();
    bridgeToParent(store, highlight, marks(), win);
    expect(sent).toEqual([{ type: "deepviz:state", hash: "#n=1" }, { type: "deepviz:ready" }]);
    cell.set(2);
    cell.set(2);
    highlight.set({ id: 7, source: "map", clientX: 1, clientY: 1 });
    highlight.set({ id: 7, source: "map", clientX: 5, clientY: 1 });
    highlight.set(null);
    expect(sent.slice(2)).toEqual([
      { type: "deepviz:state", hash: "#n=2" },
      { type: "deepviz:hover", id: 7 },
      { type: "deepviz:hover", id: null },
    ]);
  });

  it("loads a hash sent by the parent and ignores other senders and other messages", () => {
    const store = new Store("#n=1");
    const cell = counter(store);
    const { win, sent, receive } = framedWindow();
    bridgeToParent(store, new Highlight(), marks(), win);
    receive({ type: "deepviz:load", hash: "#n=5" }, false);
    receive({ type: "deepviz:load", hash: 5 });
    receive("#n=6");
    expect(cell.value).toBe(1);
    receive({ type: "deepviz:load", hash: "#n=9" });
    expect(cell.value).toBe(9);
    expect(sent.at(-1)).toEqual({ type: "deepviz:state", hash: "#n=9" });
  });

  it("does nothing in a top-level window", () => {
    const store = new Store("");
    const win = { addEventListener: () => undefined } as unknown as Window;
    (win as unknown as { parent: Window }).parent = win;
    expect(() => bridgeToParent(store, new Highlight(), marks(), win)).not.toThrow();
  });

  it("marks the ids the parent sends, and tells it only of a clear made on the page", () => {
    const m = marks();
    const { win, sent, receive } = framedWindow();
    bridgeToParent(new Store(""), new Highlight(), m, win);
    receive({ type: "deepviz:mark", ids: new Int32Array([4, 2]) }, false);
    receive({ type: "deepviz:mark", ids: "4,2" });
    expect(m.current.length).toBe(0);
    receive({ type: "deepviz:mark", ids: new Int32Array([4, 2]) });
    expect(Array.from(m.current)).toEqual([2, 4]);
    receive({ type: "deepviz:mark", ids: [7] });
    expect(Array.from(m.current)).toEqual([7]);
    expect(sent.filter((s) => s.type === "deepviz:marked")).toEqual([]);
    m.root.click();
    expect(sent.at(-1)).toEqual({ type: "deepviz:marked", ids: new Int32Array(0) });
  });
});
