import type { ClientMessage, LobbyEvent, ServerMessage } from "../protocol.js";
import type { BackoffOptions } from "./backoff.js";
import type { SocketConstructor } from "./socket.js";

/** The types a LobbyConnection takes and emits. */

export type WelcomeMessage = Extract<ServerMessage, { type: "welcome" }>;
export type ServerErrorMessage = Extract<ServerMessage, { type: "error" }>;
export type AnnouncementMessage = Extract<ServerMessage, { type: "announcement" }>;
export type DirectMessage = Extract<ServerMessage, { type: "dm" }>;
export type SequencedEvent = { seq: number; event: LobbyEvent };
export type ActionAck = { id: string; seq?: number };

/** A client message whose id the SDK fills in when missing. */
export type OutgoingAction = ClientMessage extends infer M
  ? M extends { id: string }
    ? Omit<M, "id"> & { id?: string }
    : never
  : never;

export type ConnectionStatus = "connecting" | "open" | "reconnecting" | "closed";
export type ConnectionState = "idle" | ConnectionStatus;

export type LobbyConnectionEvents = {
  welcome: [welcome: WelcomeMessage];
  event: [event: SequencedEvent];
  ack: [ack: ActionAck];
  /** Server errors that answer no pending action. */
  error: [error: ServerErrorMessage];
  announcement: [announcement: AnnouncementMessage];
  dm: [dm: DirectMessage];
  /** `reason` is set when the connection closes for good. */
  status: [status: ConnectionStatus, reason?: string];
  /** Events from..to (inclusive) were never received. */
  gap: [gap: { from: number; to: number }];
  /** Every socket close, including the ones followed by a reconnect. */
  close: [close: { code: number; reason: string }];
  /** A reconnect is scheduled after `delayMs`. */
  retry: [retry: { attempt: number; delayMs: number; code: number }];
};

export type LobbyConnectionOptions = {
  /** http(s) URL of the balancer; the ws(s) URL is derived from it. */
  baseUrl: string;
  code: string;
  token: string;
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
  /** A connection attempt with no welcome after this long is abandoned and retried (default 10000). */
  handshakeTimeoutMs?: number;
  /** ...and for at least this long (default 30000 ms), before giving up. */
  giveUpAfterMs?: number;
};
