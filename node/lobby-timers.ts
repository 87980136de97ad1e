import { listTimersDue } from "../shared/db/lobbies.js";
import type { Pool } from "../shared/db/pool.js";
import type { Logger } from "../shared/log.js";
import type { LiveLobby } from "./live-lobby.js";
import type { LobbyRegistry } from "./lobby-registry.js";

export type LobbyTimersOptions = {
  pool: Pool;
  nodeId: string;
  registry: LobbyRegistry;
  log: Logger;
  /** The database clock (DbClock.now): due times are judged by it on every node. */
  now: () => number;
  /** Whether this node should claim a released lobby (owned by nobody) whose timer falls due: its ring owner. */
  isRingOwner: (code: string) => boolean;
  /** How often to look for lobbies owned here, not loaded, whose timer is due soon. */
  scanMs: number;
};

/** setTimeout's longest delay; a later timer is armed again when this one wakes. */
const MAX_DELAY_MS = 2 ** 31 - 1;
/** A timer woken a little before its due time (clock resync) tries again this soon. */
const EARLY_RETRY_MS = 25;

/**
 * Durable timers. A game's timers live in its state (`timers(state)`), so
 * they survive anything the state survives. Each loaded lobby here has at
 * most one armed setTimeout, for its earliest pending timer; when it fires,
 * the registry logs a `timer` entry under this node's epoch. Exactly once:
 * only the owner commits (fencing), and a committed timer entry marks that
 * (name, due time) as fired in the lobby state every later owner restores.
 * Lobbies not loaded whose timer falls due (owned here, or released and placed
 * here by the ring) are loaded by a periodic scan of `lobbies.next_timer_at`.
 */
export class LobbyTimers {
  private readonly armed = new Map<LiveLobby, { timer: NodeJS.Timeout; name: string; at: number }>();
  private scanner: NodeJS.Timeout | null = null;

  constructor(private readonly opts: LobbyTimersOptions) {}

  /** After a load or a commit: arm the lobby's next timer (or keep the one armed). */
  arm(lobby: LiveLobby): void {
    const next = lobby.closed ? null : lobby.committed.nextTimer();
    const current = this.armed.get(lobby);
    if (current && next && current.name === next.name && current.at === next.at) return;
    this.disarm(lobby);
    if (!next) return;
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, next.at - this.opts.now()));
    const timer = setTimeout(() => this.wake(lobby, next.name, next.at), delay);
    timer.unref();
    this.armed.set(lobby, { timer, ...next });
  }

  disarm(lobby: LiveLobby): void {
    const current = this.armed.get(lobby);
    if (!current) return;
    clearTimeout(current.timer);
    this.armed.delete(lobby);
  }

  get armedCount(): number {
    return this.armed.size;
  }

  private wake(lobby: LiveLobby, name: string, at: number): void {
    this.armed.delete(lobby);
    if (lobby.closed) return;
    if (at > this.opts.now()) this.rearmSoon(lobby);
    // Not fired: the lobby is moving (the next owner fires it) or its timer changed (a commit re-arms).
    else this.opts.registry.fireTimer(lobby, name, at);
  }

  private rearmSoon(lobby: LiveLobby): void {
    const timer = setTimeout(() => this.arm(lobby), EARLY_RETRY_MS);
    timer.unref();
  }

  start(): void {
    this.scanner = setInterval(() => void this.scan(), this.opts.scanMs);
    this.scanner.unref();
  }

  /** Loads lobbies owned here whose timer is due within a scan interval (they were idle, or this node restarted). */
  private async scan(): Promise<void> {
    try {
      const due = await listTimersDue(this.opts.pool, this.opts.nodeId, this.opts.scanMs);
      for (const { code, owned } of due) {
        if (this.opts.registry.get(code) || (!owned && !this.opts.isRingOwner(code))) continue;
        await this.opts.registry.load(code, "timer").catch(() => {});
      }
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, "timer scan failed");
    }
  }

  stop(): void {
    if (this.scanner) clearInterval(this.scanner);
    for (const lobby of [...this.armed.keys()]) this.disarm(lobby);
  }
}
