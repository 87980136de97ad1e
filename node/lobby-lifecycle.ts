import { closeIdleLobbies, retireClosedLobbies } from "../shared/db/lifecycle.js";
import type { Pool } from "../shared/db/pool.js";
import type { Logger } from "../shared/log.js";
import type { LiveLobby } from "./live-lobby.js";
import type { LobbyRegistry } from "./lobby-registry.js";

export type LifecycleWindows = {
  /** A loaded lobby with nobody connected and nothing done for this long leaves memory (it stays owned here). */
  idleUnloadMs: number;
  /** A finished lobby left alone this long is closed. */
  finishedCloseMs: number;
  /** Any lobby left alone (nobody connected, nothing done) this long is closed. */
  abandonedCloseMs: number;
  /** A closed lobby's log is deleted after this long (the lobby row stays as a tombstone: 410). */
  retentionMs: number;
};

export type LifecycleOptions = LifecycleWindows & {
  pool: Pool;
  nodeId: string;
  registry: LobbyRegistry;
  log: Logger;
  tickMs: number;
  canServe: () => boolean;
  onUnloaded?: (count: number) => void;
  onClosed?: (codes: string[]) => void;
  onRetired?: (count: number) => void;
};

/** The reason an idle lobby is unloaded with: it stays owned by this node (its timers wake it). */
export const IDLE_UNLOAD = "idle";

/** Lobbies closed or retired per statement: a sweep never holds many rows locked at once. */
const SWEEP_BATCH = 200;
/** The close and retirement sweeps run at least this often. */
const SWEEP_EVERY_MAX_MS = 60_000;

/**
 * The lobby lifecycle: created -> active -> idle (unloaded from memory,
 * reloaded by its owner on the next request, timers included) -> closed (the
 * game is over, or everyone left) -> retired (log deleted after the
 * retention period). A node's memory, and a failover's work, follow the
 * active lobbies, not every lobby ever created.
 */
export class LobbyLifecycle {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private lastRetire = Number.NEGATIVE_INFINITY;
  private lastClose = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: LifecycleOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One pass: unload what is idle here, close what was left alone, retire old closed logs. */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      this.unloadIdle(performance.now());
      if (!this.opts.canServe()) return;
      await this.closeLeftAlone(performance.now());
      await this.retireOld(performance.now());
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, "lifecycle sweep failed");
    } finally {
      this.running = false;
    }
  }

  /**
   * Retention is counted in days, so its sweep need not run every tick: at
   * most every tenth of the retention (and at least once a minute), and at
   * once again while a batch came back full.
   */
  private async retireOld(now: number): Promise<void> {
    const every = Math.min(SWEEP_EVERY_MAX_MS, this.opts.retentionMs / 10);
    if (now - this.lastRetire < every) return;
    const retired = await retireClosedLobbies(this.opts.pool, this.opts.retentionMs, SWEEP_BATCH);
    if (retired < SWEEP_BATCH) this.lastRetire = now;
    if (retired > 0) this.opts.onRetired?.(retired);
  }

  private unloadIdle(now: number): void {
    let unloaded = 0;
    for (const lobby of this.opts.registry.all()) {
      if (!this.isIdle(lobby, now)) continue;
      this.opts.registry.unload(lobby, 1000, IDLE_UNLOAD);
      unloaded++;
    }
    if (unloaded > 0) {
      this.opts.onUnloaded?.(unloaded);
      this.opts.log.info({ unloaded, loaded: this.opts.registry.size }, "idle lobbies unloaded");
    }
  }

  /** Nobody connected, nothing written or waiting to be, nothing moving, for the idle window. */
  private isIdle(lobby: LiveLobby, now: number): boolean {
    return (
      lobby.connections.size === 0 &&
      lobby.accepting &&
      !lobby.closed &&
      lobby.speculative.seq === lobby.committed.seq &&
      now - lobby.lastActivity >= this.opts.idleUnloadMs
    );
  }

  /** At most every tenth of the shorter close window (and at least every SWEEP_EVERY_MAX_MS): closing is never urgent. */
  private async closeLeftAlone(now: number): Promise<void> {
    const every = Math.min(SWEEP_EVERY_MAX_MS, this.opts.finishedCloseMs / 10, this.opts.abandonedCloseMs / 10);
    if (now - this.lastClose < every) return;
    this.lastClose = now;
    const windows = { finishedMs: this.opts.finishedCloseMs, abandonedMs: this.opts.abandonedCloseMs };
    const closed = await closeIdleLobbies(this.opts.pool, this.opts.nodeId, windows, SWEEP_BATCH);
    // A full batch: more are waiting, sweep again next tick.
    if (closed.length >= SWEEP_BATCH) this.lastClose = Number.NEGATIVE_INFINITY;
    if (closed.length === 0) return;
    this.opts.onClosed?.(closed);
    this.opts.log.info({ closed: closed.length }, "lobbies left alone closed");
  }
}
