// What the page shows for a project with no images: a message saying so and what to run,
// instead of an empty map and a query pane that breaks on the first upload.

import { element } from "./dom";

/** Replace the app with the message when the project has no images; true if it did. */
export function showEmptyProject(app: HTMLElement, project: { name: string; n: number }): boolean {
  if (project.n > 0) return false;
  const box = element("div", "empty-project");
  box.dataset.testid = "empty-project";
  const title = element("h1", "");
  title.textContent = `The project “${project.name}” has no images.`;
  const help = element("p", "");
  help.textContent =
    "Its build found no image it could decode. Check the folder it was built from (nested folders give labels), then build it again with `deepviz build PATH/TO/IMAGES -o PROJECT` and run `deepviz serve PROJECT`.";
  box.append(title, help);
  app.replaceChildren(box);
  document.body.dataset.ready = "empty";
  return true;
}
