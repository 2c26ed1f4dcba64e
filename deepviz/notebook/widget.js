// The deepviz notebook widget (anywidget): the app served by the kernel, in an iframe, with its
// state (the URL hash), hovered image and highlighted ids kept in the widget's model, both ways.

/** The model's highlight_ids (int32 little-endian bytes, a DataView here) as an Int32Array copy. */
function idsOf(value) {
  if (!value || !value.byteLength) return new Int32Array(0);
  const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
  return new Int32Array(bytes.buffer);
}

function render({ model, el }) {
  const base = model.get("src");
  const origin = new URL(base).origin;
  const frame = document.createElement("iframe");
  frame.title = "deepviz";
  frame.style.width = "100%";
  frame.style.border = "1px solid #ddd";
  frame.style.height = `${model.get("height")}px`;
  frame.src = base + model.get("hash");
  el.appendChild(frame);

  const sendMarks = () => frame.contentWindow?.postMessage({ type: "deepviz:mark", ids: idsOf(model.get("highlight_ids")) }, origin);
  let hash = model.get("hash");
  const onMessage = (e) => {
    if (e.source !== frame.contentWindow || e.origin !== origin) return;
    const data = e.data || {};
    if (data.type === "deepviz:state" && typeof data.hash === "string" && data.hash !== hash) {
      hash = data.hash;
      model.set("hash", hash);
      model.save_changes();
    } else if (data.type === "deepviz:hover") {
      model.set("hovered", typeof data.id === "number" ? data.id : null);
      model.save_changes();
    } else if (data.type === "deepviz:ready") {
      sendMarks(); // a page that just (re)loaded has no marks yet
    } else if (data.type === "deepviz:marked" && data.ids instanceof Int32Array) {
      model.set("highlight_ids", new DataView(data.ids.slice().buffer));
      model.save_changes();
    }
  };
  window.addEventListener("message", onMessage);
  const onHash = () => {
    const next = model.get("hash");
    if (next === hash) return;
    hash = next;
    frame.contentWindow?.postMessage({ type: "deepviz:load", hash: next }, origin);
  };
  model.on("change:hash", onHash);
  model.on("change:highlight_ids", sendMarks);
  model.on("change:height", () => (frame.style.height = `${model.get("height")}px`));
  return () => {
    window.removeEventListener("message", onMessage);
    model.off("change:hash", onHash);
    model.off("change:highlight_ids", sendMarks);
  };
}

export default { render };
