// Small DOM builders shared by the components: a toolbar checkbox and a toolbar select.

/** `<label title>INPUT text</label>` with a checkbox carrying `testid`. */
export function checkbox(text: string, testid: string, title: string): { label: HTMLLabelElement; input: HTMLInputElement } {
  const label = document.createElement("label");
  label.title = title;
  const input = document.createElement("input");
  input.type = "checkbox";
  input.dataset.testid = testid;
  label.append(input, ` ${text}`);
  return { label, input };
}

/** `<label title>text SELECT</label>` with the given [value, text] options. */
export function select(
  text: string,
  testid: string,
  title: string,
  options: readonly (readonly [string, string])[],
): { label: HTMLLabelElement; select: HTMLSelectElement } {
  const label = document.createElement("label");
  label.title = title;
  const sel = document.createElement("select");
  sel.dataset.testid = testid;
  for (const [value, name] of options) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = name;
    sel.append(option);
  }
  label.append(`${text} `, sel);
  return { label, select: sel };
}

/** An element of `tag` with class `className`. */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  el.className = className;
  return el;
}
