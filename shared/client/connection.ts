import type { ErrorFrame, LobbyEntry, LobbyView } from "../wire.js";
import { ActionOutbox, type WireAction } from "./action-outbox.js";
import { Backoff } from "./backoff.js";
import { ClosePolicy, isHandoffClose } from "./close-policy.js";
import type {
  ActionAck,
  ConnectionStatus,
  LobbyConnectionEvents,
  LobbyConnectionOptions,
  OutgoingAction,
  WelcomeMessage,
} from "./connection-types.js";
import { type Deferred, deferred } from "./deferred.js";
import { TypedEmitter } from "./emitter.js";
import { ActionRejectedError, ConnectionClosedError } from "./errors.js";
import { LivenessWatch } from "./liveness-watch.js";
import { followOn } from "./lobby-fold.js";
import { randomId } from "./random-id.js";
import { readServerFrame } from "./server-frame.js";
import {
  defaultSocketConstructor,
  lobbySocketUrl,
  SOCKET_OPEN,
  type SocketConstructor,
  type SocketLike,
} from "./socket.js";

/** The close a reconnect hint stands for: the lobby moves (CloseCode.Restart). */
const HANDOFF_CLOSE = 1012;
/** How long a socket that sent a reconnect hint may take to close before the client closes it. */
const STRAY_SOCKET_MS = 10_000;

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
  private readonly closes: ClosePolicy;
  private readonly outbox: ActionOutbox;
  private socket: SocketLike | undefined;
  private socketWelcomed = false;
  private socketSentSince = false;
  private retries = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private firstWelcome: Deferred<WelcomeMessage<S>> | undefined;
  private readonly liveness: LivenessWatch;

  constructor(options: LobbyConnectionOptions<S, E>) {
    super();
    this.options = options;
    this.createSocket = options.WebSocket ?? defaultSocketConstructor();
    this.backoff = new Backoff(options.backoff);
    this.closes = new ClosePolicy(options);
    this.outbox = new ActionOutbox(options);
    this.liveness = new LivenessWatch(
      options,
      () => ({
        socket: this.socket,
        welcomed: this.socketWelcomed,
        waiting: this.status === "open" && this.outbox.size > 0,
      }),
      (socket, code, reason) => this.onSocketClose(socket, code, reason),
    );
    this.lastSeq = options.since;
  }

  /** The game as this player sees it (undefined before the first welcome). */
  get state(): S | undefined {
    return this.lobby?.game;
  }

  /** Actions sent but not yet acked or rejected. */
  get pending(): number {
    return this.outbox.size;
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
    if (this.outbox.has(message.id)) return Promise.reject(new Error(`action ${message.id} is already pending`));
    return new Promise((resolve, reject) => {
      this.outbox.add(message, resolve, reject);
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
    this.liveness.opened();
    this.socketSentSince = since !== undefined;
    socket.onmessage = (message) => {
      if (socket !== this.socket || typeof message.data !== "string") return;
      this.liveness.heard();
      this.onFrame(message.data);
    };
    this.liveness.start();
    socket.onclose = (close) => this.onSocketClose(socket, close.code, close.reason);
    // A close event always follows an error, and carries all we act on.
    socket.onerror = () => {};
  }

  private onFrame(frame: string): void {
    const message = readServerFrame<S, E>(frame);
    if (!message) return; // not a frame of the protocol: nothing to act on
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
      case "reconnect":
        this.onReconnectHint(message.reason);
        break;
    }
  }

  /**
   * The server closes this socket with 1012 next (the lobby moves): act on
   * that close now. The close itself arrives after a handshake through the
   * balancer, a round trip later, for a socket that is no longer ours.
   */
  private onReconnectHint(reason: string): void {
    const socket = this.socket;
    if (!socket) return;
    this.onSocketClose(socket, HANDOFF_CLOSE, reason);
    // Only a server that breaks the protocol sends no close after the hint.
    const stray = setTimeout(() => {
      if (socket.readyState === SOCKET_OPEN) socket.close(1000, "reconnected elsewhere");
    }, STRAY_SOCKET_MS);
    (stray as { unref?: () => void }).unref?.();
  }

  private onWelcome(welcome: WelcomeMessage<S>): void {
    this.socketWelcomed = true;
    this.closes.welcomed();
    this.retries = 0;
    this.backoff.reset();
    this.node = welcome.node;
    this.playerId = welcome.player;
    this.lobby = welcome.lobby;
    // On a resume the replayed entries carry lastSeq forward (before or after
    // this welcome); jumping to welcome.seq would drop the ones still to come.
    if (!this.socketSentSince) this.lastSeq = Math.max(this.lastSeq ?? welcome.seq, welcome.seq);
    this.outbox.setLimits(welcome.limits);
    this.setStatus("open");
    // Older unacked actions go first, then whatever a welcome handler sends.
    for (const pending of this.outbox.values()) this.transmit(pending.message);
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
    const next = followOn(this.lobby, seq, entry, this.options.game);
    if (!next) return;
    this.lobby = next;
    this.emit("state", next.game, next);
  }

  private onAck(message: { id: string; seq?: number }): void {
    const pending = this.outbox.take(message.id);
    if (!pending) return; // a re-ack of an action already settled
    const ack: ActionAck = message.seq === undefined ? { id: message.id } : { id: message.id, seq: message.seq };
    pending.resolve(ack);
    this.emit("ack", ack);
  }

  private onServerError(message: ErrorFrame): void {
    const pending = typeof message.id === "string" ? this.outbox.take(message.id) : undefined;
    if (pending) pending.reject(new ActionRejectedError(pending.message.id, message.code, message.message));
    else this.emit("error", message);
  }

  private onSocketClose(socket: SocketLike, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.outbox.clearSchedule();
    this.emit("close", { code, reason });
    if (this.status === "closed") return;
    const fatal = this.closes.closed(code, reason, this.socketWelcomed);
    if (fatal) this.shutdown(fatal);
    else this.scheduleReconnect(code);
  }

  private scheduleReconnect(code: number): void {
    // A handoff means the lobby is already being served elsewhere: come back fast.
    const handoff = this.socketWelcomed && isHandoffClose(code);
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
    this.liveness.stop();
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.outbox.clearSchedule();
    const error = new ConnectionClosedError(reason);
    this.outbox.rejectAll(error);
    this.firstWelcome?.reject(error);
    this.setStatus("closed", reason);
  }

  /** Queues one action on the pacer; it goes out on the socket open by then (or waits for the next welcome). */
  private transmit(message: WireAction): void {
    const socket = this.socket;
    this.outbox.schedule(message, () => {
      if (socket !== this.socket || !socket || socket.readyState !== SOCKET_OPEN) return;
      this.liveness.sent();
      try {
        socket.send(JSON.stringify(message));
      } catch {
        // The socket is going away; the action stays unacked and the next welcome re-sends it.
      }
    });
  }

  private setStatus(status: ConnectionStatus, reason?: string): void {
    if (this.status === status) return;
    this.status = status;
    if (reason === undefined) this.emit("status", status);
    else this.emit("status", status, reason);
  }
}
