// A session as a file: the whole URL state (queries, windows, settings) and which build of
// which project it was made on, so a colleague with the same project sees the same view, and
// a session opened on another build says what no longer matches instead of silently showing
// other images under the same ids.

import type { ProjectInfo } from "./api";
import type { Store } from "./store";

export const SESSION_VERSION = 1;

/** What a session file holds (JSON). */
export interface SessionFile {
  deepviz_session: number;
  saved: string;
  project: { name: string; revision: string; n: number; feature_sets: string[]; labels: number };
  /** The app's URL state, "#q=...&a=...", in the store's own words. */
  state: string;
}

type ProjectFacts = Pick<ProjectInfo, "name" | "revision" | "n" | "feature_sets" | "labels">;

export function makeSession(project: ProjectFacts, state: string, now: Date): SessionFile {
  const { name, revision, n, feature_sets } = project;
  return { deepviz_session: SESSION_VERSION, saved: now.toISOString(), project: { name, revision, n, feature_sets, labels: project.labels.length }, state };
}

/** The session in `text`, or an Error saying why the file is not one this page can open. */
export function readSession(text: string): SessionFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error("this file is not a deepviz session (it is not JSON); choose a file saved with “save session”");
  }
  const s = data as Partial<SessionFile> | null;
  if (!s || typeof s !== "object" || typeof s.deepviz_session !== "number") {
    throw new Error("this file is not a deepviz session (no deepviz_session field); choose a file saved with “save session”");
  }
  if (s.deepviz_session > SESSION_VERSION) {
    throw new Error(`this session was saved by a newer deepviz (session version ${s.deepviz_session}); upgrade deepviz to open it`);
  }
  const p = s.project;
  if (typeof s.state !== "string" || !p || typeof p.n !== "number" || typeof p.revision !== "string" || !Array.isArray(p.feature_sets)) {
    throw new Error("this deepviz session is damaged (its state or project is missing); save it again from the page");
  }
  return s as SessionFile;
}

/** What differs between the project the session was made on and this one, in words (empty: it matches). */
export function mismatches(session: SessionFile, project: ProjectFacts): string[] {
  const was = session.project;
  const out: string[] = [];
  if (was.name !== project.name) out.push(`it was saved on project “${was.name}”, this is “${project.name}”`);
  if (was.revision !== project.revision) {
    out.push(
      was.n === project.n
        ? "the project was rebuilt since: an image id may now be another image"
        : `the project had ${was.n} images and has ${project.n} now: an image id may now be another image` +
            (project.n < was.n ? `, and a query of id ${project.n} or above has no image` : ""),
    );
  }
  const gone = was.feature_sets.filter((f) => !project.feature_sets.includes(f));
  if (gone.length) out.push(`feature set ${gone.map((f) => `“${f}”`).join(", ")} is not in this project (the default is used)`);
  return out;
}

/** Where a figure of the current queries is drawn (`api/figure?...`), or why there is none. */
export type FigureLink = (format: "svg" | "png") => { url: string; note?: string } | { error: string };

/** The "share" menu in the map toolbar: save the view as a file, open one, or export a figure. */
export class SessionMenu {
  readonly root: HTMLDetailsElement;

  constructor(store: Store, project: ProjectFacts, report: (message: string) => void, figure?: FigureLink) {
    this.root = document.createElement("details");
    this.root.className = "session-menu";
    const summary = document.createElement("summary");
    summary.className = "button";
    summary.textContent = "share";
    summary.dataset.testid = "session-menu";
    const save = document.createElement("button");
    save.type = "button";
    save.textContent = "save session file";
    save.title = "download the queries, windows and settings as a file to open later or send";
    save.dataset.testid = "session-save";
    save.addEventListener("click", () => {
      download(makeSession(project, store.hash, new Date()));
      this.root.open = false;
    });
    const load = document.createElement("label");
    load.className = "button";
    load.title = "open a session file saved from this page";
    const input = document.createElement("input");
    input.type = "file";
    input.accept = ".json,application/json";
    input.hidden = true;
    input.dataset.testid = "session-load";
    load.append("open session file… ", input);
    input.addEventListener("change", () => {
      const file = input.files?.[0];
      input.value = "";
      this.root.open = false;
      if (!file) return;
      void file.text().then((text) => {
        try {
          const session = readSession(text);
          store.load(session.state);
          const diff = mismatches(session, project);
          if (diff.length) report(`Session loaded, but ${diff.join("; ")}.`);
        } catch (err) {
          report(`The session was not loaded: ${err instanceof Error ? err.message : String(err)}`);
        }
      });
    });
    const menu = document.createElement("div");
    menu.className = "session-items";
    menu.append(save, load);
    if (figure) menu.append(...(["svg", "png"] as const).map((format) => this.figureItem(format, figure, report)));
    this.root.append(summary, menu);
  }

  private figureItem(format: "svg" | "png", figure: FigureLink, report: (message: string) => void): HTMLButtonElement {
    const item = document.createElement("button");
    item.type = "button";
    item.textContent = format === "svg" ? "figure of the queries (SVG)" : "figure of the queries (PNG, 300 dpi)";
    item.title = "the overlay, each query's curve with its window and strip, drawn for a paper (as `deepviz figure`)";
    item.dataset.testid = `figure-${format}`;
    item.addEventListener("click", () => {
      this.root.open = false;
      const link = figure(format);
      if ("error" in link) {
        report(link.error);
        return;
      }
      if (link.note) report(link.note);
      const a = document.createElement("a");
      a.href = link.url;
      a.download = "";
      a.click();
    });
    return item;
  }
}

function download(session: SessionFile): void {
  const blob = new Blob([JSON.stringify(session, null, 2)], { type: "application/json" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `${session.project.name}-session.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 0);
}
