// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { UploadButton } from "../src/upload";

describe("UploadButton", () => {
  it("passes a dropped image file on, and marks the zone while dragging", () => {
    const zone = document.createElement("section");
    const files: string[] = [];
    const button = new UploadButton(zone, (f) => files.push(f.name));
    expect(button.root.querySelector("input")?.dataset.testid).toBe("upload-input");
    const file = new File([new Uint8Array([1, 2, 3])], "cat.png", { type: "image/png" });
    const drag = (type: string, list: File[]): Event => {
      const e = new Event(type, { cancelable: true });
      Object.defineProperty(e, "dataTransfer", { value: { types: ["Files"], files: list } });
      zone.dispatchEvent(e);
      return e;
    };
    expect(drag("dragover", [file]).defaultPrevented).toBe(true);
    expect(zone.classList.contains("dropping")).toBe(true);
    drag("drop", [file]);
    expect(zone.classList.contains("dropping")).toBe(false);
    expect(files).toEqual(["cat.png"]);
  });
});
