import type { GameNames } from "./game-names.js";

/**
 * A new game inside this repository (`npm run new-game -- <id>`), in
 * shared/games/<id>/ like Connect Four: TypeScript, relative imports, a
 * vitest file. The game is small but complete (seats, turns, a refusal per
 * rule, a leaver forfeits, a bot), so it passes the conformance suite as
 * generated and shows where each part goes. docs/games.md explains each hook.
 */
export function repoGameFiles(n: GameNames): Record<string, string> {
  return {
    "rules.ts": rules(n),
    "game.ts": game(n),
    "index.ts": `export { ${n.game} } from "./game.js";\nexport * from "./rules.js";\n`,
    [`${n.id}.test.ts`]: test(n),
  };
}

function rules(n: GameNames): string {
  return `import type { GameRules, GameStatus } from "../../game/game-rules.js";

/**
 * ${n.title}: players take turns adding 1, 2 or 3 to a running total; whoever
 * reaches the target wins. Its state, events and \`apply\`: what both the node
 * and every client need. No schemas and no imports, so a browser bundles it
 * without zod. Nothing is hidden: every viewer sees the whole state.
 */

export type Seat = 1 | 2;

export type ${n.pascal}State = {
  /** Who holds seat 1 and seat 2. */
  seats: [string | null, string | null];
  phase: "waiting" | "playing" | "finished";
  total: number;
  target: number;
  turn: Seat;
  /** The winner's player id. */
  winner: string | null;
};

export type ${n.pascal}Event =
  | { type: "seated"; seat: Seat; playerId: string }
  | { type: "unseated"; seat: Seat }
  | { type: "added"; seat: Seat; amount: number }
  | { type: "won"; playerId: string };

export type ${n.pascal}Action = { type: "add"; amount: number };

export const DEFAULT_TARGET = 21;

export function initialState(target: number): ${n.pascal}State {
  return { seats: [null, null], phase: "waiting", total: 0, target, turn: 1, winner: null };
}

/** Pure: a new state from what the event says (the client folds projected events with it too). */
export function apply${n.pascal}(state: ${n.pascal}State, event: ${n.pascal}Event): ${n.pascal}State {
  switch (event.type) {
    case "seated": {
      const seats = withSeat(state.seats, event.seat, event.playerId);
      const full = seats[0] !== null && seats[1] !== null;
      return { ...state, seats, phase: state.phase === "waiting" && full ? "playing" : state.phase };
    }
    case "unseated":
      return { ...state, seats: withSeat(state.seats, event.seat, null) };
    case "added":
      return { ...state, total: state.total + event.amount, turn: event.seat === 1 ? 2 : 1 };
    case "won":
      return { ...state, winner: event.playerId, phase: "finished" };
    default:
      return state;
  }
}

function withSeat(seats: ${n.pascal}State["seats"], seat: Seat, playerId: string | null): ${n.pascal}State["seats"] {
  return seat === 1 ? [playerId, seats[1]] : [seats[0], playerId];
}

/** The directory's one-liner: it is republished only when it changes, so no move counter here. */
export function ${n.status}(state: ${n.pascal}State): GameStatus {
  if (state.phase === "waiting") return { phase: "waiting", text: "waiting for a second player" };
  if (state.phase === "finished") return { phase: "finished", text: "won" };
  return { phase: "playing", text: \`race to \${state.target}\` };
}

/** The client's part of the game: pass it as \`game\` to the SDK and \`connection.state\` follows. */
export const ${n.rules}: GameRules<${n.pascal}State, ${n.pascal}Event, ${n.pascal}Action> = {
  id: "${n.id}",
  apply: apply${n.pascal},
  status: ${n.status},
};
`;
}

function game(n: GameNames): string {
  return `import { z } from "zod";
import { defineGame, type Refusal, refuse } from "../../game/define-game.js";
import {
  apply${n.pascal},
  DEFAULT_TARGET,
  initialState,
  type ${n.pascal}Action,
  type ${n.pascal}Event,
  type ${n.pascal}State,
  ${n.status},
  type Seat,
} from "./rules.js";

/** ${n.title} as a Ringside game: two seats, everyone else watches; a player who leaves mid-game forfeits. */
export const ${n.game} = defineGame({
  id: "${n.id}",
  // Version N+1 must still replay every log version N wrote (docs/games.md).
  version: 1,
  title: "${n.title}",
  minPlayers: 2,
  maxPlayers: 2,
  options: z.object({ target: z.number().int().min(5).max(100).optional() }),
  actions: { add: z.object({ amount: z.number().int().min(1).max(3) }) },
  setup: (options) => initialState(options.target ?? DEFAULT_TARGET),
  decide(state, action, ctx): ${n.pascal}Event[] | Refusal {
    const seat = seatOf(state, ctx.player.id);
    if (seat === null) return refuse("not_a_player", "only seated players can play");
    if (state.phase === "waiting") return refuse("not_ready", "waiting for a second player");
    if (state.phase === "finished") return refuse("game_over", "the game is over");
    if (state.turn !== seat) return refuse("not_your_turn", "it is the other player's turn");
    const total = state.total + action.amount;
    if (total > state.target) return refuse("invalid_move", \`that passes \${state.target}\`);
    const events: ${n.pascal}Event[] = [{ type: "added", seat, amount: action.amount }];
    if (total === state.target) events.push({ type: "won", playerId: ctx.player.id });
    return events;
  },
  apply: apply${n.pascal},
  status: ${n.status},
  onJoin(_state, player): ${n.pascal}Event[] {
    return player.seat === 1 || player.seat === 2 ? [{ type: "seated", seat: player.seat, playerId: player.id }] : [];
  },
  onLeave(state, player): ${n.pascal}Event[] {
    const seat = seatOf(state, player.id);
    if (seat === null) return [];
    const opponent = state.seats[seat === 1 ? 1 : 0];
    const forfeit: ${n.pascal}Event[] = state.phase === "playing" && opponent ? [{ type: "won", playerId: opponent }] : [];
    return [...forfeit, { type: "unseated", seat }];
  },
  bot: {
    // Every legal action for this viewer, from what it sees: the conformance suite and the drill play with it.
    actions(state, viewer): ${n.pascal}Action[] {
      if (viewer.seat !== state.turn || state.phase !== "playing") return [];
      return [1, 2, 3]
        .filter((amount) => state.total + amount <= state.target)
        .map((amount) => ({ type: "add", amount }));
    },
  },
});

function seatOf(state: ${n.pascal}State, playerId: string): Seat | null {
  if (state.seats[0] === playerId) return 1;
  if (state.seats[1] === playerId) return 2;
  return null;
}
`;
}

function test(n: GameNames): string {
  return `import { describe, expect, it } from "vitest";
import { checkConformance } from "../../../node/lobby/conformance.js";
import type { ActionContext, GamePlayer } from "../../game/define-game.js";
import { createRandom } from "../../game/random.js";
import { ${n.game} } from "./game.js";
import { apply${n.pascal}, type ${n.pascal}Event, type ${n.pascal}State } from "./rules.js";

const alice: GamePlayer = { id: "alice", name: "Alice", seat: 1 };
const bob: GamePlayer = { id: "bob", name: "Bob", seat: 2 };

function ctxOf(player: GamePlayer): ActionContext {
  return { now: 0, random: createRandom("test"), players: [alice, bob], player };
}

/** A game at a total, both players seated, seat 1 to move. */
function stateAt(total: number, target = 21): ${n.pascal}State {
  const seated: ${n.pascal}Event[] = [
    { type: "seated", seat: 1, playerId: "alice" },
    { type: "seated", seat: 2, playerId: "bob" },
  ];
  const state = seated.reduce(apply${n.pascal}, ${n.game}.setup({ target }, ctxOf(alice)));
  return { ...state, total };
}

describe("${n.id}", () => {
  it("passes the conformance suite", () => {
    const report = checkConformance(${n.game}, { games: 10, steps: 200 });
    expect(report.problems).toEqual([]);
    expect(report.actions).toBeGreaterThan(0);
  });

  it("a player who reaches the target wins", () => {
    const events = ${n.game}.decide(stateAt(19), { type: "add", amount: 2 }, ctxOf(alice));
    expect(events).toEqual([
      { type: "added", seat: 1, amount: 2 },
      { type: "won", playerId: "alice" },
    ]);
  });

  it("refuses a move out of turn, and one past the target", () => {
    const outOfTurn = ${n.game}.decide(stateAt(0), { type: "add", amount: 1 }, ctxOf(bob));
    expect(outOfTurn).toMatchObject({ code: "not_your_turn" });
    const pastTarget = ${n.game}.decide(stateAt(20), { type: "add", amount: 2 }, ctxOf(alice));
    expect(pastTarget).toMatchObject({ code: "invalid_move" });
  });
});
`;
}
