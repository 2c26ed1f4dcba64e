// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { showEmptyProject } from "../src/emptyProject";

describe("empty project", () => {
  it("replaces the app with a message saying what to run", () => {
    const app = document.createElement("div");
    app.append(document.createElement("section"));
    expect(showEmptyProject(app, { name: "photos", n: 0 })).toBe(true);
    expect(app.textContent).toContain("“photos” has no images");
    expect(app.textContent).toContain("deepviz build");
    expect(document.body.dataset.ready).toBe("empty");
  });
  it("leaves a project with images alone", () => {
    const app = document.createElement("div");
    expect(showEmptyProject(app, { name: "p", n: 3 })).toBe(false);
    expect(app.children.length).toBe(0);
  });
});
