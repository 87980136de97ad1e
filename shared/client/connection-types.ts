import type {
  AckFrame,
  AnnouncementFrame,
  DirectMessageDelivery,
  ErrorFrame,
  LobbyEntry,
  LobbyView,
  SignalDelivery,
  WelcomeFrame,
} from "../wire.js";
import type { BackoffOptions } from "./backoff.js";
import type { ClientRules } from "./lobby-fold.js";
import type { SocketConstructor } from "./socket.js";

/** The types a LobbyConnection takes and emits. S: the game's (viewer's) state, E: its events, A: its actions. */

export type WelcomeMessage<S = unknown> = WelcomeFrame<S>;
export type ServerErrorMessage = ErrorFrame;
export type AnnouncementMessage = AnnouncementFrame;
export type DirectMessage = DirectMessageDelivery;
export type SignalMessage = SignalDelivery;
export type SequencedEntry<E = unknown> = { seq: number; event: LobbyEntry<E> };
export type ActionAck = { id: string; seq?: number };
export type { AckFrame };

/** Engine actions every lobby takes, whatever its game. */
export type ChatAction = { type: "chat"; text: string };
export type DirectMessageAction = { type: "dm"; to: string; text: string };
export type LeaveAction = { type: "leave" };

/** What `send` takes: a game action (typed by the game's actions A) or an engine action; the SDK fills in `id`. */
export type OutgoingAction<A = { type: string; [field: string]: unknown }> = (
  | A
  | ChatAction
  | DirectMessageAction
  | LeaveAction
) & { id?: string };

export type ConnectionStatus = "connecting" | "open" | "reconnecting" | "closed";

export type LobbyConnectionEvents<S = unknown, E = unknown> = {
  welcome: [welcome: WelcomeMessage<S>];
  /** Every log entry, in seq order, once (replays after a resume included, duplicates dropped). */
  event: [event: SequencedEntry<E>];
  /** `connection.state` (the game as this player sees it) or `connection.lobby` changed. */
  state: [state: S, lobby: LobbyView<S>];
  ack: [ack: ActionAck];
  /** Server errors that answer no pending action. */
  error: [error: ServerErrorMessage];
  announcement: [announcement: AnnouncementMessage];
  dm: [dm: DirectMessage];
  /** Ephemeral frames from other players (cursors, typing): never logged or replayed. */
  signal: [signal: SignalMessage];
  /** `reason` is set when the connection closes for good. */
  status: [status: ConnectionStatus, reason?: string];
  /** Entries from..to (inclusive) were never received: `lobby` is refreshed at the next welcome. */
  gap: [gap: { from: number; to: number }];
  /** Every socket close, including the ones followed by a reconnect. */
  close: [close: { code: number; reason: string }];
  /** A reconnect is scheduled after `delayMs`. */
  retry: [retry: { attempt: number; delayMs: number; code: number }];
};

export type LobbyConnectionOptions<S = unknown, E = unknown> = {
  /** http(s) URL of the balancer; the ws(s) URL is derived from it. */
  baseUrl: string;
  code: string;
  token: string;
  /** The game's client rules (its `apply`, and `status`): `connection.state` is then kept current by folding events. */
  game?: ClientRules<S, E>;
  /** Defaults to globalThis.WebSocket; Node 20 callers pass `ws`. */
  WebSocket?: SocketConstructor;
  /** Resume after this seq on the first connect. */
  since?: number;
  backoff?: BackoffOptions;
  /** How long send() waits for its ack, reconnects included (default 10000). */
  ackTimeoutMs?: number;
  /** Sockets closed before a welcome, in a row, before giving up (default 8). */
  maxFailedHandshakes?: number;
  /** An action unanswered this long while nothing at all arrives: the socket is dead, reconnect (default 5000). */
  staleAfterMs?: number;
  /**
   * A connection attempt with no welcome after this long is abandoned and retried (default 20000). Not
   * shorter: in a reconnect storm (thousands of players of a dead node at once) welcomes queue for
   * seconds, and every attempt abandoned while it waits is one more the servers must do again.
   */
  handshakeTimeoutMs?: number;
  /**
   * ...and for at least this long, before giving up (default 300000: five minutes, so a database
   * outage or a rolling restart never strands players; Infinity: never give up).
   */
  giveUpAfterMs?: number;
};
