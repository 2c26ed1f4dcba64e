// The one place the app's state changes. Each component registers its own slice of the state
// with the URL keys it owns, how to read them from the hash and how to write them back, so a
// new panel adds its slice where it lives and the store never learns its fields. Every view
// is told after each change and re-reads what it needs (the paper's "observer pattern for
// events that span more than one element", made explicit).

/** The hash split into keys and raw values (still URI-encoded: each slice decodes its own). */
export type Params = ReadonlyMap<string, string>;

/** One component's part of the state and its URL form. */
export interface Slice<T> {
  /** The hash keys this slice reads and writes; no two slices may share one. */
  readonly keys: readonly string[];
  /** The value these params describe; anything missing or malformed falls back to a default. */
  parse(params: Params): T;
  /** [key, value] pairs for the hash, each value already URI-encoded where it needs to be. */
  serialise(value: T): [string, string][];
}

/** A registered slice's current value. */
export interface Cell<T> {
  readonly value: T;
  /** Replace the value (or derive it from the current one) and notify every listener. */
  set(next: T | ((current: T) => T)): void;
}

type Listener = () => void;

interface Entry {
  slice: Slice<unknown>;
  value: unknown;
}

/** Splits "#a=1&b=2" into its keys and raw values (a value keeps any "=" it contains). */
export function parseHash(hash: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of hash.replace(/^#/, "").split("&")) {
    const eq = part.indexOf("=");
    if (eq > 0) params.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return params;
}

export class Store {
  private readonly params: Map<string, string>;
  private readonly entries: Entry[] = [];
  private readonly owners = new Map<string, Slice<unknown>>();
  private readonly listeners = new Set<Listener>();
  private batching = 0;
  private dirty = false;

  /** `hash`: the URL hash the slices start from. */
  constructor(hash: string) {
    this.params = parseHash(hash);
  }

  /** Add a slice, read from the starting hash; throws if another slice owns one of its keys. */
  register<T>(slice: Slice<T>): Cell<T> {
    for (const key of slice.keys) {
      if (this.owners.has(key)) throw new Error(`URL key "${key}" is claimed by two slices`);
      this.owners.set(key, slice);
    }
    const entry: Entry = { slice, value: slice.parse(this.params) };
    this.entries.push(entry);
    const changed = (): void => this.changed();
    return {
      get value(): T {
        return entry.value as T;
      },
      set(next: T | ((current: T) => T)): void {
        entry.value = typeof next === "function" ? (next as (current: T) => T)(entry.value as T) : next;
        changed();
      },
    };
  }

  /** Run `fn`, telling listeners once at the end however many slices it set. */
  batch(fn: () => void): void {
    this.batching++;
    try {
      fn();
    } finally {
      this.batching--;
      if (this.batching === 0 && this.dirty) this.changed();
    }
  }

  /** Every slice re-read from `hash` (set from outside the page: the notebook widget), listeners told once. */
  load(hash: string): void {
    const params = parseHash(hash);
    for (const e of this.entries) e.value = e.slice.parse(params);
    this.changed();
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Every slice in registration order: `#q=...&a=...`. */
  get hash(): string {
    const parts = this.entries.flatMap((e) => e.slice.serialise(e.value).map(([k, v]) => `${k}=${v}`));
    return "#" + parts.join("&");
  }

  private changed(): void {
    if (this.batching > 0) {
      this.dirty = true;
      return;
    }
    this.dirty = false;
    for (const fn of this.listeners) fn();
  }
}

/** A store started from location.hash and mirrored into it (replaceState: brushing must not flood the history). */
export function urlStore(): Store {
  const store = new Store(location.hash);
  store.subscribe(() => {
    const hash = store.hash;
    if (hash !== location.hash) history.replaceState(null, "", hash);
  });
  return store;
}

/**
 * Rewrite the URL in the store's own words once every slice is registered: malformed or
 * out-of-range values come back as their defaults and unknown keys are dropped, so a bad
 * shared link does not linger (`s=7&p=5&m=999&b=banana` reads and then shows as the defaults).
 */
export function normaliseUrl(store: Store): void {
  const hash = store.hash;
  if (hash !== location.hash) history.replaceState(null, "", hash);
}

/** Helpers for slices: the forms every slice's keys share. */
export function intParam(text: string | undefined): number | null {
  if (text === undefined || !/^-?\d+$/.test(text)) return null;
  return Number(text);
}

/** "1" or "0"; anything else (missing, "banana") reads as `fallback`. */
export function flagParam(params: Params, key: string, fallback: boolean): boolean {
  const v = params.get(key);
  return v === "1" ? true : v === "0" ? false : fallback;
}

export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
