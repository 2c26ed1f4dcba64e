// The app inside the notebook widget's iframe: it tells the parent page its state (the URL hash)
// and the hovered image, and takes a new hash from it when Python adds a query or sets a brush.
// Outside an iframe it does nothing.

import type { Highlight } from "./highlight";
import type { Store } from "./store";

/** Messages between the app and the widget (deepviz/notebook/widget.js). */
export type BridgeMessage =
  | { type: "deepviz:state"; hash: string }
  | { type: "deepviz:hover"; id: number | null }
  | { type: "deepviz:load"; hash: string };

export function bridgeToParent(store: Store, highlight: Highlight, win: Window = window): void {
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
  win.addEventListener("message", (e: MessageEvent<unknown>) => {
    if (e.source !== win.parent || !isLoad(e.data)) return;
    store.load(e.data.hash);
  });
  store.subscribe(sendState);
  sendState();
}

function isLoad(data: unknown): data is { type: "deepviz:load"; hash: string } {
  if (typeof data !== "object" || data === null) return false;
  const d = data as Record<string, unknown>;
  return d.type === "deepviz:load" && typeof d.hash === "string";
}
