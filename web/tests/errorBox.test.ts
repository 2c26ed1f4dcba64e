// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { ErrorBox } from "../src/errorBox";

describe("ErrorBox", () => {
  it("shows a message until clicked", () => {
    const box = new ErrorBox();
    expect(box.root.hidden).toBe(true);
    box.show("Upload failed: not an image");
    expect(box.root.hidden).toBe(false);
    expect(box.root.textContent).toBe("Upload failed: not an image");
    box.root.click();
    expect(box.root.hidden).toBe(true);
  });
});
