import { describe, expect, it } from "vitest";
import { basename, imageName, placeholderName, uploadName } from "../src/queryName";

describe("query names", () => {
  it("take the path's last part", () => {
    expect(basename("faces/2015/img_0001.jpg")).toBe("img_0001.jpg");
    expect(basename("a.png")).toBe("a.png");
    expect(basename("dir\\b.png")).toBe("b.png");
  });
  it("name images by file and label, uploads by the file the user chose", () => {
    expect(imageName({ path: "cats/tom.jpg", label: "cats" })).toEqual({ name: "tom.jpg", path: "cats/tom.jpg", label: "cats" });
    expect(uploadName("holiday.png").name).toBe("holiday.png");
    expect(uploadName("").name).toBe("uploaded image");
    expect(placeholderName({ kind: "upload", key: "u1" }).name).toBe("uploaded image");
    expect(placeholderName({ kind: "image", id: 4 }).name).toBe("image 4");
  });
});
