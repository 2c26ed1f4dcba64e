// The deepviz notebook widget (anywidget): the app served by the kernel, in an iframe, with its
// state (the URL hash) and hovered image kept in the widget's model, both ways.

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
  model.on("change:height", () => (frame.style.height = `${model.get("height")}px`));
  return () => {
    window.removeEventListener("message", onMessage);
    model.off("change:hash", onHash);
  };
}

export default { render };
