import type { Pool } from "../shared/db/pool.js";
import { removePresence, removeStalePresence, touchPresence, upsertPresence } from "../shared/db/presence.js";
import type { Logger } from "../shared/log.js";

export type PresenceOptions = {
  pool: Pool;
  nodeId: string;
  intervalMs: number;
  log: Logger;
  /** Who is connected to this node right now. */
  connected: () => { playerId: string; code: string }[];
  /** A lobby's online count changed (the live directory follows it). */
  onChange?: (code: string) => void;
};

/**
 * Keeps this node's rows in `presence` true: one row written when a socket
 * opens, removed when it closes, and every interval one statement refreshes
 * all of them and a cleanup removes rows of dead nodes and stale rows.
 */
export class PresenceTracker {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: PresenceOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.refresh(), this.opts.intervalMs);
    this.timer.unref();
  }

  opened(playerId: string, code: string): void {
    const { pool, nodeId } = this.opts;
    upsertPresence(pool, { playerId, code, node: nodeId })
      .then(() => this.opts.onChange?.(code))
      .catch((err) => this.opts.log.warn({ err: (err as Error).message }, "presence write failed"));
  }

  closed(playerId: string, code: string): void {
    removePresence(this.opts.pool, playerId, this.opts.nodeId)
      .then(() => this.opts.onChange?.(code))
      .catch((err) => this.opts.log.warn({ err: (err as Error).message }, "presence delete failed"));
  }

  private async refresh(): Promise<void> {
    const { pool, nodeId, intervalMs } = this.opts;
    try {
      await touchPresence(pool, nodeId, this.opts.connected());
      await removeStalePresence(pool, intervalMs * 3);
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, "presence refresh failed");
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
