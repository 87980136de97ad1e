import type { Target } from "./routing-table.js";

/**
 * A node that refuses connections has almost always just died, and its
 * players reconnect at once: each attempt would be refused again until the
 * health probe records the death (~150 ms) and the ring moves the lobby, and
 * every refusal pushes the SDK's jittered backoff further out (100, 200,
 * 400 ms ...), so players came back a second or more after their lobby did
 * (and many seconds later in a storm of thousands).
 *
 * Instead a request refused by a node waits here until its route leads
 * elsewhere (the node left the ring), or the node answers a probe again, or
 * the hold runs out; then the forwarder sends it once more. A refused
 * connection delivered nothing to the node, so sending again is safe for any
 * method. Waiting costs a pending socket and a closure, no timer per
 * request: one sweep runs while anything waits.
 */

export type RefusalHoldDeps = {
  /** Whether the node answered one of this balancer's probes after `since` (Date.now() time). */
  answeredSince: (nodeId: string, since: number) => boolean;
  /** The longest a refused request waits for a verdict. */
  holdMs: number;
};

type Waiter = {
  route: () => Target | null;
  refusedBy: string;
  since: number;
  resolve: (target: Target | null) => void;
};

/** How often waiters past their hold are let go (their verdict usually comes long before). */
const SWEEP_MS = 100;

export class RefusalHold {
  private readonly waiting = new Set<Waiter>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly deps: RefusalHoldDeps) {}

  /**
   * Resolves with where to send the refused request now: the lobby's new
   * route, or the same node if it answered a probe again. Null when the hold
   * ran out (or no node is left): the caller answers with the refusal.
   */
  wait(route: () => Target | null, refusedBy: string): Promise<Target | null> {
    return new Promise((resolve) => {
      const waiter: Waiter = { route, refusedBy, since: Date.now(), resolve };
      if (this.settle(waiter)) return;
      if (this.deps.holdMs <= 0) {
        resolve(null);
        return;
      }
      this.waiting.add(waiter);
      if (!this.sweeper) {
        this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
        this.sweeper.unref();
      }
    });
  }

  /** Routing changed or a probe gave a verdict: release the waiters whose answer is known now. */
  recheck(): void {
    for (const w of this.waiting) if (this.settle(w)) this.waiting.delete(w);
    this.stopSweepingIfIdle();
  }

  /** Lets every waiter go (the balancer is closing). */
  close(): void {
    for (const w of this.waiting) w.resolve(null);
    this.waiting.clear();
    this.stopSweepingIfIdle();
  }

  private settle(w: Waiter): boolean {
    const target = w.route();
    if (target === null) {
      w.resolve(null);
      return true;
    }
    if (target.id !== w.refusedBy || this.deps.answeredSince(w.refusedBy, w.since)) {
      w.resolve(target);
      return true;
    }
    return false;
  }

  private sweep(): void {
    const expired = Date.now() - this.deps.holdMs;
    for (const w of this.waiting) {
      if (this.settle(w)) this.waiting.delete(w);
      else if (w.since <= expired) {
        this.waiting.delete(w);
        w.resolve(null);
      }
    }
    this.stopSweepingIfIdle();
  }

  private stopSweepingIfIdle(): void {
    if (this.waiting.size > 0 || !this.sweeper) return;
    clearInterval(this.sweeper);
    this.sweeper = null;
  }
}
