import type { Pool } from "../shared/db/pool.js";
import { removeStalePresence, touchPresence, writePresenceChanges } from "../shared/db/presence.js";
import type { Logger } from "../shared/log.js";

/** Slices per refresh interval: each tick touches a tenth of the connected players' rows. */
const REFRESH_SLICES = 10;

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
 * statements, not one per player. Every interval all of this node's rows are
 * refreshed (re-adding any lost), a tenth at a time, and a cleanup removes
 * rows of dead nodes and stale rows; with nobody connected nothing is touched.
 */
export class PresenceTracker {
  private timer: NodeJS.Timeout | null = null;
  /** The latest change per player not yet written: true = connected here, false = gone. */
  private pending = new Map<string, { code: string; open: boolean }>();
  private writing = false;
  private scheduled = false;
  /** This interval's refresh: who was connected when it began, not yet touched; one slice per tick. */
  private toTouch: { playerId: string; code: string }[] = [];
  private sliceSize = 0;
  /** Players whose socket here closed since this interval's list was made. */
  private readonly leftThisInterval = new Set<string>();
  private intervalStartedAt = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(private readonly opts: PresenceOptions) {}

  start(): void {
    this.schedule(this.opts.intervalMs);
  }

  /** Chained timeouts, one refresh at a time: a tick while slices remain, else sleep until the next interval. */
  private schedule(delayMs: number): void {
    this.timer = setTimeout(async () => {
      await this.refresh();
      if (this.stopped) return;
      const { intervalMs } = this.opts;
      const untilNext = this.intervalStartedAt + intervalMs - Date.now();
      this.schedule(this.toTouch.length > 0 ? Math.floor(intervalMs / REFRESH_SLICES) : Math.max(1, untilNext));
    }, delayMs);
    this.timer.unref();
  }

  opened(playerId: string, code: string): void {
    this.change(playerId, code, true);
  }

  closed(playerId: string, code: string): void {
    this.change(playerId, code, false);
  }

  private change(playerId: string, code: string, open: boolean): void {
    if (open) this.leftThisInterval.delete(playerId);
    else this.leftThisInterval.add(playerId);
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

  /**
   * One slice of the refresh. Each interval starts by listing who is
   * connected and cleaning up; every tick then touches the next tenth of
   * that list. One statement for 20,000 rows every interval was a burst of
   * WAL that every group commit queued behind; a tenth per tick is the same
   * work without the stall.
   */
  private async refresh(): Promise<void> {
    const { pool, nodeId, intervalMs } = this.opts;
    try {
      if (this.toTouch.length === 0 && Date.now() - this.intervalStartedAt >= intervalMs) {
        this.intervalStartedAt = Date.now();
        this.toTouch = this.opts.connected();
        this.leftThisInterval.clear();
        this.sliceSize = Math.ceil(this.toTouch.length / REFRESH_SLICES);
        await removeStalePresence(pool, intervalMs * 3);
      }
      // A player who left since the list was made must not be written back.
      const slice = this.toTouch.splice(0, this.sliceSize).filter((p) => !this.leftThisInterval.has(p.playerId));
      if (slice.length > 0) await touchPresence(pool, nodeId, slice);
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, "presence refresh failed");
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
