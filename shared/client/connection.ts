import type { CloseCode, ErrorFrame, LobbyEntry, LobbyView, ServerFrame } from "../wire.js";
import { Backoff } from "./backoff.js";
import type {
  ActionAck,
  ConnectionStatus,
  LobbyConnectionEvents,
  LobbyConnectionOptions,
  OutgoingAction,
  WelcomeMessage,
} from "./connection-types.js";
import { TypedEmitter } from "./emitter.js";
import { ActionRejectedError, ActionTimeoutError, ConnectionClosedError } from "./errors.js";
import { foldEntry } from "./lobby-fold.js";
import { randomId } from "./random-id.js";
import { SendPacer } from "./send-pacer.js";
import {
  defaultSocketConstructor,
  lobbySocketUrl,
  SOCKET_OPEN,
  type SocketConstructor,
  type SocketLike,
} from "./socket.js";

// Typed against CloseCode so they cannot drift; wire.ts is imported for types only.
const RESTART: (typeof CloseCode)["Restart"] = 1012;
const NOT_OWNER: (typeof CloseCode)["NotOwner"] = 4421;
const REPLACED: (typeof CloseCode)["Replaced"] = 4000;
const POLICY: (typeof CloseCode)["Policy"] = 1008;
const LOBBY_CLOSED: (typeof CloseCode)["LobbyClosed"] = 4004;
/** The server's normal close: the player left the lobby. */
const NORMAL = 1000;
/** Client-side close of a silent socket (4000-4999 are free for applications). */
const STALE = 4408;
/** Until a welcome says otherwise: the node's default per-connection limit. */
const DEFAULT_LIMITS = { actionsPerSecond: 20, actionBurst: 40 };

type WireAction = { type: string; id: string; [field: string]: unknown };

type PendingAction = {
  message: WireAction;
  resolve: (ack: ActionAck) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
};

/**
 * One player's WebSocket to a lobby, kept alive across node failures and
 * handoffs: it reconnects through the balancer with its last seq, drops
 * replayed duplicates, and re-sends unacked actions with their original ids
 * (the server applies each id once), paced by the node's rate limit.
 *
 * `status` is the socket's condition; `state` is the game as this player
 * sees it, kept current by folding every event with the game's own `apply`
 * (pass the game's rules as `game`). S, E and A are the game's state, event
 * and action types.
 */
export class LobbyConnection<
  S = unknown,
  E = unknown,
  A = { type: string; [field: string]: unknown },
> extends TypedEmitter<LobbyConnectionEvents<S, E>> {
  /** Seq of the newest entry received (from a welcome or an event). */
  lastSeq: number | undefined;
  /** The node serving this connection, from the latest welcome. */
  node: string | undefined;
  playerId: string | undefined;
  /** The lobby as this player sees it: the latest welcome, with every later entry folded in. */
  lobby: LobbyView<S> | undefined;
  status: "idle" | ConnectionStatus = "idle";
  /** Why the connection closed for good, once it has. */
  closeReason: string | undefined;

  private readonly options: LobbyConnectionOptions<S, E>;
  private readonly createSocket: SocketConstructor;
  private readonly backoff: Backoff;
  private readonly pacer = new SendPacer(DEFAULT_LIMITS.actionsPerSecond, DEFAULT_LIMITS.actionBurst);
  private readonly unacked = new Map<string, PendingAction>();
  private socket: SocketLike | undefined;
  private socketWelcomed = false;
  private socketSentSince = false;
  private failedHandshakes = 0;
  private failingSince = 0;
  private retries = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private firstWelcome: Deferred<WelcomeMessage<S>> | undefined;
  /** Since when an action sent on the current socket waits with nothing heard at all (0: not waiting). */
  private silentSince = 0;
  private openedAt = 0;
  private livenessTimer: ReturnType<typeof setInterval> | undefined;

  constructor(options: LobbyConnectionOptions<S, E>) {
    super();
    this.options = options;
    this.createSocket = options.WebSocket ?? defaultSocketConstructor();
    this.backoff = new Backoff(options.backoff);
    this.lastSeq = options.since;
  }

  /** The game as this player sees it (undefined before the first welcome). */
  get state(): S | undefined {
    return this.lobby?.game;
  }

  /** Actions sent but not yet acked or rejected. */
  get pending(): number {
    return this.unacked.size;
  }

  /** Opens the socket; resolves on the first welcome, rejects if the connection closes for good first. */
  connect(): Promise<WelcomeMessage<S>> {
    if (this.status === "closed") return Promise.reject(new ConnectionClosedError(this.closeReason ?? "closed"));
    if (!this.firstWelcome) {
      this.firstWelcome = deferred();
      this.setStatus("connecting");
      this.open();
    }
    return this.firstWelcome.promise;
  }

  /** Sends an action and resolves on its ack; it is re-sent after reconnects until then. */
  send(action: OutgoingAction<A>): Promise<ActionAck> {
    if (this.status === "closed") return Promise.reject(new ConnectionClosedError(this.closeReason ?? "closed"));
    const message = { ...action, id: action.id ?? randomId() } as WireAction;
    if (this.unacked.has(message.id)) return Promise.reject(new Error(`action ${message.id} is already pending`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.expire(message.id), this.options.ackTimeoutMs ?? 10_000);
      this.unacked.set(message.id, { message, resolve, reject, timer });
      // Before the welcome it waits: the welcome sends everything unacked, in order.
      if (this.status === "open") this.transmit(message);
    });
  }

  chat(text: string): Promise<ActionAck> {
    return this.send({ type: "chat", text });
  }

  /** Leaves the lobby for good (the seat is freed); the connection then closes. */
  leave(): Promise<ActionAck> {
    return this.send({ type: "leave" });
  }

  /**
   * An ephemeral message (a cursor, "typing…") to everyone else in the lobby,
   * or to one player: sent at once if the socket is open, otherwise dropped.
   * Never logged, acked or replayed. Returns whether it was sent.
   */
  signal(data: unknown, to?: string): boolean {
    const socket = this.socket;
    if (this.status !== "open" || !socket || socket.readyState !== SOCKET_OPEN) return false;
    try {
      socket.send(JSON.stringify(to === undefined ? { type: "signal", data } : { type: "signal", to, data }));
      return true;
    } catch {
      return false;
    }
  }

  /** Stops for good: no more reconnects, and pending sends reject. */
  close(): void {
    if (this.status === "closed") return;
    this.shutdown("closed by the client");
    this.socket?.close(1000, "client closed");
  }

  private open(): void {
    const since = this.lastSeq;
    let socket: SocketLike;
    try {
      socket = new this.createSocket(
        lobbySocketUrl(this.options.baseUrl, this.options.code, this.options.token, since),
      );
    } catch (error) {
      this.shutdown(`cannot open a WebSocket: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.socket = socket;
    this.socketWelcomed = false;
    this.openedAt = Date.now();
    this.silentSince = 0;
    this.socketSentSince = since !== undefined;
    socket.onmessage = (message) => {
      if (socket !== this.socket || typeof message.data !== "string") return;
      this.silentSince = 0;
      this.onFrame(message.data);
    };
    this.watchLiveness();
    socket.onclose = (close) => this.onSocketClose(socket, close.code, close.reason);
    // A close event always follows an error, and carries all we act on.
    socket.onerror = () => {};
  }

  /**
   * A node that is paused or cut off leaves the socket open but silent, and a
   * browser cannot see WebSocket pings. So: an action unanswered for
   * `staleAfterMs` while nothing at all arrived means the socket is dead.
   * It is abandoned (its late events are ignored) and a new one is opened.
   */
  private watchLiveness(): void {
    if (this.livenessTimer) return;
    const staleMs = this.options.staleAfterMs ?? 5000;
    const handshakeMs = this.options.handshakeTimeoutMs ?? 20_000;
    const check = () => {
      const socket = this.socket;
      if (!socket) return;
      const now = Date.now();
      // A connect that never completes (a black-holed address, a stuck upgrade) is abandoned too.
      if (!this.socketWelcomed && now - this.openedAt >= handshakeMs) return this.abandon(socket, "no welcome");
      if (this.status !== "open" || this.unacked.size === 0) return;
      if (this.silentSince === 0 || now - this.silentSince < staleMs) return;
      this.abandon(socket, "no answer from the server");
    };
    this.livenessTimer = setInterval(check, Math.max(50, Math.floor(Math.min(staleMs, handshakeMs) / 4)));
    (this.livenessTimer as { unref?: () => void }).unref?.();
  }

  /** Treats a silent socket as closed now; whatever it says later is ignored. */
  private abandon(socket: SocketLike, reason: string): void {
    this.onSocketClose(socket, STALE, reason);
    try {
      socket.close(STALE, reason);
    } catch {
      // A socket still connecting may refuse close() in some runtimes; it is detached anyway.
    }
  }

  private onFrame(frame: string): void {
    let message: ServerFrame<S, E>;
    try {
      message = JSON.parse(frame) as ServerFrame<S, E>;
    } catch {
      return; // the server only sends JSON; a broken frame has nothing to act on
    }
    switch (message.type) {
      case "welcome":
        this.onWelcome(message);
        break;
      case "event":
        this.onEntry(message.seq, message.event);
        break;
      case "ack":
        this.onAck(message);
        break;
      case "error":
        this.onServerError(message);
        break;
      case "announcement":
        this.emit("announcement", message);
        break;
      case "dm":
        this.emit("dm", message);
        break;
      case "signal":
        this.emit("signal", message);
        break;
    }
  }

  private onWelcome(welcome: WelcomeMessage<S>): void {
    this.socketWelcomed = true;
    this.failedHandshakes = 0;
    this.retries = 0;
    this.backoff.reset();
    this.node = welcome.node;
    this.playerId = welcome.player;
    this.lobby = welcome.lobby;
    // On a resume the replayed entries carry lastSeq forward (before or after
    // this welcome); jumping to welcome.seq would drop the ones still to come.
    if (!this.socketSentSince) this.lastSeq = Math.max(this.lastSeq ?? welcome.seq, welcome.seq);
    const limits = welcome.limits ?? DEFAULT_LIMITS;
    // A margin under the node's own bucket: frames may arrive closer together than they left.
    this.pacer.reset(limits.actionsPerSecond * 0.9, Math.max(1, limits.actionBurst - 2));
    this.setStatus("open");
    // Older unacked actions go first, then whatever a welcome handler sends.
    for (const pending of this.unacked.values()) this.transmit(pending.message);
    this.emit("welcome", welcome);
    this.emit("state", welcome.lobby.game, welcome.lobby);
    this.firstWelcome?.resolve(welcome);
  }

  private onEntry(seq: number, entry: LobbyEntry<E>): void {
    const last = this.lastSeq;
    if (last !== undefined && seq <= last) return; // a replayed duplicate after a resume
    if (last !== undefined && seq > last + 1) this.emit("gap", { from: last + 1, to: seq - 1 });
    this.lastSeq = seq;
    this.emit("event", { seq, event: entry });
    // The welcome's lobby may already include replayed entries (it is as of the welcome's seq).
    if (this.lobby && seq === this.lobby.seq + 1) {
      this.lobby = foldEntry(this.lobby, seq, entry, this.options.game);
      this.emit("state", this.lobby.game, this.lobby);
    }
  }

  private onAck(message: { id: string; seq?: number }): void {
    const pending = this.take(message.id);
    if (!pending) return; // a re-ack of an action already settled
    const ack: ActionAck = message.seq === undefined ? { id: message.id } : { id: message.id, seq: message.seq };
    pending.resolve(ack);
    this.emit("ack", ack);
  }

  private onServerError(message: ErrorFrame): void {
    const pending = message.id === undefined ? undefined : this.take(message.id);
    if (pending) pending.reject(new ActionRejectedError(pending.message.id, message.code, message.message));
    else this.emit("error", message);
  }

  private onSocketClose(socket: SocketLike, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.pacer.clear();
    this.emit("close", { code, reason });
    if (this.status === "closed") return;
    if (!this.socketWelcomed && this.failedHandshakes++ === 0) this.failingSince = Date.now();
    const fatal = this.fatalCloseReason(code, reason);
    if (fatal) this.shutdown(fatal);
    else this.scheduleReconnect(code);
  }

  private fatalCloseReason(code: number, reason: string): string | undefined {
    const detail = reason ? `: ${reason}` : "";
    if (code === REPLACED) return `replaced by a newer connection of the same player${detail}`;
    if (code === POLICY) return `closed by the server for policy${detail}`;
    if (code === LOBBY_CLOSED) return `the lobby is closed${detail}`;
    if (code === NORMAL && this.socketWelcomed) return `closed by the server${detail}`;
    const limit = this.options.maxFailedHandshakes ?? 8;
    const patienceMs = this.options.giveUpAfterMs ?? 300_000;
    // Browsers report a refused handshake (401, 404) only as a 1006 close, so
    // repeated closes before any welcome are how we learn it is hopeless. Both
    // a count and a time: a node restarting, a failover or a database outage refuse for a while.
    if (this.failedHandshakes >= limit && Date.now() - this.failingSince >= patienceMs) {
      return `${this.failedHandshakes} connection attempts in a row closed before a welcome (last: ${code}${detail})`;
    }
    return undefined;
  }

  private scheduleReconnect(code: number): void {
    // A handoff means the lobby is already being served elsewhere: come back fast.
    const handoff = this.socketWelcomed && (code === RESTART || code === NOT_OWNER);
    const delayMs = handoff ? this.backoff.quick() : this.backoff.next();
    this.retries++;
    this.setStatus(this.node === undefined ? "connecting" : "reconnecting");
    this.emit("retry", { attempt: this.retries, delayMs, code });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.open();
    }, delayMs);
  }

  private shutdown(reason: string): void {
    this.closeReason = reason;
    clearInterval(this.livenessTimer);
    this.livenessTimer = undefined;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.pacer.clear();
    const error = new ConnectionClosedError(reason);
    for (const id of [...this.unacked.keys()]) this.take(id)?.reject(error);
    this.firstWelcome?.reject(error);
    this.setStatus("closed", reason);
  }

  /** Queues one action on the pacer; it goes out on the socket open by then (or waits for the next welcome). */
  private transmit(message: WireAction): void {
    const socket = this.socket;
    this.pacer.schedule(() => {
      if (socket !== this.socket || !socket || socket.readyState !== SOCKET_OPEN) return;
      if (!this.unacked.has(message.id)) return; // settled while it waited
      // The wait for an answer starts with the first action sent since the last frame heard.
      if (this.silentSince === 0) this.silentSince = Date.now();
      try {
        socket.send(JSON.stringify(message));
      } catch {
        // The socket is going away; the action stays unacked and the next welcome re-sends it.
      }
    });
  }

  private expire(id: string): void {
    const pending = this.take(id);
    pending?.reject(new ActionTimeoutError(id, this.options.ackTimeoutMs ?? 10_000));
  }

  private take(id: string): PendingAction | undefined {
    const pending = this.unacked.get(id);
    if (!pending) return undefined;
    this.unacked.delete(id);
    clearTimeout(pending.timer);
    return pending;
  }

  private setStatus(status: ConnectionStatus, reason?: string): void {
    if (this.status === status) return;
    this.status = status;
    if (reason === undefined) this.emit("status", status);
    else this.emit("status", status, reason);
  }
}

type Deferred<T> = { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void };

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
