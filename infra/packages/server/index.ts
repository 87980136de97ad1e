/**
 * @ringside/server: what a studio imports on the server side. Write a game
 * with `defineGame` (and `z` for its schemas: use this one, the engine checks
 * actions with it), test it with `checkConformance`, and run it on a node
 * with `runNode({ games: [myGame] })` (or name its module in RINGSIDE_GAMES
 * for the `ringside-node` command). `runBalancer()` is the front door.
 * See docs/games.md in the Ringside repository.
 */

export { z } from "zod";
export { type RunBalancerOptions, type RunningBalancer, runBalancer } from "../../../balancer/run-balancer.js";
export {
  type ConformanceOptions,
  type ConformanceReport,
  checkConformance,
} from "../../../node/lobby/conformance.js";
export type { RunningNode } from "../../../node/node-server.js";
export { type RunNodeOptions, runNode } from "../../../node/run-node.js";
export type { GameSummary } from "../../../shared/game/catalog.js";
export {
  type ActionContext,
  type ActionOf,
  type ActionSchemas,
  type AnyGame,
  defineGame,
  type Events,
  type GameContext,
  type GameDefinition,
  GameDefinitionError,
  type GamePlayer,
  type GameRules,
  type GameSpec,
  type GameStatus,
  isRefusal,
  type Refusal,
  refuse,
  type Viewer,
} from "../../../shared/game/define-game.js";
export { createRandom, type Random } from "../../../shared/game/random.js";
/** The games that ship with Ringside (Connect Four, ...): add them to your own with runNode({ games }). */
export { bundledGames } from "../../../shared/games/index.js";
