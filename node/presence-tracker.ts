import type { Pool } from "../shared/db/pool.js";
import { removeStalePresence, touchPresence, writePresenceChanges } from "../shared/db/presence.js";
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
 * Keeps this node's rows in `presence` true. Opens and closes are written
 * as they happen, but batched: every change made while a write is in flight
 * (or in the same turn of the event loop) goes into the next one statement,
 * so a reconnect storm of thousands of players costs a handful of
 * statements, not one per player. Every interval one statement refreshes all
 * of this node's rows (re-adding any lost) and a cleanup removes rows of dead
 * nodes and stale rows; with nobody connected the refresh is skipped.
 */
export class PresenceTracker {
  private timer: NodeJS.Timeout | null = null;
  /** The latest change per player not yet written: true = connected here, false = gone. */
  private pending = new Map<string, { code: string; open: boolean }>();
  private writing = false;
  private scheduled = false;

  constructor(private readonly opts: PresenceOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.refresh(), this.opts.intervalMs);
    this.timer.unref();
  }

  opened(playerId: string, code: string): void {
    this.change(playerId, code, true);
  }

  closed(playerId: string, code: string): void {
    this.change(playerId, code, false);
  }

  private change(playerId: string, code: string, open: boolean): void {
    // Deleted first so the map keeps the order of the latest changes.
    this.pending.delete(playerId);
    this.pending.set(playerId, { code, open });
    if (this.writing || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  /** Writes every pending change in one statement; changes made meanwhile go into the next. */
  private async flush(): Promise<void> {
    this.scheduled = false;
    if (this.writing || this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.writing = true;
    const opened: { playerId: string; code: string }[] = [];
    const closed: string[] = [];
    for (const [playerId, { code, open }] of batch) {
      if (open) opened.push({ playerId, code });
      else closed.push(playerId);
    }
    try {
      await writePresenceChanges(this.opts.pool, this.opts.nodeId, opened, closed);
      const codes = new Set([...batch.values()].map((c) => c.code));
      for (const code of codes) this.opts.onChange?.(code);
    } catch (err) {
      // The refresh re-adds connected players; rows of players gone go stale and are removed.
      this.opts.log.warn({ err: (err as Error).message, changes: batch.size }, "presence write failed");
    } finally {
      this.writing = false;
      if (this.pending.size > 0) void this.flush();
    }
  }

  private async refresh(): Promise<void> {
    const { pool, nodeId, intervalMs } = this.opts;
    try {
      const connected = this.opts.connected();
      if (connected.length > 0) await touchPresence(pool, nodeId, connected);
      await removeStalePresence(pool, intervalMs * 3);
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, "presence refresh failed");
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
