import { z } from "zod";
import {
  type ActionContext,
  defineGame,
  type GameContext,
  type GamePlayer,
  type Refusal,
  refuse,
} from "../../game/define-game.js";
import {
  CLASSIC_FLEET,
  fleetProblem,
  inBounds,
  MAX_BOARD_SIZE,
  MAX_SHIPS,
  MIN_BOARD_SIZE,
  placementProblem,
  randomFleet,
  resolveShot,
  type Ship,
  ship,
  unshotCells,
  wasShot,
} from "./board.js";
import {
  applyBattleship,
  type BattleshipAction,
  type BattleshipEvent,
  type BattleshipSettings,
  type BattleshipState,
  battleshipStatus,
  battleshipTimers,
  boardOf,
  initialState,
  missedTurns,
  otherSeat,
  projectBattleship,
  type Seat,
  seatOf,
  startingSeat,
  viewBattleship,
} from "./rules.js";

/**
 * Battleship as a Ringside game: two seats, everyone else watches. Once both
 * seats are taken each player places a fleet (explicitly, or `{"random":
 * true}`, drawn from ctx.random and recorded in the event) before the
 * placement deadline; fleets still missing then are placed at random. Then
 * the players take turns firing, one shot each, against a turn clock: a
 * player whose clock runs out loses the turn, and after `timeoutsToForfeit`
 * missed turns in a row the round. Sinking the whole enemy fleet wins; a
 * player who leaves mid-round forfeits it. Either seated player may ask for
 * a rematch once a round is over.
 */

const cellIndex = z
  .number()
  .int()
  .min(0)
  .max(MAX_BOARD_SIZE - 1);

const shipSchema = z
  .object({
    row: cellIndex,
    column: cellIndex,
    length: z.number().int().min(1).max(MAX_BOARD_SIZE),
    vertical: z.boolean(),
  })
  .strict();

const optionsSchema = z
  .object({
    size: z.number().int().min(MIN_BOARD_SIZE).max(MAX_BOARD_SIZE).default(10),
    fleet: z
      .array(z.number().int().min(1).max(MAX_BOARD_SIZE))
      .min(1)
      .max(MAX_SHIPS)
      .default([...CLASSIC_FLEET]),
    turnSeconds: z.number().int().min(1).max(600).default(30),
    placementSeconds: z.number().int().min(1).max(3600).default(60),
    timeoutsToForfeit: z.number().int().min(1).max(100).default(3),
  })
  .strict()
  .superRefine((options, issues) => {
    const problem = fleetProblem(options.fleet, options.size);
    if (problem !== null) issues.addIssue({ code: "custom", path: ["fleet"], message: problem });
  });

export const battleship = defineGame({
  id: "battleship",
  version: 1,
  title: "Battleship",
  minPlayers: 2,
  maxPlayers: 2,
  // A seat is free mid-game only after its player left (the round is then over): a newcomer may take it.
  joinInProgress: true,
  options: optionsSchema,
  actions: {
    place: z.union([
      z.object({ random: z.literal(true) }).strict(),
      z.object({ ships: z.array(shipSchema).min(1).max(MAX_SHIPS) }).strict(),
    ]),
    fire: z.object({ row: cellIndex, column: cellIndex }),
    rematch: z.object({}),
  },
  setup: (options: BattleshipSettings) => initialState({ ...options, fleet: [...options.fleet] }),
  decide(state, action, ctx) {
    switch (action.type) {
      case "place":
        return decidePlace(state, action, ctx);
      case "fire":
        return decideFire(state, action, ctx);
      default:
        return decideRematch(state, ctx);
    }
  },
  apply: applyBattleship,
  view: viewBattleship,
  project: projectBattleship,
  status: battleshipStatus,
  timers: battleshipTimers,
  onTimer(state, name, ctx): BattleshipEvent[] {
    if (name === "placement" && state.phase === "placing") return placeMissingFleets(state, ctx);
    if (name === "turn" && state.phase === "playing") return turnTimedOut(state, ctx);
    return [];
  },
  onJoin(state, player, ctx): BattleshipEvent[] {
    const seat = player.seat;
    if (seat !== 1 && seat !== 2) return [];
    const events: BattleshipEvent[] = [{ type: "seated", seat, playerId: player.id }];
    const other = state.seats[otherSeat(seat) - 1];
    if (state.phase === "waiting" && other) events.push(openRound(state, 1, ctx));
    return events;
  },
  onLeave(state, player): BattleshipEvent[] {
    const seat = seatOf(state, player.id);
    if (seat === null) return [];
    const events: BattleshipEvent[] = [];
    const opponent = state.seats[otherSeat(seat) - 1];
    const midRound = state.phase === "placing" || state.phase === "playing";
    if (midRound && opponent) events.push({ type: "won", playerId: opponent, reason: "left" });
    events.push({ type: "unseated", seat });
    return events;
  },
  bot: {
    actions(state, viewer): BattleshipAction[] {
      const seat = seatOf(state, viewer.playerId);
      if (seat === null) return [];
      if (state.phase === "finished") return state.seats.every(Boolean) ? [{ type: "rematch" }] : [];
      if (state.phase === "placing") return boardOf(state, seat).ready ? [] : [{ type: "place", random: true }];
      if (state.phase !== "playing" || state.turn !== seat) return [];
      const target = boardOf(state, otherSeat(seat));
      return unshotCells(state.settings.size, target.shots).map(({ row, column }) => ({ type: "fire", row, column }));
    },
  },
});

function openRound(state: BattleshipState, round: number, ctx: GameContext): BattleshipEvent {
  return { type: "placing", round, deadline: ctx.now + state.settings.placementSeconds * 1000 };
}

function nextTurn(state: BattleshipState, seat: Seat, ctx: GameContext): BattleshipEvent {
  return { type: "turn", seat, deadline: ctx.now + state.settings.turnSeconds * 1000 };
}

/** A seated player's seat, or the refusal for anyone else. */
function playerSeat(state: BattleshipState, player: GamePlayer, what: string): Seat | Refusal {
  return seatOf(state, player.id) ?? refuse("not_a_player", `only seated players can ${what}`);
}

function decidePlace(
  state: BattleshipState,
  action: { random: true } | { ships: Ship[] },
  ctx: ActionContext,
): BattleshipEvent[] | Refusal {
  const seat = playerSeat(state, ctx.player, "place ships");
  if (typeof seat !== "number") return seat;
  if (state.phase === "waiting") return refuse("not_ready", "waiting for a second player");
  if (state.phase !== "placing") return refuse("not_ready", "ships are placed before the battle");
  if (boardOf(state, seat).ready) return refuse("already_placed", "your fleet is already placed");
  const { fleet, size } = state.settings;
  let ships: Ship[];
  if ("ships" in action && Array.isArray(action.ships)) {
    // Rebuilt field by field: the event stores exactly a ship's four fields, in one order.
    ships = action.ships.map((s) => ship(s.row, s.column, s.length, s.vertical));
    const problem = placementProblem(ships, fleet, size);
    if (problem !== null) return refuse("invalid_placement", problem);
  } else if ("random" in action && action.random === true) {
    ships = randomFleet(fleet, size, ctx.random);
  } else {
    return refuse("bad_message", 'place needs "ships" or "random": true');
  }
  const events: BattleshipEvent[] = [
    { type: "placed", seat, playerId: ctx.player.id, ships, random: !("ships" in action) },
  ];
  if (boardOf(state, otherSeat(seat)).ready) events.push(nextTurn(state, startingSeat(state.round), ctx));
  return events;
}

function decideFire(
  state: BattleshipState,
  action: { row: number; column: number },
  ctx: ActionContext,
): BattleshipEvent[] | Refusal {
  const seat = playerSeat(state, ctx.player, "fire");
  if (typeof seat !== "number") return seat;
  if (state.phase === "waiting" || state.phase === "placing") return refuse("not_ready", "the battle has not started");
  if (state.phase === "finished") return refuse("game_over", "this round is over");
  if (state.turn !== seat) return refuse("not_your_turn", "it is the other player's turn");
  const cell = { row: action.row, column: action.column };
  const { size } = state.settings;
  if (!inBounds(cell, size)) return refuse("invalid_move", `the board is ${size}x${size}`);
  const target = boardOf(state, otherSeat(seat));
  if (wasShot(target.shots, cell)) return refuse("already_shot", "you fired there already");
  const { result, sunk } = resolveShot(target.ships ?? [], target.shots, cell);
  const events: BattleshipEvent[] = [{ type: "shot", seat, ...cell, result, sunk }];
  const fleetSunk = sunk !== null && target.sunk.length + 1 === state.settings.fleet.length;
  events.push(
    fleetSunk ? { type: "won", playerId: ctx.player.id, reason: "sunk" } : nextTurn(state, otherSeat(seat), ctx),
  );
  return events;
}

function decideRematch(state: BattleshipState, ctx: ActionContext): BattleshipEvent | Refusal {
  const seat = playerSeat(state, ctx.player, "ask for a rematch");
  if (typeof seat !== "number") return seat;
  if (state.phase !== "finished") return refuse("not_ready", "the round is not over yet");
  if (state.seats[0] === null || state.seats[1] === null) return refuse("not_ready", "waiting for a second player");
  return openRound(state, state.round + 1, ctx);
}

/** The placement deadline passed: fleets still missing are placed at random, and the battle starts. */
function placeMissingFleets(state: BattleshipState, ctx: GameContext): BattleshipEvent[] {
  const events: BattleshipEvent[] = [];
  for (const seat of [1, 2] as const) {
    const playerId = state.seats[seat - 1];
    if (boardOf(state, seat).ready || !playerId) continue;
    const ships = randomFleet(state.settings.fleet, state.settings.size, ctx.random);
    events.push({ type: "placed", seat, playerId, ships, random: true });
  }
  events.push(nextTurn(state, startingSeat(state.round), ctx));
  return events;
}

/** The turn clock ran out: the turn passes, or the round is lost after too many in a row. */
function turnTimedOut(state: BattleshipState, ctx: GameContext): BattleshipEvent[] {
  const seat = state.turn;
  const events: BattleshipEvent[] = [{ type: "timedOut", seat }];
  const opponent = state.seats[otherSeat(seat) - 1];
  if (missedTurns(state, seat) + 1 >= state.settings.timeoutsToForfeit && opponent) {
    events.push({ type: "won", playerId: opponent, reason: "timeouts" });
  } else {
    events.push(nextTurn(state, otherSeat(seat), ctx));
  }
  return events;
}
