/**
 * Per-client limits of the balancer: token buckets for things a client does
 * (create a lobby, join one, fail an admin login: shared/keyed-limiter.ts) and
 * counters for things a client holds open (WebSockets, directory streams),
 * each per client address and in total. Keys are client addresses
 * (client-address.ts).
 */

export type CapOptions = { perKey: number; total: number };

/** Counts what clients hold open; `acquire` says which cap would be passed. */
export class ConnectionCaps {
  private readonly byKey = new Map<string, number>();
  private count = 0;

  constructor(readonly options: CapOptions) {}

  acquire(key: string): "ok" | "per_key" | "total" {
    const held = this.byKey.get(key) ?? 0;
    if (held >= this.options.perKey) return "per_key";
    if (this.count >= this.options.total) return "total";
    this.byKey.set(key, held + 1);
    this.count += 1;
    return "ok";
  }

  release(key: string): void {
    const held = this.byKey.get(key) ?? 0;
    if (held <= 0) return;
    if (held === 1) this.byKey.delete(key);
    else this.byKey.set(key, held - 1);
    this.count -= 1;
  }

  get open(): number {
    return this.count;
  }
}
