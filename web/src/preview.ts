// The hover card: the image larger (CARD_PX) with its path, label and id, and its rank and
// similarity in every query, next to the pointer.

import type { Api, ImageInfo } from "./api";
import { queryStyle } from "./colors";
import type { Hover } from "./highlight";
import type { RankedQuery } from "./rankedQuery";

export interface PreviewQuery {
  slot: number;
  ranking: RankedQuery | null;
}

/** The card's image size in CSS px. */
const CARD_PX = 128;

export class Preview {
  readonly root: HTMLDivElement;
  private readonly img: HTMLImageElement;
  private readonly text: HTMLDivElement;
  private readonly ranks: HTMLDivElement;
  private readonly info = new Map<number, ImageInfo | Promise<void>>();
  private shownId = -1;
  /** Image infos kept for hovering back over an image; older ones are dropped (a long session
   * over a 1M map must not keep one object per image it ever crossed). */
  private static readonly KEEP_INFO = 500;

  constructor(
    private readonly api: Pick<Api, "thumbUrl" | "image">,
    private readonly queries: () => PreviewQuery[],
  ) {
    this.root = document.createElement("div");
    this.root.className = "preview";
    this.root.dataset.testid = "hover-preview";
    this.root.hidden = true;
    this.img = document.createElement("img");
    this.img.width = CARD_PX;
    this.img.height = CARD_PX;
    this.img.alt = "";
    this.text = document.createElement("div");
    this.text.className = "preview-text";
    this.ranks = document.createElement("div");
    this.ranks.className = "preview-ranks";
    this.root.append(this.img, this.text, this.ranks);
  }

  show(h: Hover | null): void {
    // Every hover gets a card: a strip's 64 px image does not say what the image is.
    if (!h) {
      this.root.hidden = true;
      this.shownId = -1;
      return;
    }
    this.root.hidden = false;
    if (h.id !== this.shownId) {
      this.shownId = h.id;
      this.img.src = this.api.thumbUrl(CARD_PX, h.id);
      this.renderInfo(h.id);
      this.renderRanks(h.id);
    }
    const pad = 16;
    const r = this.root.getBoundingClientRect();
    let x = h.clientX + pad;
    let y = h.clientY + pad;
    if (x + r.width > window.innerWidth) x = h.clientX - pad - r.width;
    if (y + r.height > window.innerHeight) y = Math.max(0, window.innerHeight - r.height - 4);
    this.root.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px)`;
  }

  private renderInfo(id: number): void {
    const known = this.info.get(id);
    if (known && !(known instanceof Promise)) {
      this.text.replaceChildren(
        line("preview-path", known.path),
        line("preview-meta", `label ${known.label ?? "—"} · id ${id} · ${known.width}×${known.height}`),
      );
      return;
    }
    this.text.replaceChildren(line("preview-meta", `id ${id}`));
    if (!known) {
      this.info.set(
        id,
        this.api.image(id).then(
          (info) => {
            this.info.set(id, info);
            if (this.info.size > Preview.KEEP_INFO) {
              const oldest = this.info.keys().next().value;
              if (oldest !== undefined && oldest !== id) this.info.delete(oldest);
            }
            if (this.shownId === id) this.renderInfo(id);
          },
          () => {
            this.info.delete(id);
          },
        ),
      );
    }
  }

  private renderRanks(id: number): void {
    const rows = this.queries()
      .map((q) => ({ slot: q.slot, at: q.ranking && id >= 0 && id < q.ranking.ids ? q.ranking.rankOf(id) : null }))
      .filter((q): q is { slot: number; at: { rank: number; sim: number } } => q.at !== null)
      .map((q) => {
        const el = line("preview-rank", `rank ${q.at.rank} · sim ${q.at.sim.toFixed(3)}`);
        el.style.borderLeftColor = queryStyle(q.slot).colour;
        return el;
      });
    this.ranks.replaceChildren(...rows);
  }
}

function line(cls: string, text: string): HTMLDivElement {
  const d = document.createElement("div");
  d.className = cls;
  d.textContent = text;
  return d;
}
