import {
  type ChatLine,
  clientMessageSchema,
  type ErrorCode,
  type GameView,
  type LobbyAction,
  type LobbyEvent,
  type LobbySnapshot,
  type LobbyStatus,
  MAX_NAME_CHARS,
  type PlayerView,
  type Seat,
} from "../../shared/protocol.js";
import { dropDisc, emptyBoard, isFull, winLineThrough, withDisc } from "./connect-four.js";

/**
 * One lobby's state machine. Decisions and application are split so the node
 * can validate an action, log the resulting event durably, and only then
 * apply it; replaying the log through `apply` rebuilds the same state.
 */

export const CHAT_HISTORY = 50;
export const DEDUPE_WINDOW = 128;

export type Decision = { ok: true; event: LobbyEvent } | { ok: false; code: ErrorCode; message: string };

export type StoredLobby = {
  v: 1;
  code: string;
  seq: number;
  status: LobbyStatus;
  /** In join order. */
  players: PlayerView[];
  game: GameView;
  /** The last CHAT_HISTORY lines, oldest first. */
  chat: ChatLine[];
  /** Per player, oldest first: the remembered action ids and the seq each was logged at. */
  recentActions: { playerId: string; actions: [actionId: string, seq: number][] }[];
};

type Move = Extract<LobbyEvent, { kind: "move" }>;

export class LobbyState {
  readonly code: string;
  private currentSeq: number;
  private currentStatus: LobbyStatus;
  // Maps rather than objects: player ids are client-influenced and must never hit a prototype key.
  private readonly players: Map<string, PlayerView>;
  private game: GameView;
  private chat: ChatLine[];
  private readonly recentActions: Map<string, Map<string, number>>;

  private constructor(stored: StoredLobby) {
    const copy = structuredClone(stored);
    this.code = copy.code;
    this.currentSeq = copy.seq;
    this.currentStatus = copy.status;
    this.players = new Map(copy.players.map((player) => [player.id, player]));
    this.game = copy.game;
    this.chat = copy.chat;
    this.recentActions = new Map(copy.recentActions.map(({ playerId, actions }) => [playerId, new Map(actions)]));
  }

  static empty(code: string): LobbyState {
    return new LobbyState({
      v: 1,
      code,
      seq: 0,
      status: "waiting",
      players: [],
      game: newRound(1),
      chat: [],
      recentActions: [],
    });
  }

  static fromStored(stored: StoredLobby): LobbyState {
    if (stored?.v !== 1) throw new Error(`unsupported stored lobby version: ${String(stored?.v)}`);
    return new LobbyState(stored);
  }

  toStored(): StoredLobby {
    return structuredClone({
      v: 1,
      code: this.code,
      seq: this.currentSeq,
      status: this.currentStatus,
      players: [...this.players.values()],
      game: this.game,
      chat: this.chat,
      recentActions: [...this.recentActions].map(([playerId, actions]) => ({ playerId, actions: [...actions] })),
    });
  }

  view(): LobbySnapshot {
    return structuredClone({
      code: this.code,
      status: this.currentStatus,
      players: [...this.players.values()],
      seq: this.currentSeq,
      game: this.game,
      chat: this.chat,
    });
  }

  get seq(): number {
    return this.currentSeq;
  }

  get status(): LobbyStatus {
    return this.currentStatus;
  }

  get playerCount(): number {
    return this.players.size;
  }

  hasPlayer(playerId: string): boolean {
    return this.players.has(playerId);
  }

  playerName(playerId: string): string | undefined {
    return this.players.get(playerId)?.name;
  }

  /** Validates an action by a player against the current state. Pure: does NOT mutate. */
  decide(playerId: string, action: LobbyAction): Decision {
    return neverThrow(() => {
      // Re-validated here, not trusted from the caller: this is the last gate before the durable log.
      const parsed = clientMessageSchema.safeParse(action);
      if (!parsed.success || parsed.data.type === "dm") return reject("bad_message", "not a lobby action");
      const checked = parsed.data;
      if (checked.type === "chat") return this.decideChat(playerId, checked.text);
      if (checked.type === "move") return this.decideMove(playerId, checked.column);
      return this.decideRematch(playerId);
    });
  }

  /** The event for a new player joining; seats go to the first two, everyone after watches. Pure. */
  decideJoin(playerId: string, name: string, maxPlayers: number): Decision {
    return neverThrow(() => this.checkJoin(playerId, name, maxPlayers));
  }

  /** Applies a logged event at `seq`, which must be this.seq + 1. Does not re-validate. */
  apply(seq: number, event: LobbyEvent, actionId?: string): void {
    if (seq !== this.currentSeq + 1) {
      throw new Error(`lobby ${this.code}: event seq ${seq} does not follow ${this.currentSeq}`);
    }
    switch (event.kind) {
      case "lobby_created":
      case "player_joined":
        this.applyJoin({ id: event.playerId, name: event.name, seat: event.seat });
        break;
      case "chat":
        this.chat = [...this.chat, { seq, playerId: event.playerId, text: event.text }].slice(-CHAT_HISTORY);
        break;
      case "move":
        this.applyMove(event);
        break;
      case "rematch":
        this.game = { ...newRound(event.round), turn: event.starts };
        this.currentStatus = "playing";
        break;
      default:
        throw new Error(`lobby ${this.code}: unknown event kind ${String((event as { kind?: unknown }).kind)}`);
    }
    if (actionId !== undefined) this.remember(event.playerId, actionId, seq);
    this.currentSeq = seq;
  }

  /** The seq at which this player's earlier action with this id was logged, if still remembered. */
  seqOfAction(playerId: string, actionId: string): number | undefined {
    return this.recentActions.get(playerId)?.get(actionId);
  }

  private checkJoin(playerId: string, name: string, maxPlayers: number): Decision {
    if (typeof playerId !== "string" || playerId.length === 0) return reject("bad_message", "missing player id");
    if (typeof name !== "string") return reject("bad_message", "missing name");
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > MAX_NAME_CHARS) {
      return reject("bad_message", `name must be 1 to ${MAX_NAME_CHARS} characters`);
    }
    if (this.players.has(playerId)) return reject("bad_message", "already in this lobby");
    // Written as a negation so a NaN limit counts as full rather than unlimited.
    if (!(this.players.size < maxPlayers)) return reject("lobby_full", "this lobby is full");
    if (this.players.size === 0) return accept({ kind: "lobby_created", playerId, name: trimmed, seat: 1 });
    const seat = this.seatedCount() < 2 ? 2 : null;
    return accept({ kind: "player_joined", playerId, name: trimmed, seat });
  }

  private decideChat(playerId: string, text: string): Decision {
    if (!this.players.has(playerId)) return reject("not_a_player", "you are not in this lobby");
    return accept({ kind: "chat", playerId, text });
  }

  private decideMove(playerId: string, column: number): Decision {
    const seat = this.players.get(playerId)?.seat;
    if (seat === undefined || seat === null) return reject("not_a_player", "only seated players can move");
    if (this.currentStatus === "waiting") return reject("not_ready", "waiting for a second player");
    if (this.currentStatus === "finished") return reject("game_over", "this round is over");
    if (this.game.turn !== seat) return reject("not_your_turn", "it is the other player's turn");
    const drop = dropDisc(this.game.board, column, seat);
    if (!drop.ok) {
      return reject(
        "invalid_move",
        `column ${column} ${drop.error === "column_full" ? "is full" : "is off the board"}`,
      );
    }
    const move: Move = { kind: "move", playerId, column, row: drop.row, disc: seat };
    const winLine = winLineThrough(drop.board, drop.row, column);
    if (winLine !== null) return accept({ ...move, winner: playerId, winLine });
    if (isFull(drop.board)) return accept({ ...move, draw: true });
    return accept(move);
  }

  private decideRematch(playerId: string): Decision {
    const seat = this.players.get(playerId)?.seat;
    if (seat === undefined || seat === null) return reject("not_a_player", "only seated players can ask for a rematch");
    if (this.currentStatus !== "finished") return reject("not_ready", "the round is not over yet");
    const round = this.game.round + 1;
    return accept({ kind: "rematch", playerId, round, starts: startingSeat(round) });
  }

  private applyJoin(player: PlayerView): void {
    this.players.set(player.id, player);
    if (this.currentStatus === "waiting" && this.seatedCount() === 2) this.currentStatus = "playing";
  }

  private applyMove(move: Move): void {
    const game = this.game;
    game.board = withDisc(game.board, move.row, move.column, move.disc);
    game.moves += 1;
    game.turn = otherSeat(move.disc);
    if (move.winner !== undefined) {
      game.winner = move.winner;
      // Copied so the caller's event object never aliases lobby state.
      game.winLine = move.winLine?.map(([row, column]): [number, number] => [row, column]) ?? null;
      this.currentStatus = "finished";
    } else if (move.draw === true) {
      game.draw = true;
      this.currentStatus = "finished";
    }
  }

  private remember(playerId: string, actionId: string, seq: number): void {
    let actions = this.recentActions.get(playerId);
    if (actions === undefined) {
      actions = new Map();
      this.recentActions.set(playerId, actions);
    }
    // Re-inserting moves the id to the newest end, keeping Map order = age order.
    actions.delete(actionId);
    actions.set(actionId, seq);
    for (const oldest of actions.keys()) {
      if (actions.size <= DEDUPE_WINDOW) break;
      actions.delete(oldest);
    }
  }

  private seatedCount(): number {
    let seated = 0;
    for (const player of this.players.values()) if (player.seat !== null) seated++;
    return seated;
  }
}

/** Seat 1 opens odd rounds, seat 2 even ones, so neither player always moves first. */
export function startingSeat(round: number): Seat {
  return round % 2 === 1 ? 1 : 2;
}

function otherSeat(seat: Seat): Seat {
  return seat === 1 ? 2 : 1;
}

function newRound(round: number): GameView {
  return {
    board: emptyBoard(),
    turn: startingSeat(round),
    winner: null,
    winLine: null,
    draw: false,
    moves: 0,
    round,
  };
}

/** Hostile inputs (throwing getters, proxies, odd valueOf) end up as "bad_message", never as an exception. */
function neverThrow(decision: () => Decision): Decision {
  try {
    return decision();
  } catch {
    return reject("bad_message", "unreadable input");
  }
}

function accept(event: LobbyEvent): Decision {
  return { ok: true, event };
}

function reject(code: ErrorCode, message: string): Decision {
  return { ok: false, code, message };
}
