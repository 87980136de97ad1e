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
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly sockets: ReadonlySet<T>,
    private readonly periodMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.floor(periodMs / SLICES)));
    this.timer.unref();
  }

  /** A pong came back. */
  answered(socket: T): void {
    socket.pingedAt = null;
  }

  /** Visits the next slice; after the last socket, the next cycle starts a period after this one did. */
  tick(): void {
    const now = this.now();
    if (this.cursor === null) {
      if (now - this.cycleStartedAt < this.periodMs) return;
      this.cycleStartedAt = now;
      this.cursor = this.sockets.values();
    }
    const quota = Math.ceil(this.sockets.size / SLICES);
    for (let i = 0; i < quota; i++) {
      const next = this.cursor.next();
      if (next.done) {
        this.cursor = null;
        return;
      }
      this.visit(next.value, now);
    }
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
    clearInterval(this.timer);
  }
}
