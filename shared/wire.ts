/**
 * The WebSocket envelope and the lobby as clients see it: types and constants
 * shared by the node, the client SDK and the pages. This module imports
 * nothing, so the SDK (and every browser bundle) can use it without pulling
 * in zod or Node. Game actions and events ride inside the envelope; the node
 * checks them with the game's own schemas (shared/protocol.ts).
 * See docs/protocol.md for the whole exchange.
 */

export const MAX_FRAME_BYTES = 4096;
export const MAX_CHAT_CHARS = 500;
export const MAX_NAME_CHARS = 32;
export const MAX_ACTION_ID_CHARS = 64;
/** A signal's `data`, serialised, may be at most this long. */
export const MAX_SIGNAL_BYTES = 1024;

/** Close codes the node uses, besides ws's own 1009 (frame too large). */
export const CloseCode = {
  /** Graceful handoff or fencing: reconnect through the balancer and resume. */
  Restart: 1012,
  /** Unsupported data: binary frames. */
  Unsupported: 1003,
  /** Invalid payload: repeated malformed messages (protocol abuse). */
  InvalidPayload: 1007,
  /** Try again later: the client reads too slowly; reconnect and resume. */
  TryAgainLater: 1013,
  /** Policy: far over the rate limit. */
  Policy: 1008,
  /** The same player connected again; this older socket is replaced. */
  Replaced: 4000,
  /** The lobby is closed for good (the game ended and it was retired): do not reconnect. */
  LobbyClosed: 4004,
  /** The lobby is not served here (moved or not owned); reconnect through the balancer. */
  NotOwner: 4421,
} as const;

/**
 * Frame types the engine handles itself. Every other `type` a client sends is
 * the name of one of the lobby's game actions, so a game may never use these.
 */
export const ENGINE_FRAME_TYPES = ["chat", "dm", "signal", "leave"] as const;
/** Names no game action may take: the engine's own frames and the server's. */
export const RESERVED_ACTION_NAMES: readonly string[] = [
  ...ENGINE_FRAME_TYPES,
  "welcome",
  "ack",
  "event",
  "error",
  "announcement",
  "lobby",
  "timer",
];

export type ErrorCode =
  | "bad_message"
  | "unknown_action"
  | "refused"
  | "not_your_turn"
  | "invalid_move"
  | "game_over"
  | "not_a_player"
  | "not_ready"
  | "rate_limited"
  | "not_owner"
  | "unavailable"
  | "unknown_player"
  | "lobby_full"
  | "lobby_closed"
  | "internal"
  // A game's own refusal codes (snake_case) travel as they are.
  | (string & {});

// ---- what a client sends ------------------------------------------------

export type ChatFrame = { type: "chat"; id: string; text: string };
export type DirectMessageFrame = { type: "dm"; id: string; to: string; text: string };
/** Ephemeral: fanned out to the lobby at once, never logged, acked or replayed. */
export type SignalFrame = { type: "signal"; id?: string; to?: string; data: unknown };
/** A game action: `type` is the action's name, the other fields its payload (checked by the game's schema). */
export type GameActionFrame = { type: string; id: string; [field: string]: unknown };
export type ClientFrame = ChatFrame | DirectMessageFrame | SignalFrame | GameActionFrame;

// ---- the lobby as a client sees it ---------------------------------------

/** The engine's view of a lobby's life; a game's status maps onto the first three. */
export type LobbyStatus = "waiting" | "playing" | "finished" | "closed";

/** A seat is a number from 1 to the game's maxPlayers; null watches. */
export type PlayerView = { id: string; name: string; seat: number | null };
export type ChatLine = { seq: number; playerId: string; text: string };

/**
 * A lobby as one viewer sees it (welcome, GET /api/lobbies/:code): `game` is
 * the game's view for that viewer, never another player's hidden information.
 */
export type LobbyView<V = unknown> = {
  code: string;
  status: LobbyStatus;
  /** The game's one-line status ("waiting for a second player", "playing 2/4"). */
  statusText: string;
  gameId: string;
  gameVersion: number;
  players: PlayerView[];
  seq: number;
  game: V;
  chat: ChatLine[];
};

/** One game of `GET /api/games`: `options` is the JSON Schema of its create options. */
export type GameInfo = {
  id: string;
  version: number;
  title: string;
  minPlayers: number;
  maxPlayers: number;
  options: Record<string, unknown>;
};

/** GET /api/lobbies/:code: the spectator's view, who is online, and which node serves it. */
export type LobbyResource<V = unknown> = Omit<LobbyView<V>, "players"> & {
  players: (PlayerView & { online: boolean })[];
  node: string;
  epoch: number;
};

/**
 * One entry of a lobby's durable log, as a viewer receives it: every entry has
 * a seq (so gaps show), and its game events are already projected for the
 * viewer. `events` are the game's own events, folded with the game's `apply`.
 */
export type LobbyEntry<E = unknown> =
  | { kind: "lobby_created"; playerId: string; name: string; seat: number | null; gameId: string; events: E[] }
  | { kind: "player_joined"; playerId: string; name: string; seat: number | null; events: E[] }
  | { kind: "player_left"; playerId: string; events: E[] }
  | { kind: "chat"; playerId: string; text: string }
  | { kind: "game"; playerId: string; action: string; events: E[] }
  | { kind: "timer"; name: string; at: number; events: E[] }
  | { kind: "closed"; reason: string };

// ---- what the server sends -------------------------------------------------

export type WelcomeFrame<V = unknown> = {
  type: "welcome";
  node: string;
  seq: number;
  player: string;
  lobby: LobbyView<V>;
  /** The node's per-connection rate limit: the SDK paces its sends by it. */
  limits?: { actionsPerSecond: number; actionBurst: number };
};
export type EventFrame<E = unknown> = { type: "event"; seq: number; event: LobbyEntry<E> };
export type AckFrame = { type: "ack"; id: string; seq?: number };
export type ErrorFrame = { type: "error"; id?: string; code: ErrorCode; message: string };
export type AnnouncementFrame = { type: "announcement"; text: string; at: string };
export type DirectMessageDelivery = {
  type: "dm";
  from: { playerId: string; name: string; lobby: string };
  text: string;
  at: string;
};
export type SignalDelivery = { type: "signal"; from: string; data: unknown };
/**
 * Sent right before a 1012 close (the lobby moves, or the node stops): a
 * client may reconnect at once instead of waiting for the close handshake,
 * which takes a round trip through the balancer.
 */
export type ReconnectHint = { type: "reconnect"; reason: string };

export type ServerFrame<V = unknown, E = unknown> =
  | WelcomeFrame<V>
  | EventFrame<E>
  | AckFrame
  | ErrorFrame
  | AnnouncementFrame
  | DirectMessageDelivery
  | SignalDelivery
  | ReconnectHint;
