// Decoded map thumbnails, fetched a few at a time with the newest requests first (the view the
// user is looking at now), bounded in memory so zooming around a 1M-image map cannot grow it
// without end.

import { api } from "./api";

const MAX_IN_FLIGHT = 8;

export class ThumbCache {
  private readonly images = new Map<string, ImageBitmap>();
  private readonly pending = new Set<string>();
  private readonly failed = new Set<string>();
  private queue: { size: number; id: number; key: string }[] = [];
  private inFlight = 0;

  constructor(
    private readonly onLoad: () => void,
    private readonly capacity = 8000,
  ) {}

  /** The bitmap if decoded, else null (and it is queued). */
  get(size: number, id: number): ImageBitmap | null {
    const key = `${size}/${id}`;
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
      const img = this.images.get(`${sizes[i]}/${id}`);
      if (img) return img;
    }
    return null;
  }

  /** Forget queued requests not asked for since the last frame (they scrolled out of view). */
  dropQueued(keep: (size: number, id: number) => boolean): void {
    const stale = this.queue.filter((q) => !keep(q.size, q.id));
    for (const q of stale) this.pending.delete(q.key);
    this.queue = this.queue.filter((q) => keep(q.size, q.id));
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

  private async load(size: number, id: number, key: string): Promise<void> {
    try {
      const res = await fetch(api.thumbUrl(size, id));
      if (!res.ok) throw new Error(String(res.status));
      const bitmap = await createImageBitmap(await res.blob());
      this.images.set(key, bitmap);
      this.evict();
      this.onLoad();
    } catch {
      this.failed.add(key);
    } finally {
      this.pending.delete(key);
    }
  }

  private evict(): void {
    while (this.images.size > this.capacity) {
      const oldest = this.images.keys().next().value;
      if (oldest === undefined) break;
      this.images.get(oldest)?.close();
      this.images.delete(oldest);
    }
  }
}
