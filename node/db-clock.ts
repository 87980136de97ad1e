import { databaseNow } from "../shared/db/lobbies.js";
import type { Pool } from "../shared/db/pool.js";
import type { Logger } from "../shared/log.js";

/** How often the offset to the database clock is measured again. */
const RESYNC_MS = 30_000;

/**
 * The database's clock, read locally: game hooks get `ctx.now` from it and
 * timers fall due by it, so every node judges a due time the same way
 * (Postgres is the one referee of time, as for leases). The offset is
 * measured with the round trip halved and refreshed now and then.
 */
export class DbClock {
  private offsetMs = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.sync();
    this.timer = setInterval(() => void this.sync().catch(() => {}), RESYNC_MS);
    this.timer.unref();
  }

  /** Whole milliseconds: due times the games compute from it stay integers. */
  now(): number {
    return Math.round(Date.now() + this.offsetMs);
  }

  private async sync(): Promise<void> {
    const sent = Date.now();
    const remote = await databaseNow(this.pool);
    const received = Date.now();
    if (!Number.isFinite(remote)) return;
    this.offsetMs = remote - (sent + received) / 2;
    if (Math.abs(this.offsetMs) > 1000) this.log.warn({ offsetMs: Math.round(this.offsetMs) }, "local clock is off");
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
