import type WebSocket from "ws";
import { CloseCode, type ServerMessage } from "../shared/protocol.js";
import type { LobbyConnection } from "./live-lobby.js";

/** A client that lets this much pile up unread is too slow to keep: it reconnects and resumes. */
const MAX_BUFFERED_BYTES = 1 << 20;

/**
 * One player's WebSocket. Sending never blocks the lobby: a slow reader is
 * dropped once its buffer passes 1 MiB (it resumes with `since` later).
 * While the welcome and replay are being sent, live events wait in `held`,
 * so a joining client sees every event once and in order.
 */
export class PlayerSocket implements LobbyConnection {
  private held: ServerMessage[] | null = null;
  alive = true;

  constructor(
    readonly ws: WebSocket,
    readonly playerId: string,
    readonly code: string,
  ) {}

  send(message: ServerMessage): void {
    if (this.held) {
      this.held.push(message);
      return;
    }
    this.sendNow(message);
  }

  sendNow(message: ServerMessage): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.close(CloseCode.TryAgainLater, "slow consumer: too much unread data");
      return;
    }
    this.ws.send(JSON.stringify(message));
  }

  holdLive(): void {
    this.held = [];
  }

  releaseLive(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const message of held) this.sendNow(message);
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
  }
}

/** A token bucket per connection: `rate` messages a second, bursts up to `burst`. */
export class RateLimiter {
  private tokens: number;
  private last = performance.now();
  /** Messages refused in a row; far over the limit is abuse. */
  refusedInARow = 0;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.refusedInARow = 0;
      return true;
    }
    this.refusedInARow++;
    return false;
  }
}
