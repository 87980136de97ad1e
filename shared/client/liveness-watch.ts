import type { LobbyConnectionOptions } from "./connection-types.js";
import type { SocketLike } from "./socket.js";

/**
 * A LobbyConnection's watch for a socket that is dead but never closes.
 * A node that is paused or cut off leaves the socket open but silent, and a
 * browser cannot see WebSocket pings. So: an action unanswered for
 * `staleAfterMs` while nothing at all arrived means the socket is dead.
 * It is abandoned (its late events are ignored) and a new one is opened.
 * Apart from the connection: this keeps the clocks and the timer, and the
 * connection tells it what happens on the socket.
 */

/** Client-side close of a silent socket (4000-4999 are free for applications). */
const STALE = 4408;

/** What a check reads of the connection. */
export type WatchedSocket = {
  socket: SocketLike | undefined;
  welcomed: boolean;
  /** Open, with actions unacked. */
  waiting: boolean;
};

export class LivenessWatch {
  /** Since when an action sent on the current socket waits with nothing heard at all (0: not waiting). */
  private silentSince = 0;
  private openedAt = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  /** A socket found dead goes to `onClose` as if it had closed. */
  constructor(
    private readonly options: Pick<LobbyConnectionOptions, "staleAfterMs" | "handshakeTimeoutMs">,
    private readonly read: () => WatchedSocket,
    private readonly onClose: (socket: SocketLike, code: number, reason: string) => void,
  ) {}

  /** A new socket: its handshake starts now, nothing is awaited on it yet. */
  opened(): void {
    this.openedAt = Date.now();
    this.silentSince = 0;
  }

  /** A frame arrived on the current socket. */
  heard(): void {
    this.silentSince = 0;
  }

  /** An action went out on the current socket. */
  sent(): void {
    // The wait for an answer starts with the first action sent since the last frame heard.
    if (this.silentSince === 0) this.silentSince = Date.now();
  }

  /** Starts the periodic checks (once). */
  start(): void {
    if (this.timer) return;
    const staleMs = this.options.staleAfterMs ?? 5000;
    const handshakeMs = this.options.handshakeTimeoutMs ?? 20_000;
    const check = () => {
      const { socket, welcomed, waiting } = this.read();
      if (!socket) return;
      const now = Date.now();
      // A connect that never completes (a black-holed address, a stuck upgrade) is abandoned too.
      if (!welcomed && now - this.openedAt >= handshakeMs) return this.abandon(socket, "no welcome");
      if (!waiting) return;
      if (this.silentSince === 0 || now - this.silentSince < staleMs) return;
      this.abandon(socket, "no answer from the server");
    };
    this.timer = setInterval(check, Math.max(50, Math.floor(Math.min(staleMs, handshakeMs) / 4)));
    (this.timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Treats a silent socket as closed now; whatever it says later is ignored. */
  private abandon(socket: SocketLike, reason: string): void {
    this.onClose(socket, STALE, reason);
    try {
      socket.close(STALE, reason);
    } catch {
      // A socket still connecting may refuse close() in some runtimes; it is detached anyway.
    }
  }
}
