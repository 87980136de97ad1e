import { z } from "zod";
import { RESERVED_ACTION_NAMES } from "../wire.js";
import type { GameStatus, Viewer } from "./game-rules.js";
import type { Random } from "./random.js";

export type { GameRules, GameStatus, Viewer } from "./game-rules.js";

/**
 * The game API: the one thing a studio writes. A game is a plain object of
 * pure functions (the boardgame.io way) with the lifecycle names Colyseus and
 * Nakama users know (onJoin, onLeave, timers), but every hook RETURNS events
 * instead of doing things: the engine logs them durably first, then folds them
 * with `apply`, on the node and on every client. Replaying the log therefore
 * rebuilds exactly the same state, on any node, after any failover.
 *
 * `defineGame` checks the object once, when a node loads it (as Koa's use()
 * checks middleware): a bad game stops the node at start, not at the first
 * action. See docs/games.md.
 */

export type GamePlayer = { id: string; name: string; seat: number | null };

/** What every hook gets besides the state. Time and randomness come only from here. */
export type GameContext = {
  /** Milliseconds since the epoch, on the database's clock (the same on every node). */
  now: number;
  /** Seeded per decision. Whatever a hook draws must end up in its events: `apply` never draws. */
  random: Random;
  /** Everyone in the lobby, in join order. */
  players: readonly GamePlayer[];
};

/** A decision's context: also who acts. */
export type ActionContext = GameContext & { player: GamePlayer };

export type Refusal = { readonly refused: true; readonly code: string; readonly message: string };

/** A refusal for `decide`: the player gets `{"type":"error","code","message"}` and nothing is logged. */
export function refuse(code: string, message: string): Refusal {
  return { refused: true, code, message };
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === "object" && value !== null && (value as { refused?: unknown }).refused === true;
}

/** One event, several, or none (an empty array logs nothing for hooks, and an entry without events for actions). */
export type Events<E> = E | readonly E[];

/** Action schemas by action name; each validates the frame's fields other than `type` and `id`. */
export type ActionSchemas = Record<string, z.ZodType>;

/** The union of a game's actions as they arrive: `{ type: name, ...payload }`. */
export type ActionOf<AS extends ActionSchemas> = {
  [K in keyof AS & string]: { type: K } & Payload<z.output<AS[K]>>;
}[keyof AS & string];

/** An empty object schema's output is Record<string, never>, which no `type` field could join. */
// biome-ignore lint/complexity/noBannedTypes: {} is exactly "no payload fields" here
type Payload<T> = T extends Record<string, never> ? {} : T;

/**
 * A game definition. S is the state (and, redacted by `view`, what a player
 * sees), E an event, O the create options, AS the action schemas.
 * `apply` folds an event into a full state on the node AND into a viewer's
 * redacted state on the client, so write it from what the event says, not
 * from hidden parts of the state.
 */
export type GameSpec<S, E, O, AS extends ActionSchemas> = {
  /** Lower-case letters, digits and dashes: recorded on every lobby. */
  id: string;
  /** A positive integer. Version N+1 must replay every log written by version N (docs/games.md). */
  version: number;
  title: string;
  /** Seated players needed to start, and seats in all. */
  minPlayers: number;
  maxPlayers: number;
  /** Whether people beyond the seats may join and watch (default true). */
  spectators?: boolean;
  /** Whether a player may take a free seat once the game left "waiting" (default false: they watch). */
  joinInProgress?: boolean;
  /** Schema of the options `POST /api/lobbies` takes; default: no options. */
  options?: z.ZodType<O>;
  actions: AS;
  // S is inferred from setup and E from apply only (NoInfer elsewhere). TypeScript may widen
  // the literal types of events a hook returns: annotate its return type (`: Event[]`).
  setup(options: O, ctx: GameContext): S;
  decide(state: NoInfer<S>, action: ActionOf<NoInfer<AS>>, ctx: ActionContext): Events<NoInfer<E>> | Refusal;
  apply(state: NoInfer<S>, event: E): NoInfer<S>;
  /** What one viewer may see; default: everything. Hidden information must be removed here. */
  view?(state: NoInfer<S>, viewer: Viewer): NoInfer<S>;
  /** An event as one viewer may see it; default: as it is. Must agree with `view` (the conformance suite checks). */
  project?(event: NoInfer<E>, viewer: Viewer): NoInfer<E>;
  status(state: NoInfer<S>): GameStatus;
  /** A player joined (with a seat or to watch). */
  onJoin?(state: NoInfer<S>, player: GamePlayer, ctx: GameContext): Events<NoInfer<E>>;
  /** A player left the lobby for good (`{"type":"leave"}`). */
  onLeave?(state: NoInfer<S>, player: GamePlayer, ctx: GameContext): Events<NoInfer<E>>;
  /** Durable timers: name -> due time (ms, database clock). Each (name, due time) fires once. */
  timers?(state: NoInfer<S>): Record<string, number>;
  /** A timer is due: the events it causes (logged as a `timer` entry even when there are none). */
  onTimer?(state: NoInfer<S>, name: string, ctx: GameContext): Events<NoInfer<E>>;
  /** Lists legal actions for a viewer from what it sees: the drill, the benches and the conformance suite play with it. */
  bot?: { actions(state: NoInfer<S>, viewer: Viewer): ActionOf<NoInfer<AS>>[] };
};

/** A checked game, with its defaults filled in. */
export type GameDefinition<S = unknown, E = unknown, O = unknown, AS extends ActionSchemas = ActionSchemas> = Readonly<
  Required<Pick<GameSpec<S, E, O, AS>, "spectators" | "joinInProgress" | "view" | "project">> &
    Omit<GameSpec<S, E, O, AS>, "spectators" | "joinInProgress" | "view" | "project" | "options"> & {
      options: z.ZodType<O>;
      /** True when view/project were given: frames are then projected per viewer. */
      hidesInformation: boolean;
    }
>;

/** Any game, as the engine holds it. */
// biome-ignore lint/suspicious/noExplicitAny: the engine handles every game's state and events as opaque values
export type AnyGame = GameDefinition<any, any, any, ActionSchemas>;

export class GameDefinitionError extends Error {
  override readonly name = "GameDefinitionError";
}

const GAME_ID = /^[a-z][a-z0-9-]{0,39}$/;
const ACTION_NAME = /^[a-z][A-Za-z0-9_]{0,31}$/;

/** Checks a game once and fills in its defaults; throws a GameDefinitionError naming the field. */
export function defineGame<S, E, O = Record<string, never>, AS extends ActionSchemas = ActionSchemas>(
  spec: GameSpec<S, E, O, AS>,
): GameDefinition<S, E, O, AS> {
  const fail = (what: string): never => {
    const name = typeof spec?.id === "string" ? `game "${spec.id}"` : "a game";
    throw new GameDefinitionError(`${name}: ${what}`);
  };
  if (typeof spec !== "object" || spec === null) fail("the definition must be an object");
  if (typeof spec.id !== "string" || !GAME_ID.test(spec.id)) fail("id must be lower-case letters, digits and dashes");
  if (!Number.isSafeInteger(spec.version) || spec.version < 1) fail("version must be a positive integer");
  if (typeof spec.title !== "string" || spec.title.trim() === "" || spec.title.length > 60)
    fail("title must be 1 to 60 characters");
  checkPlayers(spec as unknown as GameSpec<unknown, unknown, unknown, ActionSchemas>, fail);
  checkActions(spec.actions, fail);
  for (const hook of ["setup", "decide", "apply", "status"] as const) {
    if (typeof spec[hook] !== "function") fail(`${hook} must be a function`);
  }
  for (const hook of ["view", "project", "onJoin", "onLeave", "timers", "onTimer"] as const) {
    if (spec[hook] !== undefined && typeof spec[hook] !== "function") fail(`${hook} must be a function when given`);
  }
  if (spec.timers && !spec.onTimer) fail("timers needs onTimer");
  if (spec.options !== undefined && !isSchema(spec.options)) fail("options must be a zod schema");
  if (spec.bot !== undefined && typeof spec.bot?.actions !== "function") fail("bot.actions must be a function");
  const hidesInformation = spec.view !== undefined || spec.project !== undefined;
  return Object.freeze({
    ...spec,
    spectators: spec.spectators ?? true,
    joinInProgress: spec.joinInProgress ?? false,
    options: (spec.options ?? z.object({}).strict()) as z.ZodType<O>,
    view: spec.view ?? ((state: S) => state),
    project: spec.project ?? ((event: E) => event),
    hidesInformation,
  });
}

function checkPlayers(spec: GameSpec<unknown, unknown, unknown, ActionSchemas>, fail: (what: string) => never): void {
  const { minPlayers, maxPlayers } = spec;
  if (!Number.isSafeInteger(minPlayers) || minPlayers < 1) fail("minPlayers must be a positive integer");
  if (!Number.isSafeInteger(maxPlayers) || maxPlayers < minPlayers || maxPlayers > 64)
    fail("maxPlayers must be an integer from minPlayers to 64");
}

function checkActions(actions: unknown, fail: (what: string) => never): void {
  if (typeof actions !== "object" || actions === null || Object.keys(actions).length === 0)
    fail("actions must name at least one action and its schema");
  for (const [name, schema] of Object.entries(actions as Record<string, unknown>)) {
    if (!ACTION_NAME.test(name)) fail(`action "${name}": names are camelCase letters, digits and _`);
    if (RESERVED_ACTION_NAMES.includes(name)) fail(`action "${name}": the engine reserves this name`);
    if (!isSchema(schema)) fail(`action "${name}": the schema must be a zod schema`);
  }
}

function isSchema(value: unknown): value is z.ZodType {
  return typeof (value as { safeParse?: unknown })?.safeParse === "function";
}
