// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { TextQueryBox } from "../src/textQuery";

const submit = (box: TextQueryBox, text: string): void => {
  const input = box.root.querySelector("input");
  if (!input) throw new Error("no input");
  input.value = text;
  box.root.dispatchEvent(new Event("submit", { cancelable: true }));
};

describe("TextQueryBox", () => {
  it("is shown only for a feature set with a text tower", () => {
    const box = new TextQueryBox(["clip"], () => Promise.resolve());
    expect(box.root.hidden).toBe(true);
    box.render("clip");
    expect(box.root.hidden).toBe(false);
    box.render("dinov2");
    expect(box.root.hidden).toBe(true);
  });

  it("sends the trimmed text once, clears it when ranked, and keeps it when the server refuses", async () => {
    const sent: string[] = [];
    let answer: Promise<unknown> = Promise.resolve();
    const box = new TextQueryBox(["clip"], (text) => {
      sent.push(text);
      return answer;
    });
    const input = box.root.querySelector("input") as HTMLInputElement;
    submit(box, "  a red square ");
    expect(sent).toEqual(["a red square"]);
    expect(input.disabled).toBe(true);
    submit(box, "again while busy");
    expect(sent).toEqual(["a red square"]);
    await answer;
    await Promise.resolve();
    expect(input.value).toBe("");
    expect(input.disabled).toBe(false);
    submit(box, "   ");
    expect(sent).toEqual(["a red square"]);
    answer = Promise.reject(new Error("409"));
    answer.catch(() => undefined);
    submit(box, "blue cat");
    await answer.catch(() => undefined);
    await Promise.resolve();
    expect(input.value).toBe("blue cat");
    expect(input.disabled).toBe(false);
  });
});
