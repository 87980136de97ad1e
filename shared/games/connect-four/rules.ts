import type { GameRules, GameStatus } from "../../game/game-rules.js";
import { type Board, type Cell, emptyBoard, type Seat, withDisc } from "./board.js";

/**
 * Connect Four's state, events and `apply`: what both the node and the
 * browser need. No schemas and no imports beyond the board, so the client
 * bundles it without zod. There is no hidden information: every viewer sees
 * the whole state.
 */

export type Phase = "waiting" | "playing" | "finished";

export type ConnectFourState = {
  /** board[row][column], row 0 at the top; 0 empty, 1 or 2 a disc. */
  board: Board;
  turn: Seat;
  /** The winner's player id. */
  winner: string | null;
  winLine: Cell[] | null;
  draw: boolean;
  moves: number;
  round: number;
  phase: Phase;
  /** Who holds seat 1 and seat 2. */
  seats: [string | null, string | null];
};

export type ConnectFourEvent =
  | { type: "seated"; seat: Seat; playerId: string }
  | { type: "unseated"; seat: Seat }
  | { type: "dropped"; seat: Seat; column: number; row: number }
  | { type: "won"; playerId: string; line: Cell[] }
  | { type: "drawn" }
  | { type: "rematch"; round: number; starts: Seat };

export type ConnectFourAction = { type: "move"; column: number } | { type: "rematch" };

/** Seat 1 opens odd rounds, seat 2 even ones, so neither player always moves first. */
export function startingSeat(round: number): Seat {
  return round % 2 === 1 ? 1 : 2;
}

export function otherSeat(seat: Seat): Seat {
  return seat === 1 ? 2 : 1;
}

export function initialState(): ConnectFourState {
  return {
    board: emptyBoard(),
    turn: startingSeat(1),
    winner: null,
    winLine: null,
    draw: false,
    moves: 0,
    round: 1,
    phase: "waiting",
    seats: [null, null],
  };
}

/** Pure: returns a new state (the board is copied on write). */
export function applyConnectFour(state: ConnectFourState, event: ConnectFourEvent): ConnectFourState {
  switch (event.type) {
    case "seated": {
      const seats = withSeat(state.seats, event.seat, event.playerId);
      const phase = state.phase === "waiting" && seats[0] !== null && seats[1] !== null ? "playing" : state.phase;
      return { ...state, seats, phase };
    }
    case "unseated":
      return { ...state, seats: withSeat(state.seats, event.seat, null) };
    case "dropped":
      return {
        ...state,
        board: withDisc(state.board, event.row, event.column, event.seat),
        moves: state.moves + 1,
        turn: otherSeat(event.seat),
      };
    case "won":
      return { ...state, winner: event.playerId, winLine: event.line.map(([r, c]): Cell => [r, c]), phase: "finished" };
    case "drawn":
      return { ...state, draw: true, phase: "finished" };
    case "rematch":
      return {
        ...initialState(),
        seats: state.seats,
        round: event.round,
        turn: event.starts,
        phase: "playing",
      };
    default:
      return state;
  }
}

function withSeat(seats: ConnectFourState["seats"], seat: Seat, playerId: string | null): ConnectFourState["seats"] {
  return seat === 1 ? [playerId, seats[1]] : [seats[0], playerId];
}

/** The directory's line. No move counter: the directory republishes a lobby only when this line changes. */
export function connectFourStatus(state: ConnectFourState): GameStatus {
  if (state.phase === "waiting") return { phase: "waiting", text: "waiting for a second player" };
  if (state.phase === "finished")
    return { phase: "finished", text: `round ${state.round}: ${state.draw ? "draw" : "won"}` };
  return { phase: "playing", text: `round ${state.round}` };
}

/** The client's part of the game (see GameRules): fold events into the view. */
export const connectFourRules: GameRules<ConnectFourState, ConnectFourEvent, ConnectFourAction> = {
  id: "connect-four",
  apply: applyConnectFour,
  status: connectFourStatus,
};
