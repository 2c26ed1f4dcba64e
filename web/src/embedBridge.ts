// The app inside the notebook widget's iframe: it tells the parent page its state (the URL hash),
// the hovered image and that it is ready, and takes from it a new hash (Python added a query or set
// a brush) and the ids to highlight (`view.highlight`), which the page can clear. Outside an iframe it does nothing.

import type { Highlight } from "./highlight";
import type { Marks } from "./marks";
import type { Store } from "./store";

/** Messages between the app and the widget (deepviz/notebook/widget.js). */
export type BridgeMessage =
  | { type: "deepviz:ready" }
  | { type: "deepviz:state"; hash: string }
  | { type: "deepviz:hover"; id: number | null }
  | { type: "deepviz:marked"; ids: Int32Array }
  | { type: "deepviz:load"; hash: string }
  | { type: "deepviz:mark"; ids: ArrayLike<number> };

export function bridgeToParent(store: Store, highlight: Highlight, marks: Marks, win: Window = window): void {
  if (win.parent === win) return;
  const post = (message: BridgeMessage): void => win.parent.postMessage(message, "*");
  let sent = "";
  const sendState = (): void => {
    if (store.hash === sent) return;
    sent = store.hash;
    post({ type: "deepviz:state", hash: sent });
  };
  let hovered: number | null = null;
  highlight.subscribe((h) => {
    const id = h ? h.id : null;
    if (id === hovered) return; // the pointer moving over one image is not news
    hovered = id;
    post({ type: "deepviz:hover", id });
  });
  // Only a clear made on the page is news to the widget: marks it sent are not echoed back.
  marks.onClear(() => post({ type: "deepviz:marked", ids: marks.current }));
  win.addEventListener("message", (e: MessageEvent<unknown>) => {
    if (e.source !== win.parent) return;
    if (isLoad(e.data)) store.load(e.data.hash);
    else if (isMark(e.data)) marks.set(e.data.ids);
  });
  store.subscribe(sendState);
  sendState();
  post({ type: "deepviz:ready" }); // the widget answers with the marks, which a reloaded page has lost
}

function isLoad(data: unknown): data is { type: "deepviz:load"; hash: string } {
  if (typeof data !== "object" || data === null) return false;
  const d = data as Record<string, unknown>;
  return d.type === "deepviz:load" && typeof d.hash === "string";
}

function isMark(data: unknown): data is { type: "deepviz:mark"; ids: ArrayLike<number> } {
  if (typeof data !== "object" || data === null) return false;
  const d = data as Record<string, unknown>;
  return d.type === "deepviz:mark" && (Array.isArray(d.ids) || d.ids instanceof Int32Array);
}
