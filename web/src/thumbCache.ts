// Decoded map thumbnails, fetched in batches (one request per few hundred cells, nearest the
// view's centre first) and bounded by their pixels, so zooming around a 1M-image map fills the
// screen in a second or two and cannot grow the cache without end, whatever the thumbnail size.

import { planBatches } from "./thumbBatch";

/** Batch requests in flight at once: enough to keep the server and the decoders busy, few enough
 * that a pan away does not leave a long queue of thumbnails nobody looks at any more. */
const MAX_IN_FLIGHT = 3;
/** Thumbnails per request: a screen of 13 px cells (~6k) is a couple of dozen requests. */
const BATCH_IDS = 256;
/** Default budget: 24M pixels (~96 MB decoded), e.g. 23k thumbnails of 32 px or 1.4k of 128 px. */
const DEFAULT_PIXELS = 24 << 20;

/** One number per (size, id): no string is built per cell per frame. */
function keyOf(size: number, id: number): number {
  return id * 4096 + size;
}

/**
 * JPEG bytes -> bitmap, decoded off the main thread. WebCodecs' ImageDecoder where the browser
 * has one (Chromium and Firefox, in a secure context such as 127.0.0.1): in Chromium
 * createImageBitmap(Blob) costs ~0.3 ms of main thread per call, which caps a screen of 6k
 * thumbnails at about two seconds of a frozen page; ImageDecoder costs a tenth of that.
 */
async function decodeJpeg(bytes: Uint8Array<ArrayBuffer>): Promise<ImageBitmap> {
  if (typeof ImageDecoder === "undefined") return createImageBitmap(new Blob([bytes], { type: "image/jpeg" }));
  const decoder = new ImageDecoder({ data: bytes, type: "image/jpeg" });
  try {
    const { image } = await decoder.decode();
    try {
      return await createImageBitmap(image);
    } finally {
      image.close();
    }
  } finally {
    decoder.close();
  }
}

/** The JPEG bytes of `ids` at `size` px, in that order (the API's thumbnail batch). */
export type FetchThumbs = (size: number, ids: readonly number[], signal: AbortSignal) => Promise<Uint8Array<ArrayBuffer>[]>;

interface Batch {
  readonly keys: number[];
  readonly controller: AbortController;
}

export class ThumbCache {
  private readonly images = new Map<number, ImageBitmap>();
  /** Keys being fetched or decoded, and the batch that owns each. */
  private readonly pending = new Map<number, Batch>();
  private readonly failed = new Set<number>();
  /** Batches whose bytes have not arrived yet. */
  private readonly inFlight = new Set<Batch>();
  /** The latest frame's batches not sent yet, nearest first; the next frame replaces them. */
  private queue: number[][] = [];
  private queueSize = 0;
  private wantSize = 0;
  private wantIds: number[] = [];
  private wantPriority: number[] = [];
  private pixels = 0;

  constructor(
    private readonly fetchThumbs: FetchThumbs,
    private readonly onLoad: () => void,
    private readonly capacityPixels = DEFAULT_PIXELS,
  ) {}

  /** The bitmap if decoded, else null (ask for it with `want`). */
  get(size: number, id: number): ImageBitmap | null {
    const key = keyOf(size, id);
    const img = this.images.get(key);
    if (!img) return null;
    // Map preserves insertion order: re-inserting marks it most recently used.
    this.images.delete(key);
    this.images.set(key, img);
    return img;
  }

  /** The bitmap at any size already decoded, preferring the largest: a placeholder while the wanted one loads. */
  any(sizes: readonly number[], id: number): ImageBitmap | null {
    for (let i = sizes.length - 1; i >= 0; i--) {
      const img = this.images.get(keyOf(sizes[i], id));
      if (img) return img;
    }
    return null;
  }

  /** Note a thumbnail this frame shows without its bitmap; lower `priority` is fetched sooner.
   * One size per frame: a frame wants the size that matches its zoom. */
  want(size: number, id: number, priority: number): void {
    this.wantSize = size;
    this.wantIds.push(id);
    this.wantPriority.push(priority);
  }

  /** End of a frame: abort batches none of whose thumbnails it wanted (they left the view), and
   * start new ones for the rest, nearest first. */
  request(): void {
    const size = this.wantSize;
    const ids = this.wantIds;
    const priority = this.wantPriority;
    this.wantIds = [];
    this.wantPriority = [];
    if (this.inFlight.size > 0) {
      const wanted = new Set(ids.map((id) => keyOf(size, id)));
      for (const b of this.inFlight) if (!b.keys.some((k) => wanted.has(k))) this.abort(b);
    }
    this.queue = [];
    if (ids.length === 0) return;
    const freshIds: number[] = [];
    const freshPriority: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const key = keyOf(size, ids[i]);
      if (this.pending.has(key) || this.failed.has(key) || this.images.has(key)) continue;
      freshIds.push(ids[i]);
      freshPriority.push(priority[i]);
    }
    this.queue = planBatches(freshIds, freshPriority, BATCH_IDS);
    this.queueSize = size;
    this.pump();
  }

  /** Send queued batches while there is a free slot; a slot frees as soon as a batch's bytes
   * arrive, without waiting for the next frame. */
  private pump(): void {
    while (this.inFlight.size < MAX_IN_FLIGHT) {
      const ids = this.queue.shift();
      if (!ids) break;
      this.load(this.queueSize, ids);
    }
  }

  private abort(b: Batch): void {
    b.controller.abort();
    this.inFlight.delete(b);
    for (const k of b.keys) if (this.pending.get(k) === b) this.pending.delete(k);
  }

  private load(size: number, ids: number[]): void {
    const batch: Batch = { keys: ids.map((id) => keyOf(size, id)), controller: new AbortController() };
    for (const k of batch.keys) this.pending.set(k, batch);
    this.inFlight.add(batch);
    const settle = (k: number): void => {
      if (this.pending.get(k) === batch) this.pending.delete(k);
    };
    this.fetchThumbs(size, ids, batch.controller.signal)
      .then((jpegs) => {
        this.inFlight.delete(batch);
        this.pump();
        // Each thumbnail shows as soon as it is decoded.
        jpegs.forEach((bytes, i) => {
          const key = batch.keys[i];
          decodeJpeg(bytes)
            .then((bitmap) => this.add(key, bitmap))
            .catch(() => this.failed.add(key))
            .finally(() => settle(key));
        });
      })
      .catch(() => {
        if (batch.controller.signal.aborted) return;
        this.inFlight.delete(batch);
        // A refused or broken batch is not asked for again (its cells keep their mean colour).
        for (const k of batch.keys) {
          this.failed.add(k);
          settle(k);
        }
        this.pump();
      })
      .finally(() => this.onLoad());
  }

  private add(key: number, bitmap: ImageBitmap): void {
    const old = this.images.get(key);
    if (old) {
      this.pixels -= old.width * old.height;
      old.close();
    }
    this.images.set(key, bitmap);
    this.pixels += bitmap.width * bitmap.height;
    this.evict();
    this.onLoad();
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
