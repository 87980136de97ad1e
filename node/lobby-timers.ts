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
  /**
   * How often to look for lobbies owned here, not loaded, whose timer is due
   * within two intervals (this node restarted, or was handed them). Lobbies
   * this node unloaded itself need no scan: their next timer wakes them.
   */
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
 * A lobby this node unloads as idle keeps a wake-up for its next timer, which
 * loads it again when it falls due. Other lobbies not loaded whose timer falls
 * due (owned here from an earlier life, handed here, or released and placed
 * here by the ring) are found by a scan of `lobbies.next_timer_at`, at start
 * and then every scanMs (looking two intervals ahead).
 */
export class LobbyTimers {
  private readonly armed = new Map<LiveLobby, { timer: NodeJS.Timeout; name: string; at: number }>();
  private scanner: NodeJS.Timeout | null = null;
  /** Unloaded lobbies (still owned here) to load again when their next timer falls due, by code. */
  private readonly dormant = new Map<string, NodeJS.Timeout>();

  constructor(private readonly opts: LobbyTimersOptions) {}

  /** After a load or a commit: arm the lobby's next timer (or keep the one armed). */
  arm(lobby: LiveLobby): void {
    this.wakeCancelled(lobby.code);
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

  /** The lifecycle unloaded this lobby (it stays owned here): load it again when its next timer is due. */
  sleep(lobby: LiveLobby): void {
    this.disarm(lobby);
    const next = lobby.closed ? null : lobby.committed.nextTimer();
    if (!next) return;
    const code = lobby.code;
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, next.at - this.opts.now()));
    const timer = setTimeout(() => {
      this.dormant.delete(code);
      if (!this.opts.registry.get(code)) void this.opts.registry.load(code, "timer").catch(() => {});
    }, delay);
    timer.unref();
    this.wakeCancelled(code);
    this.dormant.set(code, timer);
  }

  private wakeCancelled(code: string): void {
    const timer = this.dormant.get(code);
    if (!timer) return;
    clearTimeout(timer);
    this.dormant.delete(code);
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
    void this.scan();
    this.scanner = setInterval(() => void this.scan(), this.opts.scanMs);
    this.scanner.unref();
  }

  /** Loads lobbies owned here (or placed here) whose timer is due before the scan after next. */
  private async scan(): Promise<void> {
    try {
      const due = await listTimersDue(this.opts.pool, this.opts.nodeId, 2 * this.opts.scanMs);
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
    for (const code of [...this.dormant.keys()]) this.wakeCancelled(code);
  }
}
