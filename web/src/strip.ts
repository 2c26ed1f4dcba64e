// The strip under a curve: the images at the brushed ranks, as many as fit, with the hovered
// one's rank and similarity written beside it.

import type { Api } from "./api";
import type { Highlight } from "./highlight";

export class Strip {
  readonly root: HTMLDivElement;
  private readonly images: HTMLDivElement;
  readonly caption: HTMLDivElement;
  private shown = false;
  private hoverText = "";
  private baseText = "";

  constructor(
    private readonly api: Pick<Api, "thumbUrl">,
    private readonly highlight: Highlight,
    private readonly onPick: (id: number) => void,
  ) {
    this.root = document.createElement("div");
    this.root.className = "strip";
    this.images = document.createElement("div");
    this.images.className = "strip-images";
    this.images.dataset.testid = "strip";
    this.caption = document.createElement("div");
    this.caption.className = "strip-caption";
    this.caption.dataset.testid = "strip-caption";
    this.root.append(this.images, this.caption);
    this.images.addEventListener("pointerover", (e) => {
      const img = (e.target as HTMLElement).closest<HTMLImageElement>("img[data-id]");
      if (!img) return;
      const id = Number(img.dataset.id);
      this.hoverText = `rank ${img.dataset.rank} · similarity ${img.dataset.sim} · id ${id}`;
      this.renderCaption();
      this.highlight.set({ id, source: "strip", clientX: e.clientX, clientY: e.clientY });
    });
    this.images.addEventListener("pointerleave", () => {
      this.hoverText = "";
      this.renderCaption();
      if (this.highlight.current?.source === "strip") this.highlight.set(null);
    });
    this.images.addEventListener("click", (e) => {
      const img = (e.target as HTMLElement).closest<HTMLImageElement>("img[data-id]");
      if (img) this.onPick(Number(img.dataset.id));
    });
    highlight.subscribe((h) => this.outline(h ? h.id : -1));
  }

  /** Show images `ids` (similarities `sims`) at `ranks` at `size` px (a stored thumbnail size); reuses <img> elements. */
  show(picked: { ids: number[]; sims: number[] }, ranks: number[], size: number, gap: number, windowText: string): void {
    this.shown = true;
    this.images.style.gap = `${gap}px`;
    this.images.style.height = `${size}px`;
    const have = this.images.children;
    while (have.length > ranks.length) have[have.length - 1].remove();
    ranks.forEach((rank, i) => {
      let img = have[i] as HTMLImageElement | undefined;
      if (!img) {
        img = document.createElement("img");
        img.dataset.testid = "strip-image";
        img.draggable = false;
        img.alt = "";
        this.images.append(img);
      }
      const id = picked.ids[i];
      const sim = picked.sims[i];
      const src = this.api.thumbUrl(size, id);
      if (img.getAttribute("src") !== src) img.src = src;
      img.width = size;
      img.height = size;
      img.dataset.id = String(id);
      img.dataset.rank = String(rank);
      img.dataset.sim = sim.toFixed(4);
      img.title = `rank ${rank} · similarity ${sim.toFixed(4)} · id ${id}`;
    });
    this.baseText = windowText;
    this.renderCaption();
    this.outline(this.highlight.current ? this.highlight.current.id : -1);
  }

  clear(text: string): void {
    this.shown = false;
    this.images.replaceChildren();
    this.baseText = text;
    this.renderCaption();
  }

  private renderCaption(): void {
    this.caption.textContent = this.hoverText || this.baseText;
    this.caption.classList.toggle("hovering", this.hoverText !== "");
  }

  private outline(id: number): void {
    for (const el of Array.from(this.images.children)) {
      (el as HTMLElement).classList.toggle("hovered", this.shown && Number((el as HTMLElement).dataset.id) === id);
    }
  }
}
