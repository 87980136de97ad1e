/**
 * A studio's repository, written from scratch in a temporary folder by
 * packages.test.ts: plain JavaScript (ESM) that depends only on the packed
 * @ringside/server and @ringside/client (and `ws` for Node 20's missing
 * WebSocket). Nothing here is TypeScript that runs: consumer.ts is only
 * type-checked, to prove the packages' declarations serve a TS studio too.
 */

export function studioPackageJson(tarballs: { client: string; server: string }): string {
  const manifest = {
    name: "studio-game",
    private: true,
    type: "module",
    dependencies: {
      "@ringside/client": `file:${tarballs.client}`,
      "@ringside/server": `file:${tarballs.server}`,
      ws: "8.23.0",
    },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Tic-tac-toe's state, events and apply: no imports, shared by the game and the client. */
export const RULES_JS = `
export const LINES = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6]];

export function initialState() {
  return { board: [0, 0, 0, 0, 0, 0, 0, 0, 0], seats: [null, null], turn: 1, phase: "waiting", winner: null, moves: 0 };
}

export function winningLine(board, seat) {
  return LINES.find((line) => line.every((cell) => board[cell] === seat)) ?? null;
}

export function apply(state, event) {
  switch (event.type) {
    case "seated":
      return { ...state, seats: state.seats.map((id, i) => (i === event.seat - 1 ? event.playerId : id)) };
    case "unseated":
      return { ...state, seats: state.seats.map((id, i) => (i === event.seat - 1 ? null : id)) };
    case "started":
      return { ...state, phase: "playing", turn: event.first };
    case "placed":
      return {
        ...state,
        board: state.board.map((v, i) => (i === event.cell ? event.seat : v)),
        turn: event.seat === 1 ? 2 : 1,
        moves: state.moves + 1,
      };
    case "won":
      return { ...state, phase: "finished", winner: event.playerId };
    case "drawn":
      return { ...state, phase: "finished" };
    default:
      return state;
  }
}

export function status(state) {
  if (state.phase === "waiting") return { phase: "waiting", text: "waiting for an opponent" };
  if (state.phase === "finished") return { phase: "finished", text: state.winner ? "won" : "drawn" };
  return { phase: "playing", text: "playing" };
}

export const ticTacToeRules = { id: "tic-tac-toe", apply, status };
`;

/** The game definition: schemas, decide, seats, who starts (drawn from ctx.random, recorded in the event), a bot. */
export const GAME_JS = `
import { defineGame, refuse, z } from "@ringside/server";
import { apply, initialState, status, winningLine } from "./rules.js";

const seatOf = (state, playerId) => state.seats.indexOf(playerId) + 1 || null;

export const ticTacToe = defineGame({
  id: "tic-tac-toe",
  version: 1,
  title: "Tic-tac-toe",
  minPlayers: 2,
  maxPlayers: 2,
  actions: { place: z.object({ cell: z.number().int().min(0).max(8) }) },
  setup: () => initialState(),
  decide(state, action, ctx) {
    const seat = seatOf(state, ctx.player.id);
    if (seat === null) return refuse("not_a_player", "only seated players can play");
    if (state.phase !== "playing") return refuse("not_ready", "the game is not on");
    if (state.turn !== seat) return refuse("not_your_turn", "wait for your turn");
    if (state.board[action.cell] !== 0) return refuse("invalid_move", "that cell is taken");
    const board = state.board.map((v, i) => (i === action.cell ? seat : v));
    const events = [{ type: "placed", seat, cell: action.cell }];
    if (winningLine(board, seat)) events.push({ type: "won", playerId: ctx.player.id });
    else if (board.every((v) => v !== 0)) events.push({ type: "drawn" });
    return events;
  },
  apply,
  status,
  onJoin(state, player, ctx) {
    if (player.seat !== 1 && player.seat !== 2) return [];
    const events = [{ type: "seated", seat: player.seat, playerId: player.id }];
    const other = state.seats[player.seat === 1 ? 1 : 0];
    if (state.phase === "waiting" && other) events.push({ type: "started", first: ctx.random.int(2) + 1 });
    return events;
  },
  onLeave(state, player) {
    const seat = seatOf(state, player.id);
    if (seat === null) return [];
    const other = state.seats[seat === 1 ? 1 : 0];
    const forfeit = state.phase === "playing" && other ? [{ type: "won", playerId: other }] : [];
    return [...forfeit, { type: "unseated", seat }];
  },
  bot: {
    actions(state, viewer) {
      if (state.phase !== "playing" || state.turn !== viewer.seat) return [];
      return state.board.flatMap((v, cell) => (v === 0 ? [{ type: "place", cell }] : []));
    },
  },
});

export default ticTacToe;
`;

/** A second node, started programmatically (the other one is the ringside-node bin with RINGSIDE_GAMES). */
export const SERVER_JS = `
import { runNode } from "@ringside/server";
import { ticTacToe } from "./tic-tac-toe/game.js";

await runNode({ games: [ticTacToe] });
`;

/**
 * The Node client: creates a lobby with the game, joins a second player,
 * plays to the end (the first mover wins on the top row), and prints one JSON
 * line with what each connection's \`state\` went through.
 */
export const PLAY_JS = `
import { ActionRejectedError, RingsideClient } from "@ringside/client";
import WebSocket from "ws";
import { ticTacToeRules } from "./tic-tac-toe/rules.js";

const client = new RingsideClient(process.argv[2], { WebSocket });
const games = await client.api.listGames();
const created = await client.api.createLobby("alice", { game: "tic-tac-toe" });
const joined = await client.api.joinLobby(created.code, "bob");
const alice = await client.connect(created.code, created.token, { game: ticTacToeRules });
const bob = await client.connect(created.code, joined.token, { game: ticTacToeRules });
const connections = [alice, bob];
const movesSeen = connections.map(() => []);
connections.forEach((c, i) => c.on("state", (state) => movesSeen[i].push(state.moves)));

const until = (c, done) => (done(c.state) ? Promise.resolve() : c.waitFor("state", done));
await Promise.all(connections.map((c) => until(c, (s) => s.phase === "playing")));

const seatOf = (c) => c.state.seats.indexOf(c.playerId) + 1;
const first = connections.find((c) => seatOf(c) === alice.state.turn);
const second = connections.find((c) => c !== first);
// First mover: 0, 1, 2 (the top row); second: 3, 4.
const plan = [[first, 0], [second, 3], [first, 1], [second, 4], [first, 2]];
let refused = null;
for (const [i, [c, cell]] of plan.entries()) {
  if (i === 3) {
    // A move on a taken cell is refused, and the game goes on.
    try {
      await c.send({ type: "place", cell: 0 });
    } catch (error) {
      refused = error instanceof ActionRejectedError ? error.code : String(error);
    }
  }
  const ack = await c.send({ type: "place", cell });
  if (!ack.seq) throw new Error("an ack without a seq");
  await Promise.all(connections.map((other) => until(other, (s) => s.moves === i + 1)));
}
await Promise.all(connections.map((c) => until(c, (s) => s.phase === "finished")));
const resource = await client.api.getLobby(created.code);
process.stdout.write(
  JSON.stringify({
    games: games.map((g) => g.id),
    game: created.game,
    firstPlayer: first.playerId,
    states: connections.map((c) => c.state),
    statuses: connections.map((c) => c.lobby.status),
    served: resource.game,
    servedStatus: resource.status,
    movesSeen,
    refused,
  }) + "\\n",
);
for (const c of connections) c.close();
`;

/** Type-checked only (tsc --noEmit): a TS studio gets typed actions and a typed state from the packages. */
export const CONSUMER_TS = `
import { type GameRules, type LobbyConnection, RingsideClient } from "@ringside/client";
import { type ActionContext, checkConformance, defineGame, refuse, runNode, z } from "@ringside/server";

type State = { total: number };
type Event = { type: "added"; amount: number };
type Action = { type: "add"; amount: number } | { type: "reset" };

const rules: GameRules<State, Event, Action> = {
  id: "adder",
  apply: (state, event) => ({ total: state.total + event.amount }),
};

export const adder = defineGame({
  id: "adder",
  version: 1,
  title: "Adder",
  minPlayers: 1,
  maxPlayers: 2,
  actions: { add: z.object({ amount: z.number().int() }), reset: z.object({}) },
  setup: (): State => ({ total: 0 }),
  decide(state, action, ctx: ActionContext): Event[] | ReturnType<typeof refuse> {
    if (action.type === "reset") return [{ type: "added", amount: -state.total }];
    return ctx.player.seat === null ? refuse("not_a_player", "watchers watch") : [{ type: "added", amount: action.amount }];
  },
  apply: rules.apply,
  status: (state) => ({ phase: "playing", text: String(state.total) }),
});

export async function play(): Promise<number> {
  const client = new RingsideClient("http://127.0.0.1:4000");
  const connection: LobbyConnection<State, Event, Action> = await client.connect("ABCDEF", "token", { game: rules });
  await connection.send({ type: "add", amount: 2 });
  // @ts-expect-error: not an action of this game
  await connection.send({ type: "fly" });
  // @ts-expect-error: the payload must match
  await connection.send({ type: "add", amount: "two" });
  return connection.state?.total ?? 0;
}

export const problems: string[] = checkConformance(adder).problems;
export const start: typeof runNode = runNode;
`;

export function consumerTsconfig(typeRoots: string): string {
  const config = {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      noEmit: true,
      // Usage errors surface in consumer.ts either way; the @ts-expect-error lines prove the types are not `any`.
      skipLibCheck: true,
      types: ["node"],
      typeRoots: [typeRoots],
    },
    files: ["consumer.ts"],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** The code blocks of a Markdown file that start with `// file: <path>`, by path. */
export function filesInMarkdown(markdown: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const match of markdown.matchAll(/```js\n\/\/ file: (\S+)\n([\s\S]*?)```/g)) {
    const [, path, code] = match;
    if (path && code !== undefined) files.set(path, code);
  }
  return files;
}

/** Runs the conformance suite on each game module named on the command line; prints the reports by game id. */
export const CONFORMANCE_JS = `
import { checkConformance } from "@ringside/server";

const reports = {};
for (const path of process.argv.slice(2)) {
  const { default: game } = await import(path);
  reports[game.id] = checkConformance(game, { games: 8, steps: 200 });
}
process.stdout.write(JSON.stringify(reports) + "\\n");
`;
