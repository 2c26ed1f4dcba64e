// The drag handle between the map and the query pane; reports the map's share of the width.

export function splitter(handle: HTMLElement, container: HTMLElement, onChange: (fraction: number, final: boolean) => void): void {
  handle.dataset.testid = "pane-splitter";
  handle.setAttribute("role", "separator");
  handle.setAttribute("aria-orientation", "vertical");
  handle.title = "drag to resize the panes";
  let dragging = false;
  const fraction = (clientX: number): number => {
    const r = container.getBoundingClientRect();
    return Math.min(0.85, Math.max(0.15, (clientX - r.left) / r.width));
  };
  handle.addEventListener("pointerdown", (e) => {
    dragging = true;
    handle.setPointerCapture(e.pointerId);
    e.preventDefault();
  });
  handle.addEventListener("pointermove", (e) => {
    if (dragging) onChange(fraction(e.clientX), false);
  });
  const stop = (e: PointerEvent): void => {
    if (!dragging) return;
    dragging = false;
    onChange(fraction(e.clientX), true);
  };
  handle.addEventListener("pointerup", stop);
  handle.addEventListener("pointercancel", stop);
}
