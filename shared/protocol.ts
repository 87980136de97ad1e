import { z } from "zod";

/**
 * The WebSocket wire protocol, shared by the node, the balancer's pages and
 * the client SDK. Every client message is validated here before the node
 * looks at it; see docs/protocol.md for the whole exchange.
 */

export const MAX_FRAME_BYTES = 4096;
export const MAX_CHAT_CHARS = 500;
export const MAX_NAME_CHARS = 32;
export const BOARD_ROWS = 6;
export const BOARD_COLUMNS = 7;

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
  /** The lobby is not served here (moved or not owned); reconnect through the balancer. */
  NotOwner: 4421,
} as const;

const actionId = z.string().min(1).max(64);
const text = z.string().trim().min(1).max(MAX_CHAT_CHARS);

export const clientMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("chat"), id: actionId, text }).strict(),
  z
    .object({
      type: z.literal("move"),
      id: actionId,
      column: z
        .number()
        .int()
        .min(0)
        .max(BOARD_COLUMNS - 1),
    })
    .strict(),
  z.object({ type: z.literal("rematch"), id: actionId }).strict(),
  /** A direct message to a player in any lobby, on any node (not part of the lobby log). */
  z.object({ type: z.literal("dm"), id: actionId, to: z.string().min(1).max(32), text }).strict(),
]);

export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type LobbyAction = Exclude<ClientMessage, { type: "dm" }>;

export type ErrorCode =
  | "bad_message"
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
  | "internal";

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; id?: string; message: string };

/** Validates one text frame. Never throws. */
export function parseClientMessage(raw: string): ParseResult {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, message: "frame is not valid JSON" };
  }
  const id =
    typeof data === "object" && data !== null && typeof (data as { id?: unknown }).id === "string"
      ? ((data as { id: string }).id.slice(0, 64) as string)
      : undefined;
  const result = clientMessageSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    return { ok: false, id, message: `${where}${issue?.message ?? "invalid message"}` };
  }
  return { ok: true, message: result.data };
}

// ---- lobby state as the client sees it ---------------------------------

export type Seat = 1 | 2;
export type LobbyStatus = "waiting" | "playing" | "finished";

export type PlayerView = { id: string; name: string; seat: Seat | null };

export type GameView = {
  /** board[row][column], row 0 at the top; 0 empty, 1 or 2 a disc. */
  board: number[][];
  turn: Seat;
  winner: string | null;
  winLine: [number, number][] | null;
  draw: boolean;
  moves: number;
  round: number;
};

export type ChatLine = { seq: number; playerId: string; text: string };

export type LobbySnapshot = {
  code: string;
  status: LobbyStatus;
  players: PlayerView[];
  seq: number;
  game: GameView;
  chat: ChatLine[];
};

/** GET /api/lobbies/:code: the snapshot, who is online (from presence), and which node serves it. */
export type LobbyResource = Omit<LobbySnapshot, "players"> & {
  players: (PlayerView & { online: boolean })[];
  node: string;
  epoch: number;
};

/** What the durable log stores for each acknowledged action. */
export type LobbyEvent =
  | { kind: "lobby_created"; playerId: string; name: string; seat: Seat }
  | { kind: "player_joined"; playerId: string; name: string; seat: Seat | null }
  | { kind: "chat"; playerId: string; text: string }
  | {
      kind: "move";
      playerId: string;
      column: number;
      row: number;
      disc: Seat;
      winner?: string;
      winLine?: [number, number][];
      draw?: boolean;
    }
  | { kind: "rematch"; playerId: string; round: number; starts: Seat };

export type ServerMessage =
  | { type: "welcome"; node: string; seq: number; player: string; lobby: LobbySnapshot }
  | { type: "ack"; id: string; seq?: number }
  | { type: "event"; seq: number; event: LobbyEvent }
  | { type: "error"; id?: string; code: ErrorCode; message: string }
  | { type: "announcement"; text: string; at: string }
  | { type: "dm"; from: { playerId: string; name: string; lobby: string }; text: string; at: string };
