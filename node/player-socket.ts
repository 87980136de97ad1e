import type { Socket } from "node:net";
import type WebSocket from "ws";
import { CloseCode, type ServerFrame } from "../shared/wire.js";
import type { LobbyConnection } from "./live-lobby.js";
import type { HeartbeatTarget } from "./socket-heartbeat.js";

/** A client that lets this much pile up unread is too slow to keep: it reconnects and resumes. */
const MAX_BUFFERED_BYTES = 1 << 20;

/**
 * One player's WebSocket. Sending never blocks the lobby: a slow reader is
 * dropped once its buffer passes 1 MiB (it resumes with `since` later).
 * While the welcome and replay are being sent, live events wait in `held`,
 * so a joining client sees every event once and in order.
 */
export class PlayerSocket implements LobbyConnection, HeartbeatTarget {
  private held: string[] | null = null;
  private corked = false;
  /** The welcome always goes first: no reconnect hint before it. */
  private welcomed = false;
  pingedAt: number | null = null;

  constructor(
    readonly ws: WebSocket,
    readonly playerId: string,
    readonly code: string,
  ) {}

  send(message: ServerFrame): void {
    this.sendSerialized(JSON.stringify(message));
  }

  /** For broadcasts: the lobby serialises an event once for all its players. */
  sendSerialized(text: string): void {
    if (this.held) this.held.push(text);
    else this.write(text);
  }

  sendNow(message: ServerFrame): void {
    this.write(JSON.stringify(message));
  }

  /** Past the hold: for the welcome's replay, which must go out before the live events held meanwhile. */
  sendNowSerialized(text: string): void {
    this.write(text);
  }

  private write(text: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.close(CloseCode.TryAgainLater, "slow consumer: too much unread data");
      return;
    }
    this.cork();
    this.welcomed = true;
    this.ws.send(text);
  }

  /**
   * Frames sent in one tick (an ack and the events of a group commit) leave
   * in one write instead of one system call each: at load this halves the
   * node's CPU. ws exposes no API for it, hence the private _socket.
   */
  private cork(): void {
    if (this.corked) return;
    const raw = (this.ws as unknown as { _socket?: Socket })._socket;
    if (!raw) return;
    this.corked = true;
    raw.cork();
    process.nextTick(() => {
      this.corked = false;
      raw.uncork();
    });
  }

  holdLive(): void {
    this.held = [];
  }

  releaseLive(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const text of held) this.write(text);
  }

  ping(): void {
    this.ws.ping();
  }

  terminate(): void {
    this.ws.terminate();
  }

  close(code: number, reason: string): void {
    // "Come back now": the client need not wait for the close handshake to finish, a round trip through the balancer.
    if (code === CloseCode.Restart && this.welcomed && this.ws.readyState === this.ws.OPEN)
      this.sendNow({ type: "reconnect", reason });
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
  }
}

/** A token bucket per connection: `rate` messages a second, bursts up to `burst`. */
export class RateLimiter {
  private tokens: number;
  private last = performance.now();
  /**
   * Refused messages, draining at `rate` a second: it only grows while a
   * client keeps sending faster than twice its allowance, however its
   * messages are spread in time, so a high score is abuse, not a burst.
   */
  abuse = 0;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(): boolean {
    const now = performance.now();
    const refill = ((now - this.last) / 1000) * this.rate;
    this.tokens = Math.min(this.burst, this.tokens + refill);
    this.abuse = Math.max(0, this.abuse - refill);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.abuse++;
    return false;
  }
}
