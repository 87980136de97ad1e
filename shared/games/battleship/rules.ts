import type { GameRules, GameStatus, Viewer } from "../../game/game-rules.js";
import type { Ship, Shot, ShotResult } from "./board.js";

/**
 * Battleship's state, events, `apply`, `view`, `project` and status: what
 * both the node and the browser need. No schemas and no imports beyond
 * types, so the client bundles it without zod.
 *
 * Hidden information: a fleet is seen only by the player who placed it. The
 * node's state holds both fleets; `view` and `project` give everyone else
 * `ships: null`. What a shot did (miss, hit, sunk, and the sunk ship) is
 * public, so `apply` folds the same events into a full state on the node and
 * into a redacted view in the browser.
 */

export type Seat = 1 | 2;
export type Phase = "waiting" | "placing" | "playing" | "finished";
/** How a round was won: every ship sunk, the opponent left, or the opponent let the clock run out too often. */
export type EndReason = "sunk" | "left" | "timeouts";

/** The create options, after the game's schema filled in defaults. */
export type BattleshipSettings = {
  size: number;
  /** Ship lengths. */
  fleet: number[];
  turnSeconds: number;
  placementSeconds: number;
  /** Missed turns in a row (the clock ran out) that lose the round. */
  timeoutsToForfeit: number;
};

/** One seat's waters. */
export type SeatBoard = {
  /** Who placed this fleet: only they see `ships`. */
  owner: string | null;
  /** The fleet, for its owner; null for everyone else (and before placement). */
  ships: Ship[] | null;
  ready: boolean;
  /** Shots fired at this board, in order (public). */
  shots: Shot[];
  /** This board's ships that were sunk (public: a sunk ship is revealed). */
  sunk: Ship[];
};

export type BattleshipState = {
  settings: BattleshipSettings;
  /** Who holds seat 1 and seat 2. */
  seats: [string | null, string | null];
  phase: Phase;
  round: number;
  /** boards[0] is seat 1's waters (where seat 2 fires). */
  boards: [SeatBoard, SeatBoard];
  /** Whose turn it is (while playing). */
  turn: Seat;
  /** When the placement (placing) or the turn (playing) runs out: ms on the database clock; a durable timer. */
  deadline: number | null;
  /** Missed turns in a row, per seat. */
  missed: [number, number];
  winner: string | null;
  endReason: EndReason | null;
};

export type BattleshipEvent =
  | { type: "seated"; seat: Seat; playerId: string }
  | { type: "unseated"; seat: Seat }
  /** A round opens (both seats filled, or a rematch): fleets are placed until `deadline`. */
  | { type: "placing"; round: number; deadline: number }
  /** A fleet is placed; `ships` only in the owner's copy of the event. */
  | { type: "placed"; seat: Seat; playerId: string; ships: Ship[] | null; random: boolean }
  /** `seat` fires next, until `deadline`. */
  | { type: "turn"; seat: Seat; deadline: number }
  /** `seat` fired at the other board. */
  | { type: "shot"; seat: Seat; row: number; column: number; result: ShotResult; sunk: Ship | null }
  /** `seat` let its clock run out. */
  | { type: "timedOut"; seat: Seat }
  | { type: "won"; playerId: string; reason: EndReason };

export type BattleshipAction =
  | { type: "place"; random: true }
  | { type: "place"; ships: Ship[] }
  | { type: "fire"; row: number; column: number }
  | { type: "rematch" };

export function otherSeat(seat: Seat): Seat {
  return seat === 1 ? 2 : 1;
}

/** Seat 1 fires first in odd rounds, seat 2 in even ones. */
export function startingSeat(round: number): Seat {
  return round % 2 === 1 ? 1 : 2;
}

export function seatOf(state: BattleshipState, playerId: string | null): Seat | null {
  if (playerId === null) return null;
  if (state.seats[0] === playerId) return 1;
  if (state.seats[1] === playerId) return 2;
  return null;
}

export function boardOf(state: BattleshipState, seat: Seat): SeatBoard {
  return state.boards[seat - 1] as SeatBoard;
}

/** Turns this seat missed in a row. */
export function missedTurns(state: BattleshipState, seat: Seat): number {
  return seat === 1 ? state.missed[0] : state.missed[1];
}

function emptyBoard(): SeatBoard {
  return { owner: null, ships: null, ready: false, shots: [], sunk: [] };
}

export function initialState(settings: BattleshipSettings): BattleshipState {
  return {
    settings,
    seats: [null, null],
    phase: "waiting",
    round: 0,
    boards: [emptyBoard(), emptyBoard()],
    turn: 1,
    deadline: null,
    missed: [0, 0],
    winner: null,
    endReason: null,
  };
}

/** Pure: returns a new state, sharing what did not change. */
export function applyBattleship(state: BattleshipState, event: BattleshipEvent): BattleshipState {
  switch (event.type) {
    case "seated":
      return { ...state, seats: withSeat(state.seats, event.seat, event.playerId) };
    case "unseated":
      return { ...state, seats: withSeat(state.seats, event.seat, null) };
    case "placing":
      return {
        ...state,
        phase: "placing",
        round: event.round,
        boards: [emptyBoard(), emptyBoard()],
        deadline: event.deadline,
        missed: [0, 0],
        winner: null,
        endReason: null,
      };
    case "placed": {
      const ships = event.ships === null ? null : event.ships.map((s) => ({ ...s }));
      return withBoard(state, event.seat, { ...boardOf(state, event.seat), owner: event.playerId, ships, ready: true });
    }
    case "turn":
      return { ...state, phase: "playing", turn: event.seat, deadline: event.deadline };
    case "shot": {
      const target = otherSeat(event.seat);
      const board = boardOf(state, target);
      const shot: Shot = { row: event.row, column: event.column, result: event.result };
      const sunk = event.sunk === null ? board.sunk : [...board.sunk, { ...event.sunk }];
      const next = withBoard(state, target, { ...board, shots: [...board.shots, shot], sunk });
      return { ...next, missed: withMissed(state.missed, event.seat, 0) };
    }
    case "timedOut":
      return { ...state, missed: withMissed(state.missed, event.seat, missedTurns(state, event.seat) + 1) };
    case "won":
      return { ...state, phase: "finished", winner: event.playerId, endReason: event.reason, deadline: null };
    default:
      return state;
  }
}

function withSeat(seats: BattleshipState["seats"], seat: Seat, playerId: string | null): BattleshipState["seats"] {
  return seat === 1 ? [playerId, seats[1]] : [seats[0], playerId];
}

function withBoard(state: BattleshipState, seat: Seat, board: SeatBoard): BattleshipState {
  return { ...state, boards: seat === 1 ? [board, state.boards[1]] : [state.boards[0], board] };
}

function withMissed(missed: [number, number], seat: Seat, value: number): [number, number] {
  return seat === 1 ? [value, missed[1]] : [missed[0], value];
}

/** The state as one viewer may see it: every fleet but the viewer's own is hidden. */
export function viewBattleship(state: BattleshipState, viewer: Viewer): BattleshipState {
  const redact = (board: SeatBoard): SeatBoard =>
    board.ships === null || (board.owner !== null && board.owner === viewer.playerId)
      ? board
      : { ...board, ships: null };
  return { ...state, boards: [redact(state.boards[0]), redact(state.boards[1])] };
}

/** An event as one viewer may see it: a placement shows its ships to their owner alone. */
export function projectBattleship(event: BattleshipEvent, viewer: Viewer): BattleshipEvent {
  if (event.type !== "placed" || event.ships === null || event.playerId === viewer.playerId) return event;
  return { ...event, ships: null };
}

/** The directory's line: the phase and round only (never whose ships are where). */
export function battleshipStatus(state: BattleshipState): GameStatus {
  switch (state.phase) {
    case "waiting":
      return { phase: "waiting", text: "waiting for a second player" };
    case "placing":
      return { phase: "playing", text: `round ${state.round}: placing ships` };
    case "playing":
      return { phase: "playing", text: `round ${state.round}: firing` };
    default:
      return { phase: "finished", text: `round ${state.round}: won` };
  }
}

/** The durable timers: the placement deadline, or the turn clock. */
export function battleshipTimers(state: BattleshipState): Record<string, number> {
  if (state.deadline === null) return {};
  if (state.phase === "placing") return { placement: state.deadline };
  if (state.phase === "playing") return { turn: state.deadline };
  return {};
}

/** The client's part of the game (see GameRules): fold events into the view. */
export const battleshipRules: GameRules<BattleshipState, BattleshipEvent, BattleshipAction> = {
  id: "battleship",
  apply: applyBattleship,
  status: battleshipStatus,
};
