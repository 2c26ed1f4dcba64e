import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TileCache } from "../src/tileCache";

/** A stand-in bitmap that records being closed. */
class FakeBitmap {
  closed = false;
  constructor(readonly url: string) {}
  close(): void {
    this.closed = true;
  }
}

/** Fetches that resolve when the test says so, remembering which were aborted. */
class Server {
  pending = new Map<string, { resolve: (b: Blob | null) => void; signal: AbortSignal }>();
  asked: string[] = [];
  fetch = (url: string, signal: AbortSignal): Promise<Blob | null> => {
    this.asked.push(url);
    return new Promise((resolve, reject) => {
      this.pending.set(url, { resolve, signal });
      signal.addEventListener("abort", () => reject(new Error("aborted")));
    });
  };
  answer(url: string): void {
    const p = this.pending.get(url);
    this.pending.delete(url);
    p?.resolve(new Blob([url]));
  }
}

const flush = (): Promise<void> => new Promise((done) => setTimeout(done, 0));

beforeEach(() => {
  vi.stubGlobal("window", globalThis);
  vi.stubGlobal("createImageBitmap", async (blob: Blob) => new FakeBitmap(await blob.text()));
});
afterEach(() => vi.unstubAllGlobals());

describe("TileCache", () => {
  it("fetches the nearest wanted tiles first, a few at a time", () => {
    const server = new Server();
    const cache = new TileCache(server.fetch, () => {});
    for (let i = 9; i >= 0; i--) cache.want(`t${i}`, i);
    cache.request();
    expect(server.asked).toEqual(["t0", "t1", "t2", "t3", "t4", "t5"]);
  });

  it("aborts the fetches of tiles a frame no longer shows", async () => {
    const server = new Server();
    const cache = new TileCache(server.fetch, () => {});
    cache.want("a", 0);
    cache.want("b", 1);
    cache.request();
    cache.want("b", 0);
    cache.request();
    expect(server.pending.get("a")?.signal.aborted).toBe(true);
    expect(server.pending.get("b")?.signal.aborted).toBe(false);
    await flush();
  });

  it("keeps at most its capacity of bitmaps, closing the least recently used", async () => {
    const server = new Server();
    let loads = 0;
    const cache = new TileCache(server.fetch, () => loads++, 2);
    for (const url of ["a", "b"]) {
      cache.want(url, 0);
      cache.request();
      server.answer(url);
      await flush();
    }
    const a = cache.get("a") as unknown as FakeBitmap; // used: "b" is now the oldest
    cache.want("c", 0);
    cache.request();
    server.answer("c");
    await flush();
    expect(cache.get("b")).toBeNull();
    expect(cache.get("a")).toBe(a);
    expect((cache.get("c") as unknown as FakeBitmap).url).toBe("c");
    expect(a.closed).toBe(false);
    expect(loads).toBe(3);
  });

  it("asks again later for a tile the server could not give yet", async () => {
    const server = new Server();
    const cache = new TileCache(server.fetch, () => {});
    cache.want("x", 0);
    cache.request();
    server.pending.get("x")?.resolve(null);
    await flush();
    cache.want("x", 0);
    cache.request();
    expect(server.asked).toEqual(["x"]); // resting, not asked again at once
    expect(cache.get("x")).toBeNull();
  });
});
