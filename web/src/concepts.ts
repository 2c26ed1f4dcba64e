// Concepts in the page (`c`: the active concept, `ck`: the k of its precision@k and recall@k):
// a bar above the map to choose, make, rename and delete concepts, and to add images to the
// active one by clicking them, by a lasso on the map, by a label, or from the active query's
// top k or brushed window. The concepts live on the server (concepts.json in the project);
// the map outlines the active concept's members.

import { element, select } from "./dom";
import { outlineCells, type Viewport } from "./mapDraw";
import { type ConceptInfo, conceptsApi } from "./conceptsApi";
import { Lasso, idsInPolygon } from "./lasso";
import { type Cell, intParam, safeDecode, type Slice, type Store } from "./store";

export const CONCEPT_COLOUR = "#d6007a";
const DEFAULT_K = 10;
const NO_IDS: number[] = [];
/** The concept select's actions, in values no concept name can have (a name has no control character). */
const NEW = "\u0001new";
const RENAME = "\u0001rename";
const DELETE = "\u0001delete";

export interface ConceptState {
  /** The active concept's name, null for none. */
  name: string | null;
  k: number;
}

export const conceptSlice: Slice<ConceptState> = {
  keys: ["c", "ck"],
  parse: (params) => {
    const c = params.get("c");
    const k = intParam(params.get("ck"));
    return { name: c ? safeDecode(c) : null, k: k !== null && k >= 1 ? k : DEFAULT_K };
  },
  serialise: (v) => [...(v.name === null ? [] : [["c", encodeURIComponent(v.name)] as [string, string]]), ["ck", String(v.k)]],
};

/** What the bar needs from the rest of the page. */
export interface ConceptHost {
  /** (N, 2) [row, col] per id, flattened. */
  /** The grid the map shows now (it changes when the map is fitted to its pane). */
  grid(): Int32Array;
  labels: Int32Array;
  labelNames: readonly string[];
  /** The map's current viewport (for the lasso). */
  viewport(): Viewport;
  /** Ids at ranks [lo, hi) of the active query's ranking (asked of the server), or null with no query; and its window. */
  activeRanks(lo: number, hi: number): Promise<Int32Array | null>;
  activeWindow(): { lo: number; hi: number } | null;
  /** The members changed: redraw the map. */
  redrawMap(): void;
  /** The concepts changed on the server: render the page again (rows show new figures). */
  refresh(): void;
  error(message: string): void;
  /** A static site (deepviz export) has no concepts store: the bar is hidden and never asks. */
  serverless?: boolean;
}

export class ConceptBar {
  readonly root: HTMLElement;
  readonly cell: Cell<ConceptState>;
  readonly lasso: Lasso;
  private concepts: ConceptInfo[] = [];
  /** Bumped by every change of a concept, so cached figures are refetched. */
  version = 0;
  /** (N,) 1 for each member of the active concept. */
  members: Uint8Array;
  private memberIds: number[] = NO_IDS;
  private readonly picker: HTMLSelectElement;
  private readonly adder: HTMLSelectElement;
  private readonly kInput: HTMLInputElement;
  private mode: "off" | "click" | "lasso" = "off";

  constructor(
    store: Store,
    private readonly host: ConceptHost,
    extraTools: HTMLElement[] = [],
  ) {
    this.cell = store.register(conceptSlice);
    this.members = new Uint8Array(host.grid().length / 2);
    this.root = element("header", "toolbar concept-bar");
    this.root.dataset.testid = "concept-bar";
    // Two selects keep the bar on one line: the concept (and what to do with it), and how to add images to it.
    const picker = select("", "concept-select", "the concept shown on the map and on every query's ranking", [["", "no concept"]]);
    this.picker = picker.select;
    const adds: [string, string][] = [
      ["", "add…"],
      ["click", "click"],
      ["lasso", "lasso"],
      ["topk", "top k"],
      ["window", "window"],
      ...host.labelNames.map((l, i): [string, string] => [`label:${i}`, `label ${l}`]),
    ];
    const adder = select(
      "",
      "concept-add",
      "add images to the concept (a new one if none is chosen): by clicking them on the map, by a lasso on the map, the active query's " +
        "first k, its brushed window, or a label",
      adds,
    );
    this.adder = adder.select;
    const kLabel = document.createElement("label");
    kLabel.title = "k of precision@k and recall@k";
    this.kInput = document.createElement("input");
    this.kInput.type = "number";
    this.kInput.min = "1";
    this.kInput.className = "concept-k";
    this.kInput.dataset.testid = "concept-k";
    kLabel.append("k ", this.kInput);
    this.root.append(picker.label, adder.label, kLabel, ...extraTools);

    this.lasso = new Lasso((pts) => {
      const ids = idsInPolygon(pts, host.grid(), host.viewport().transform);
      if (ids.length) void this.add(ids, "lasso");
    });
    this.picker.addEventListener("change", () => this.choose(this.picker.value));
    this.adder.addEventListener("change", () => this.addBy(this.adder.value));
    this.kInput.addEventListener("change", () => {
      const k = Math.floor(Number(this.kInput.value));
      if (k >= 1) this.cell.set((s) => ({ ...s, k }));
    });
    this.root.hidden = host.serverless === true;
    if (!host.serverless) void this.reload();
  }

  /** The active concept, if it exists on the server. */
  get active(): ConceptInfo | null {
    return this.concepts.find((c) => c.name === this.cell.value.name) ?? null;
  }

  /** Whether a click on the map is for the concept (not a new query). */
  get takesClicks(): boolean {
    return this.mode === "click";
  }

  /** A map click in click mode: the image joins the concept, or leaves it. */
  toggle(id: number): void {
    const c = this.active;
    if (c && this.members[id]) void this.apply(conceptsApi.edit(c.name, { remove: [id] }));
    else void this.add([id], "clicks");
  }

  render(): void {
    const { name, k } = this.cell.value;
    const active = this.active;
    const options: [string, string][] = [
      ["", "no concept"],
      ...this.concepts.map((c): [string, string] => [c.name, `${c.name} (${c.ids.length})`]),
      ...(name !== null && !active ? [[name, `${name} (not found)`] as [string, string]] : []),
      [NEW, "new…"],
      ...(active ? [[RENAME, "rename…"] as [string, string], [DELETE, "delete…"] as [string, string]] : []),
    ];
    const current = Array.from(this.picker.options, (o) => `${o.value}|${o.text}`).join("\n");
    if (current !== options.map(([v, t]) => `${v}|${t}`).join("\n")) {
      this.picker.replaceChildren(
        ...options.map(([v, t]) => {
          const o = document.createElement("option");
          o.value = v;
          o.textContent = t;
          return o;
        }),
      );
    }
    this.picker.value = name ?? "";
    this.adder.value = this.mode === "off" ? "" : this.mode;
    this.adder.classList.toggle("on", this.mode !== "off");
    this.lasso.setOn(this.mode === "lasso");
    this.kInput.value = String(k);
    const ids = active ? active.ids : NO_IDS;
    if (ids !== this.memberIds) {
      this.members.fill(0);
      for (const id of ids) if (id < this.members.length) this.members[id] = 1;
      this.memberIds = ids;
      this.host.redrawMap();
    }
  }

  /** The active concept's members, outlined on the map (drawn after the cells, before the hover). */
  drawMembers(ctx: CanvasRenderingContext2D, vp: Viewport): void {
    outlineCells(ctx, vp, this.host.grid(), this.memberIds, CONCEPT_COLOUR);
  }

  /** The concept select: a concept, or new / rename / delete. */
  private choose(value: string): void {
    if (value === NEW) this.create();
    else if (value === RENAME) this.rename();
    else if (value === DELETE) this.remove();
    else this.cell.set((s) => ({ ...s, name: value || null }));
    this.render();
  }

  /** The add select: a mode for the map (click, lasso; "" turns it off), or images added at once. */
  private addBy(value: string): void {
    if (value === "" || value === "click" || value === "lasso") this.mode = value === "" ? "off" : value;
    else if (value === "topk") void this.addTopK();
    else if (value === "window") void this.addWindow();
    else if (value.startsWith("label:")) {
      const code = Number(value.slice(6));
      const ids: number[] = [];
      this.host.labels.forEach((c, id) => {
        if (c === code) ids.push(id);
      });
      void this.add(ids, `label:${this.host.labelNames[code]}`);
    }
    this.render();
  }

  /** Fetch the concepts again (a session restored some behind the bar's back). */
  async reload(): Promise<void> {
    try {
      this.concepts = await conceptsApi.list();
    } catch (err) {
      this.host.error(`The concepts could not be loaded: ${String(err instanceof Error ? err.message : err)}`);
    }
    this.version++;
    this.host.refresh();
  }

  private async apply(change: Promise<ConceptInfo>): Promise<void> {
    try {
      const saved = await change;
      this.cell.set((s) => ({ ...s, name: saved.name }));
    } catch (err) {
      this.host.error(`The concept could not be saved: ${String(err instanceof Error ? err.message : err)}`);
    }
    await this.reload();
  }

  /** Add `ids` to the active concept, or make a new one of them. */
  private add(ids: number[], source: string): Promise<void> {
    const c = this.active;
    return this.apply(c ? conceptsApi.edit(c.name, { add: ids }) : conceptsApi.save(this.freeName(), ids, source));
  }

  private freeName(): string {
    const taken = new Set(this.concepts.map((c) => c.name));
    let i = 1;
    while (taken.has(`concept ${i}`)) i++;
    return `concept ${i}`;
  }

  private create(): void {
    const name = window.prompt("Name of the new concept", this.freeName());
    if (name && name.trim()) void this.apply(conceptsApi.save(name.trim(), [], ""));
  }

  private async addTopK(): Promise<void> {
    const ids = await this.host.activeRanks(0, this.cell.value.k);
    if (ids) await this.add(Array.from(ids), `top-${this.cell.value.k}`);
    else this.host.error("Add a query first: the concept takes the first k images of the active query's ranking.");
  }

  private async addWindow(): Promise<void> {
    const w = this.host.activeWindow();
    const ids = w ? await this.host.activeRanks(w.lo, w.hi) : null;
    if (ids && w) await this.add(Array.from(ids), `ranks ${w.lo}-${w.hi - 1}`);
    else this.host.error("Add a query and brush a window of its ranking first.");
  }

  private rename(): void {
    const c = this.active;
    if (!c) return;
    const name = window.prompt(`New name of the concept ${c.name}`, c.name);
    if (name && name.trim() && name.trim() !== c.name) void this.apply(conceptsApi.edit(c.name, { rename: name.trim() }));
  }

  private remove(): void {
    const c = this.active;
    if (!c || !window.confirm(`Delete the concept ${c.name} (${c.ids.length} images)?`)) return;
    conceptsApi.remove(c.name).then(
      () => {
        this.cell.set((s) => ({ ...s, name: null }));
        void this.reload();
      },
      (err: unknown) => this.host.error(String(err)),
    );
  }
}
