// A project whose build is still running: its progress, shown until the build commits, then the
// page reloads to the finished map. A first build (no images yet) takes the whole page; a rebuild
// gets a small notice over the map it still shows (the last committed version), and so does a
// first build's preview (its map laid out, its thumbnails still being made).

import { element } from "./dom";

export interface BuildStatus {
  stage: string;
  done: number;
  total: number;
}

interface Building {
  name: string;
  n: number;
  building?: BuildStatus | null;
  preview?: boolean;
}

/** How often the page asks how far the build has got (ms). */
export const POLL_MS = 1000;

/** "decode + features + thumbnails: 2,048 of 100,000 (2%)", or the stage alone when it has no steps. */
export function progressText({ stage, done, total }: BuildStatus): string {
  if (total <= 0) return stage;
  const pct = Math.floor((100 * done) / total);
  return `${stage}: ${done.toLocaleString("en")} of ${total.toLocaleString("en")} (${pct}%)`;
}

/**
 * Show the build's progress when ``project`` is being built, and keep asking ``poll`` until the
 * build is over, then ``done()`` (the page reloads). True when the project has no committed
 * version yet, so the caller must not draw a map.
 */
export function showBuilding(app: HTMLElement, project: Building, poll: () => Promise<Building>, done: () => void): boolean {
  if (!project.building) return false;
  const first = project.n === 0;
  const box = element("div", first ? "building building-first" : "building");
  box.dataset.testid = "building";
  const title = element(first ? "h1" : "strong", "");
  title.textContent = first
    ? `Building “${project.name}”…`
    : project.preview
      ? "A preview: the map is laid out and ranks, but its thumbnails are still being made (images show their label's colour). The page reloads when the build is done."
      : "A new version is being built; this is the last finished one.";
  const line = element("p", "");
  line.dataset.testid = "building-progress";
  line.textContent = progressText(project.building);
  box.append(title, line);
  if (first) {
    app.replaceChildren(box);
    document.body.dataset.ready = "building";
  } else {
    document.body.append(box);
  }
  const tick = (): void => {
    poll().then(
      (next) => {
        if (!next.building || (first && next.n > 0)) return done();
        line.textContent = progressText(next.building);
        setTimeout(tick, POLL_MS);
      },
      () => setTimeout(tick, POLL_MS), // the server restarting, say: ask again
    );
  };
  setTimeout(tick, POLL_MS);
  return first;
}
