/** What the heartbeat needs of a socket. */
export type HeartbeatTarget = {
  /** When the unanswered ping was sent; null once a pong came back (or before the first ping). */
  pingedAt: number | null;
  ping(): void;
  terminate(): void;
};

/** Ticks per period: each tick pings about 1/SLICES of the sockets. */
const SLICES = 30;

/**
 * Checks that every socket still answers, without one long turn of the event
 * loop: each socket is pinged once per period, a slice of them per tick.
 * Pinging 19,600 sockets in one loop blocked the node for a few hundred ms
 * and sent 19,600 pongs back through the balancers at once; bench:connections
 * saw its broadcast p99 jump from ~20 ms to ~900 ms in the runs that crossed
 * such a burst.
 *
 * Death is judged by time, not by visits: a socket is terminated when a ping
 * sent at least one period ago is still unanswered. (A visit count would
 * misjudge when the set shrinks mid-cycle and a socket's next visit comes
 * early.)
 */
export class SocketHeartbeat<T extends HeartbeatTarget> {
  private cursor: Iterator<T> | null = null;
  private cycleStartedAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  /** `manual`: no timer; the caller calls tick() (tests). */
  constructor(
    private readonly sockets: ReadonlySet<T>,
    private readonly periodMs: number,
    options: { now?: () => number; manual?: boolean } = {},
  ) {
    this.now = options.now ?? Date.now;
    if (!options.manual) this.schedule(this.sliceMs);
  }

  private get sliceMs(): number {
    return Math.max(1, Math.floor(this.periodMs / SLICES));
  }

  /** Chained timeouts, not an interval: between cycles (and with nobody connected) it sleeps a whole period. */
  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => this.schedule(this.tick()), delayMs);
    this.timer.unref();
  }

  /** A pong came back. */
  answered(socket: T): void {
    socket.pingedAt = null;
  }

  /**
   * Visits the next slice; after the last socket, the next cycle starts a
   * period after this one did. Returns how long until the next tick is due.
   */
  tick(): number {
    const now = this.now();
    if (this.cursor === null) {
      if (now - this.cycleStartedAt < this.periodMs) return this.cycleStartedAt + this.periodMs - now;
      this.cycleStartedAt = now;
      this.cursor = this.sockets.values();
    }
    const quota = Math.ceil(this.sockets.size / SLICES);
    for (let i = 0; i < quota; i++) {
      const next = this.cursor.next();
      if (next.done) {
        this.cursor = null;
        break;
      }
      this.visit(next.value, now);
    }
    if (quota === 0) this.cursor = null;
    return this.cursor === null ? Math.max(1, this.cycleStartedAt + this.periodMs - now) : this.sliceMs;
  }

  private visit(socket: T, now: number): void {
    if (socket.pingedAt === null) {
      socket.pingedAt = now;
      socket.ping();
    } else if (now - socket.pingedAt >= this.periodMs) {
      socket.terminate();
    }
    // Otherwise its ping is younger than a period: judged on a later visit.
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
