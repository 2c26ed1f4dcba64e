// Decoded map tiles, fetched a few at a time (nearest the pane's centre first) and bounded in
// number, so panning a 1M-image map zoomed out holds a few dozen bitmaps, never one per image.

/** Tiles kept decoded: ~4 screens of 256 px tiles on a large monitor (256 KB each, 48 MB in all). */
const DEFAULT_TILES = 192;
/** Requests in flight at once. */
const MAX_IN_FLIGHT = 6;
/** A tile the server could not give yet (its grid is being fitted) is asked for again after this. */
const RETRY_MS = 1000;

/** The PNG of one tile, or null for "not ready yet" (answer 202). */
export type FetchTile = (url: string, signal: AbortSignal) => Promise<Blob | null>;

export class TileCache {
  private readonly images = new Map<string, ImageBitmap>();
  private readonly inFlight = new Map<string, AbortController>();
  /** URL -> when it may be asked for again (failures and "not yet"). */
  private readonly resting = new Map<string, number>();
  private wanted: { url: string; priority: number }[] = [];

  constructor(
    private readonly fetchTile: FetchTile,
    private readonly onLoad: () => void,
    private readonly capacity = DEFAULT_TILES,
  ) {}

  /** The bitmap if decoded, else null (ask for it with `want`). */
  get(url: string): ImageBitmap | null {
    const img = this.images.get(url);
    if (!img) return null;
    this.images.delete(url); // re-inserted: most recently used
    this.images.set(url, img);
    return img;
  }

  /** Note a tile this frame shows without its bitmap; lower `priority` is fetched sooner. */
  want(url: string, priority: number): void {
    this.wanted.push({ url, priority });
  }

  /** End of a frame: abort fetches of tiles it no longer shows, start the nearest wanted ones. */
  request(): void {
    const wanted = this.wanted.sort((a, b) => a.priority - b.priority);
    this.wanted = [];
    const urls = new Set(wanted.map((w) => w.url));
    for (const [url, c] of this.inFlight) {
      if (!urls.has(url)) {
        c.abort();
        this.inFlight.delete(url);
      }
    }
    const now = performance.now();
    for (const { url } of wanted) {
      if (this.inFlight.size >= MAX_IN_FLIGHT) break;
      if (this.inFlight.has(url) || this.images.has(url) || (this.resting.get(url) ?? 0) > now) continue;
      this.load(url);
    }
  }

  private load(url: string): void {
    const controller = new AbortController();
    this.inFlight.set(url, controller);
    this.fetchTile(url, controller.signal)
      .then(async (blob) => {
        if (!blob) {
          this.resting.set(url, performance.now() + RETRY_MS);
          window.setTimeout(this.onLoad, RETRY_MS);
          return;
        }
        this.add(url, await createImageBitmap(blob));
      })
      .catch(() => {
        // Refused or undecodable: the cells keep their mean colours; asked again much later.
        if (!controller.signal.aborted) this.resting.set(url, performance.now() + 30 * RETRY_MS);
      })
      .finally(() => {
        if (this.inFlight.get(url) === controller) this.inFlight.delete(url);
        if (!controller.signal.aborted) this.onLoad();
      });
  }

  private add(url: string, bitmap: ImageBitmap): void {
    this.images.get(url)?.close();
    this.images.set(url, bitmap);
    while (this.images.size > this.capacity) {
      const oldest = this.images.keys().next().value;
      if (oldest === undefined) break;
      this.images.get(oldest)?.close();
      this.images.delete(oldest);
    }
  }
}
