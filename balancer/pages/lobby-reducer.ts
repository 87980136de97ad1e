import type { GameView, LobbyEvent, LobbySnapshot, PlayerView, Seat } from "../../shared/protocol.js";

/**
 * The page's copy of a lobby: the SDK hands over the welcome's snapshot and
 * then raw events, and this folds each event in, the way the node's lobby
 * state machine applies them (node/game/lobby-state.ts). Types only from
 * shared/protocol: its values pull zod into the bundle, and nothing here may
 * come from node/.
 */

/** More than a welcome carries (50), so a long session keeps its scrollback. */
const CHAT_LINES = 200;

export type FoldResult = "applied" | "duplicate" | "gap";

export class LocalLobby {
  lobby: LobbySnapshot | undefined;

  /** A snapshot (welcome or HTTP) replaces the copy unless the copy is already newer. */
  adopt(snapshot: LobbySnapshot): void {
    if (this.lobby && this.lobby.seq > snapshot.seq) return;
    this.lobby = structuredClone(snapshot);
  }

  /** Applies the event that follows the copy; older ones are replays, later ones mean events were missed. */
  fold(seq: number, event: LobbyEvent): FoldResult {
    if (!this.lobby) return "gap";
    if (seq <= this.lobby.seq) return "duplicate";
    if (seq > this.lobby.seq + 1) return "gap";
    this.lobby = applyLobbyEvent(this.lobby, seq, event);
    return "applied";
  }
}

/** The lobby after one event; the input is not modified. */
export function applyLobbyEvent(lobby: LobbySnapshot, seq: number, event: LobbyEvent): LobbySnapshot {
  const next: LobbySnapshot = { ...lobby, seq };
  switch (event.kind) {
    case "lobby_created":
    case "player_joined":
      return withPlayer(next, { id: event.playerId, name: event.name, seat: event.seat });
    case "chat":
      return { ...next, chat: [...lobby.chat, { seq, playerId: event.playerId, text: event.text }].slice(-CHAT_LINES) };
    case "move":
      return withMove(next, event);
    case "rematch":
      return { ...next, status: "playing", game: newRound(lobby.game.board, event.round, event.starts) };
    default:
      // A kind this page does not know (a newer server): keep the seq, change nothing.
      return next;
  }
}

function withPlayer(lobby: LobbySnapshot, player: PlayerView): LobbySnapshot {
  const known = lobby.players.some((p) => p.id === player.id);
  const players = known ? lobby.players.map((p) => (p.id === player.id ? player : p)) : [...lobby.players, player];
  const seated = players.filter((p) => p.seat !== null).length;
  const status = lobby.status === "waiting" && seated === 2 ? "playing" : lobby.status;
  return { ...lobby, players, status };
}

function withMove(lobby: LobbySnapshot, move: Extract<LobbyEvent, { kind: "move" }>): LobbySnapshot {
  const board = lobby.game.board.map((row, r) =>
    r === move.row ? row.map((cell, c) => (c === move.column ? move.disc : cell)) : [...row],
  );
  const game: GameView = { ...lobby.game, board, moves: lobby.game.moves + 1, turn: otherSeat(move.disc) };
  if (move.winner !== undefined) {
    return { ...lobby, status: "finished", game: { ...game, winner: move.winner, winLine: move.winLine ?? null } };
  }
  if (move.draw === true) return { ...lobby, status: "finished", game: { ...game, draw: true } };
  return { ...lobby, game };
}

/** An empty board of the same shape: the page never hard-codes 6x7. */
function newRound(board: number[][], round: number, starts: Seat): GameView {
  return {
    board: board.map((row) => row.map(() => 0)),
    turn: starts,
    winner: null,
    winLine: null,
    draw: false,
    moves: 0,
    round,
  };
}

function otherSeat(seat: Seat): Seat {
  return seat === 1 ? 2 : 1;
}
