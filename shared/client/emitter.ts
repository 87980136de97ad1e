/**
 * A tiny typed event emitter. The SDK must bundle for browsers, so it cannot
 * use Node's `events`; each event maps to the tuple of its listener arguments.
 */

export type Listener<Args extends unknown[]> = (...args: Args) => void;

export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  private readonly listeners: { [K in keyof Events]?: Set<Listener<Events[K]>> } = {};

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners[name];
    if (!set) {
      set = new Set();
      this.listeners[name] = set;
    }
    set.add(listener);
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    this.listeners[name]?.delete(listener);
  }

  once<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(name, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  /** Resolves with the arguments of the next `name` event that passes `predicate`. */
  waitFor<K extends keyof Events>(name: K, predicate?: (...args: Events[K]) => boolean): Promise<Events[K]> {
    return new Promise((resolve) => {
      const off = this.on(name, (...args) => {
        if (predicate && !predicate(...args)) return;
        off();
        resolve(args);
      });
    });
  }

  protected emit<K extends keyof Events>(name: K, ...args: Events[K]): void {
    const set = this.listeners[name];
    if (!set) return;
    // A copy, so listeners may remove themselves while we iterate.
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        // A throwing listener must not leave the connection half-updated; the
        // error still surfaces as an uncaught exception, as with Node's emitter.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
