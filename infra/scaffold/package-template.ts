import type { GameNames } from "./game-names.js";

/**
 * A new game in a studio's own repository (`npx ringside new-game <id>`):
 * plain JavaScript modules that run on Node without a TypeScript loader, with
 * JSDoc types for editors, and a test for Node's own runner (no test
 * dependency). The same small game as the in-repo scaffold (repo-template.ts).
 */
export function packageGameFiles(n: GameNames): Record<string, string> {
  return {
    "rules.js": rules(n),
    "game.js": game(n),
    [`${n.id}.test.js`]: test(n),
    "README.md": readme(n),
  };
}

function rules(n: GameNames): string {
  return `/**
 * ${n.title}: players take turns adding 1, 2 or 3 to a running total; whoever
 * reaches the target wins. Its state, events and \`apply\`: what both the
 * server and every client need. No imports, so a browser bundles it as it is.
 *
 * @typedef {1 | 2} Seat
 * @typedef {{
 *   seats: [string | null, string | null],
 *   phase: "waiting" | "playing" | "finished",
 *   total: number,
 *   target: number,
 *   turn: Seat,
 *   winner: string | null,
 * }} ${n.pascal}State
 * @typedef {{ type: "seated", seat: Seat, playerId: string }
 *   | { type: "unseated", seat: Seat }
 *   | { type: "added", seat: Seat, amount: number }
 *   | { type: "won", playerId: string }} ${n.pascal}Event
 * @typedef {{ type: "add", amount: number }} ${n.pascal}Action
 */

export const DEFAULT_TARGET = 21;

/** @returns {${n.pascal}State} */
export function initialState(target = DEFAULT_TARGET) {
  return { seats: [null, null], phase: "waiting", total: 0, target, turn: 1, winner: null };
}

/**
 * Pure: a new state from what the event says (clients fold events with it too).
 * @param {${n.pascal}State} state
 * @param {${n.pascal}Event} event
 * @returns {${n.pascal}State}
 */
export function apply${n.pascal}(state, event) {
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

function withSeat(seats, seat, playerId) {
  return seat === 1 ? [playerId, seats[1]] : [seats[0], playerId];
}

/**
 * The directory's one-liner: it is republished only when it changes, so no move counter here.
 * @param {${n.pascal}State} state
 * @returns {{ phase: "waiting" | "playing" | "finished", text: string }}
 */
export function ${n.status}(state) {
  if (state.phase === "waiting") return { phase: "waiting", text: "waiting for a second player" };
  if (state.phase === "finished") return { phase: "finished", text: "won" };
  return { phase: "playing", text: \`race to \${state.target}\` };
}

/** The client's part of the game: pass it as \`game\` to @ringside/client and \`connection.state\` follows. */
export const ${n.rules} = { id: "${n.id}", apply: apply${n.pascal}, status: ${n.status} };
`;
}

function game(n: GameNames): string {
  return `import { defineGame, refuse, z } from "@ringside/server";
import { apply${n.pascal}, DEFAULT_TARGET, initialState, ${n.status} } from "./rules.js";

/**
 * ${n.title} as a Ringside game: two seats, everyone else watches; a player
 * who leaves mid-game forfeits. Run it: RINGSIDE_GAMES=./${n.id}/game.js npx ringside-node
 */
export const ${n.game} = defineGame({
  id: "${n.id}",
  // Version N+1 must still replay every log version N wrote.
  version: 1,
  title: "${n.title}",
  minPlayers: 2,
  maxPlayers: 2,
  options: z.object({ target: z.number().int().min(5).max(100).optional() }),
  actions: { add: z.object({ amount: z.number().int().min(1).max(3) }) },
  setup: (options) => initialState(options.target ?? DEFAULT_TARGET),
  decide(state, action, ctx) {
    const seat = seatOf(state, ctx.player.id);
    if (seat === null) return refuse("not_a_player", "only seated players can play");
    if (state.phase === "waiting") return refuse("not_ready", "waiting for a second player");
    if (state.phase === "finished") return refuse("game_over", "the game is over");
    if (state.turn !== seat) return refuse("not_your_turn", "it is the other player's turn");
    const total = state.total + action.amount;
    if (total > state.target) return refuse("invalid_move", \`that passes \${state.target}\`);
    const events = [{ type: "added", seat, amount: action.amount }];
    if (total === state.target) events.push({ type: "won", playerId: ctx.player.id });
    return events;
  },
  apply: apply${n.pascal},
  status: ${n.status},
  onJoin(_state, player) {
    return player.seat === 1 || player.seat === 2 ? [{ type: "seated", seat: player.seat, playerId: player.id }] : [];
  },
  onLeave(state, player) {
    const seat = seatOf(state, player.id);
    if (seat === null) return [];
    const opponent = state.seats[seat === 1 ? 1 : 0];
    const forfeit = state.phase === "playing" && opponent ? [{ type: "won", playerId: opponent }] : [];
    return [...forfeit, { type: "unseated", seat }];
  },
  bot: {
    // Every legal action for this viewer, from what it sees: the conformance suite plays with it.
    actions(state, viewer) {
      if (viewer.seat !== state.turn || state.phase !== "playing") return [];
      return [1, 2, 3]
        .filter((amount) => state.total + amount <= state.target)
        .map((amount) => ({ type: "add", amount }));
    },
  },
});

export default ${n.game};

function seatOf(state, playerId) {
  if (state.seats[0] === playerId) return 1;
  if (state.seats[1] === playerId) return 2;
  return null;
}
`;
}

function test(n: GameNames): string {
  return `import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkConformance, createRandom } from "@ringside/server";
import { ${n.game} } from "./game.js";
import { apply${n.pascal} } from "./rules.js";

const alice = { id: "alice", name: "Alice", seat: 1 };
const bob = { id: "bob", name: "Bob", seat: 2 };
const ctxOf = (player) => ({ now: 0, random: createRandom("test"), players: [alice, bob], player });

/** A game at a total, both players seated, seat 1 to move. */
function stateAt(total, target = 21) {
  const seated = [
    { type: "seated", seat: 1, playerId: "alice" },
    { type: "seated", seat: 2, playerId: "bob" },
  ];
  return { ...seated.reduce(apply${n.pascal}, ${n.game}.setup({ target }, ctxOf(alice))), total };
}

describe("${n.id}", () => {
  it("passes the conformance suite", () => {
    const report = checkConformance(${n.game}, { games: 10, steps: 200 });
    assert.deepEqual(report.problems, []);
    assert.ok(report.actions > 0, "the bot found no legal action");
  });

  it("a player who reaches the target wins", () => {
    assert.deepEqual(${n.game}.decide(stateAt(19), { type: "add", amount: 2 }, ctxOf(alice)), [
      { type: "added", seat: 1, amount: 2 },
      { type: "won", playerId: "alice" },
    ]);
  });

  it("refuses a move out of turn, and one past the target", () => {
    assert.equal(${n.game}.decide(stateAt(0), { type: "add", amount: 1 }, ctxOf(bob)).code, "not_your_turn");
    assert.equal(${n.game}.decide(stateAt(20), { type: "add", amount: 2 }, ctxOf(alice)).code, "invalid_move");
  });
});
`;
}

function readme(n: GameNames): string {
  return `# ${n.title}

A Ringside game, made by \`ringside new-game ${n.id}\`.

- \`rules.js\`: state, events, \`apply\` and \`status\`, with no imports: the server and every client use it.
- \`game.js\`: the game definition (\`defineGame\`): schemas, \`decide\`, joins and leaves, the bot.
- \`${n.id}.test.js\`: the conformance suite and first rule tests: \`node --test ${n.id}/${n.id}.test.js\`.

Run it on a node: \`RINGSIDE_GAMES=./${n.id}/game.js DATABASE_URL=postgres://... npx ringside-node\`,
and a balancer in front: \`DATABASE_URL=postgres://... npx ringside-balancer\`.
Play it from a client: \`connection = await client.connect(code, token, { game: ${n.rules} })\` with
\`@ringside/client\`; \`connection.state\` is then this player's view of the game.
`;
}
