// Decoded map thumbnails, fetched a few at a time with the newest requests first (the view the
// user is looking at now), bounded by their pixels so zooming around a 1M-image map cannot
// grow it without end, whatever the thumbnail size.

import { api } from "./api";

const MAX_IN_FLIGHT = 8;
/** Default budget: 24M pixels (~96 MB decoded), e.g. 23k thumbnails of 32 px or 1.4k of 128 px. */
const DEFAULT_PIXELS = 24 << 20;

/** One number per (size, id): no string is built per cell per frame. */
function keyOf(size: number, id: number): number {
  return id * 4096 + size;
}

export class ThumbCache {
  private readonly images = new Map<number, ImageBitmap>();
  private readonly pending = new Set<number>();
  private readonly failed = new Set<number>();
  private queue: { size: number; id: number; key: number }[] = [];
  private inFlight = 0;
  private pixels = 0;

  constructor(
    private readonly onLoad: () => void,
    private readonly capacityPixels = DEFAULT_PIXELS,
  ) {}

  /** The bitmap if decoded, else null (and it is queued). */
  get(size: number, id: number): ImageBitmap | null {
    const key = keyOf(size, id);
    const img = this.images.get(key);
    if (img) {
      // Map preserves insertion order: re-inserting marks it most recently used.
      this.images.delete(key);
      this.images.set(key, img);
      return img;
    }
    if (!this.pending.has(key) && !this.failed.has(key)) {
      this.pending.add(key);
      this.queue.push({ size, id, key });
      this.pump();
    }
    return null;
  }

  /** The bitmap at any size already decoded, preferring the largest: a placeholder while the wanted one loads. */
  any(sizes: readonly number[], id: number): ImageBitmap | null {
    for (let i = sizes.length - 1; i >= 0; i--) {
      const img = this.images.get(keyOf(sizes[i], id));
      if (img) return img;
    }
    return null;
  }

  /** Forget queued requests not asked for since the last frame (they scrolled out of view). */
  dropQueued(keep: (size: number, id: number) => boolean): void {
    const kept = [];
    for (const q of this.queue) {
      if (keep(q.size, q.id)) kept.push(q);
      else this.pending.delete(q.key);
    }
    this.queue = kept;
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const job = this.queue.pop();
      if (!job) break;
      this.inFlight++;
      this.load(job.size, job.id, job.key).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async load(size: number, id: number, key: number): Promise<void> {
    try {
      const res = await fetch(api.thumbUrl(size, id));
      if (!res.ok) throw new Error(String(res.status));
      const bitmap = await createImageBitmap(await res.blob());
      this.images.set(key, bitmap);
      this.pixels += bitmap.width * bitmap.height;
      this.evict();
      this.onLoad();
    } catch {
      this.failed.add(key);
    } finally {
      this.pending.delete(key);
    }
  }

  private evict(): void {
    while (this.pixels > this.capacityPixels) {
      const oldest = this.images.keys().next().value;
      if (oldest === undefined) break;
      const img = this.images.get(oldest);
      if (img) {
        this.pixels -= img.width * img.height;
        img.close();
      }
      this.images.delete(oldest);
    }
  }
}
