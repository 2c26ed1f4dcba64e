// A session as a file: the whole URL state (queries, windows, settings), the project's concepts
// (named sets of image ids, kept by the server) and which build of which project it was made
// on, so a colleague with the same project sees the same view, and a session opened on another
// build says what no longer matches instead of silently showing other images under the same ids.
// Concepts that differ from the project's are restored only when the user agrees: they live in
// the project, and replacing them changes what every page shows.

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
  /** The project's concepts when it was saved (absent in a session saved without a server's concepts). */
  concepts?: SessionConcept[];
}

/** A concept as a session keeps it: its name, its image ids (ascending) and how it was made. */
export interface SessionConcept {
  name: string;
  ids: number[];
  source: string;
}

/** Where the page keeps concepts (the server's store; none in a static site). */
export interface ConceptStore {
  list(): Promise<SessionConcept[]>;
  /** Create `concept`, or replace the members of the one of that name. */
  put(concept: SessionConcept): Promise<unknown>;
  /** The concepts were changed from outside the concept bar: show them again. */
  changed(): void;
}

/** The session's concepts that the project lacks or holds with other members, in words, and those concepts. */
export function conceptChanges(saved: readonly SessionConcept[], current: readonly SessionConcept[]): { differ: SessionConcept[]; words: string[] } {
  const now = new Map(current.map((c) => [c.name, c]));
  const differ: SessionConcept[] = [];
  const words: string[] = [];
  for (const c of saved) {
    const have = now.get(c.name);
    if (!have) words.push(`“${c.name}” (${c.ids.length} images) is not in this project`);
    else if (!sameIds(have.ids, c.ids)) words.push(`“${c.name}” has ${have.ids.length} images here and ${c.ids.length} in the session (${differing(have.ids, c.ids)} differ)`);
    else continue;
    differ.push(c);
  }
  return { differ, words };
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** How many ids are in one of the two sets and not the other. */
function differing(a: readonly number[], b: readonly number[]): number {
  const sa = new Set(a);
  const sb = new Set(b);
  return a.filter((x) => !sb.has(x)).length + b.filter((x) => !sa.has(x)).length;
}

type ProjectFacts = Pick<ProjectInfo, "name" | "revision" | "n" | "feature_sets" | "labels">;

export function makeSession(project: ProjectFacts, state: string, now: Date, concepts?: readonly SessionConcept[]): SessionFile {
  const { name, revision, n, feature_sets } = project;
  const file: SessionFile = { deepviz_session: SESSION_VERSION, saved: now.toISOString(), project: { name, revision, n, feature_sets, labels: project.labels.length }, state };
  if (concepts) file.concepts = concepts.map(({ name, ids, source }) => ({ name, ids: [...ids], source }));
  return file;
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
  const concepts: unknown = s.concepts;
  if (concepts !== undefined && !(Array.isArray(concepts) && concepts.every(isConcept))) {
    throw new Error("this deepviz session's concepts are damaged (each needs a name and a list of image ids); save it again from the page");
  }
  return s as SessionFile;
}

function isConcept(c: unknown): c is SessionConcept {
  if (!c || typeof c !== "object") return false;
  const { name, ids, source } = c as Partial<SessionConcept>;
  return typeof name === "string" && typeof source === "string" && Array.isArray(ids) && ids.every((i) => Number.isInteger(i) && i >= 0);
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

  constructor(
    store: Store,
    project: ProjectFacts,
    private readonly report: (message: string) => void,
    figure?: FigureLink,
    private readonly concepts?: ConceptStore,
    /** Asks the user a yes/no question (window.confirm; tests pass their own). */
    private readonly ask: (question: string) => boolean = (q) => window.confirm(q),
  ) {
    this.root = document.createElement("details");
    this.root.className = "session-menu";
    const summary = document.createElement("summary");
    summary.className = "button";
    summary.textContent = "share";
    summary.dataset.testid = "session-menu";
    const save = document.createElement("button");
    save.type = "button";
    save.textContent = "save session file";
    save.title = "download the queries, windows, settings and concepts as a file to open later or send";
    save.dataset.testid = "session-save";
    save.addEventListener("click", () => {
      this.root.open = false;
      void this.savedConcepts().then((concepts) => download(makeSession(project, store.hash, new Date(), concepts)));
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
          const said = diff.length ? `Session loaded, but ${diff.join("; ")}.` : "";
          if (session.concepts?.length) void this.restoreConcepts(session.concepts, said);
          else if (said) report(said);
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

  /** The concepts to save with the session: none without a store, and none (said so) when they cannot be read. */
  private async savedConcepts(): Promise<SessionConcept[] | undefined> {
    if (!this.concepts) return undefined;
    try {
      return await this.concepts.list();
    } catch (err) {
      this.report(`The session was saved without its concepts: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  /** Offer to restore the session's concepts that differ from the project's, or say what differs. */
  private async restoreConcepts(saved: SessionConcept[], said: string): Promise<void> {
    const report = (text: string): void => this.report(said ? `${said} ${text}` : text);
    if (!this.concepts) {
      report(`The session's ${saved.length} concept(s) are not shown: concepts need deepviz serve.`);
      return;
    }
    try {
      const { differ, words } = conceptChanges(saved, await this.concepts.list());
      if (!differ.length) {
        if (said) this.report(said);
        return;
      }
      const question = `This session's concepts differ from the project's: ${words.join("; ")}. Restore the session's version of ${differ.length === 1 ? "it" : `these ${differ.length}`} in the project?`;
      if (!this.ask(question)) {
        report(`The session's concepts were not restored: ${words.join("; ")}.`);
        return;
      }
      for (const c of differ) await this.concepts.put(c);
      this.concepts.changed();
      report(`Restored ${differ.length} concept(s) from the session: ${differ.map((c) => `“${c.name}”`).join(", ")}.`);
    } catch (err) {
      report(`The session's concepts were not restored: ${err instanceof Error ? err.message : String(err)}`);
    }
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
