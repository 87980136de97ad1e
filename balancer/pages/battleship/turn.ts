import { type BattleshipState, boardOf, type Seat, seatOf } from "../../../shared/games/battleship/rules.js";
import type { LobbyView } from "../../../shared/wire.js";
import type { TurnState, TurnView } from "../game-screen.js";
import { cellName } from "./sea-grid.js";

type Lobby = LobbyView<BattleshipState>;

/**
 * The line above the seas: placing, whose turn it is, or how the round
 * ended, from the point of view of the player in this tab (a seat, or a
 * spectator).
 */

export const SEAT_NAMES: Record<Seat, string> = { 1: "Red fleet", 2: "Gold fleet" };

export function describeBattle(lobby: Lobby, me: string): TurnView {
  const game = lobby.game;
  const mine = seatOf(game, me);
  const name = (seat: Seat) => lobby.players.find((p) => p.id === game.seats[seat - 1])?.name ?? SEAT_NAMES[seat];
  switch (game.phase) {
    case "waiting":
      return {
        state: "waiting",
        title: "Waiting for an opponent",
        detail: "Share the link: fleets are placed as soon as a second player joins.",
        seat: null,
      };
    case "placing":
      return describePlacing(game, mine, name);
    case "playing":
      return describeFiring(game, mine, name);
    default:
      return describeEnd(lobby, me, name);
  }
}

function describePlacing(game: BattleshipState, mine: Seat | null, name: (seat: Seat) => string): TurnView {
  if (mine !== null && !boardOf(game, mine).ready) {
    return {
      state: "placing",
      title: "Place your fleet",
      detail:
        "Shuffle until you like it, then Ready. A fleet still missing when the clock runs out is placed at random.",
      seat: mine,
    };
  }
  const waitingFor = ([1, 2] as const).filter((seat) => !boardOf(game, seat).ready).map(name);
  return {
    state: "placing",
    title: waitingFor.length === 1 ? `${waitingFor[0]} is placing their fleet` : "Fleets are being placed",
    detail: mine === null ? `You are watching round ${game.round}.` : "Your fleet is ready.",
    seat: null,
  };
}

function describeFiring(game: BattleshipState, mine: Seat | null, name: (seat: Seat) => string): TurnView {
  const shooter = game.turn;
  if (mine === shooter) {
    const incoming = boardOf(game, mine).shots.at(-1);
    const before = incoming ? `Their last shot: ${cellName(incoming)}, ${incoming.result}. ` : "";
    return {
      state: "mine",
      title: "Your turn: fire!",
      detail: `${before}Click a cell in the enemy waters.`,
      seat: shooter,
    };
  }
  const detail = mine === null ? `You are watching round ${game.round}.` : "Waiting for their shot…";
  return { state: "theirs", title: `${name(shooter)}'s turn`, detail, seat: shooter };
}

function describeEnd(lobby: Lobby, me: string, name: (seat: Seat) => string): TurnView {
  const game = lobby.game;
  const winnerSeat = seatOf(game, game.winner);
  const winner = lobby.players.find((p) => p.id === game.winner)?.name ?? (winnerSeat ? name(winnerSeat) : "Someone");
  const seated = seatOf(game, me) !== null;
  const state: TurnState = game.winner === me ? "won" : seated ? "lost" : "over";
  const why = {
    sunk: "Every ship of the other fleet is sunk.",
    left: "The other player left the battle.",
    timeouts: `The other player let the clock run out ${game.settings.timeoutsToForfeit} times in a row.`,
  }[game.endReason ?? "sunk"];
  const next = seated ? "Ask for a rematch?" : `Round ${game.round} is over.`;
  return { state, title: `${winner} wins!`, detail: `${why} ${next}`, seat: winnerSeat };
}
