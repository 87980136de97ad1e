import type { Seat } from "../../../shared/games/connect-four/board.js";
import type { ConnectFourState } from "../../../shared/games/connect-four/rules.js";
import type { LobbyView, PlayerView } from "../../../shared/wire.js";
import type { TurnState, TurnView } from "../game-screen.js";

type Lobby = LobbyView<ConnectFourState>;

/**
 * The line above the board: whose turn it is, or how the round ended, from
 * the point of view of the player in this tab (a seat, or a spectator).
 * `state` goes into data-state for styling and for tests.
 */

export const SEAT_COLOURS: Record<Seat, string> = { 1: "Red", 2: "Yellow" };

export function describeTurn(lobby: Lobby, me: string | undefined): TurnView {
  const { game } = lobby;
  const mine = lobby.players.find((p) => p.id === me);
  if (lobby.status === "finished") return describeEnd(lobby, me);
  if (lobby.status === "waiting") {
    return {
      state: "waiting",
      title: "Waiting for an opponent",
      detail: "Share the link: the game starts as soon as a second player joins.",
      seat: null,
    };
  }
  const mover = seatHolder(lobby.players, game.turn);
  if (mine?.seat === game.turn) {
    return { state: "mine", title: "Your turn", detail: "Click a column to drop your disc.", seat: game.turn };
  }
  const name = mover?.name ?? SEAT_COLOURS[game.turn];
  const detail = mine?.seat ? "Waiting for their move…" : `You are watching round ${game.round}.`;
  return { state: "theirs", title: `${name}'s turn`, detail, seat: game.turn };
}

function describeEnd(lobby: Lobby, me: string | undefined): TurnView {
  const { game } = lobby;
  if (game.draw || game.winner === null) {
    return { state: "draw", title: "It's a draw", detail: "The board is full. Rematch?", seat: null };
  }
  const winner = lobby.players.find((p) => p.id === game.winner);
  const seated = lobby.players.some((p) => p.id === me && p.seat !== null);
  const state: TurnState = game.winner === me ? "won" : seated ? "lost" : "over";
  const detail = {
    won: "Four in a row. Well played!",
    lost: "So close. Ask for a rematch?",
    over: `Round ${game.round} is over.`,
  }[state as "won" | "lost" | "over"];
  return { state, title: `${winner?.name ?? "Someone"} wins!`, detail, seat: asSeat(winner?.seat) };
}

export function seatHolder(players: PlayerView[], seat: Seat): PlayerView | undefined {
  return players.find((p) => p.seat === seat);
}

/** Connect Four seats are 1 and 2; anything else (a spectator) has none. */
export function asSeat(seat: number | null | undefined): Seat | null {
  return seat === 1 || seat === 2 ? seat : null;
}
