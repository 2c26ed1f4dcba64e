// The one place the app's state changes: every view subscribes and re-reads what it needs
// (the paper's "observer pattern for events that span more than one element", made explicit).

import { type AppState, decodeState, encodeState } from "./state";

export type Listener = (state: AppState, previous: AppState) => void;

export class Store {
  private current: AppState;
  private readonly listeners = new Set<Listener>();

  constructor(initial: AppState) {
    this.current = initial;
  }

  get state(): AppState {
    return this.current;
  }

  /** Replace the state (a shallow copy with `patch` applied) and notify every listener. */
  update(patch: Partial<AppState> | ((s: AppState) => Partial<AppState>)): void {
    const previous = this.current;
    const p = typeof patch === "function" ? patch(previous) : patch;
    this.current = { ...previous, ...p };
    for (const fn of this.listeners) fn(this.current, previous);
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/** A store mirrored into location.hash (replaceState: brushing must not flood the history). */
export function urlStore(): Store {
  const store = new Store(decodeState(location.hash));
  store.subscribe((s) => {
    const hash = encodeState(s);
    if (hash !== location.hash) history.replaceState(null, "", hash);
  });
  return store;
}
