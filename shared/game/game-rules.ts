/**
 * The part of a game both the node and every client need, as types only:
 * no imports, so the client SDK (and browser bundles) can use them without
 * zod. A game's `apply` and `status` satisfy GameRules; see define-game.ts.
 */

/** A game's phase maps onto the lobby's status; `text` is the directory's one-liner. */
export type GameStatus = { phase: "waiting" | "playing" | "finished"; text: string };

/** Who looks at the game: a seated player, or a spectator (seat null; playerId null for anonymous HTTP). */
export type Viewer = { playerId: string | null; seat: number | null };

/** The client's part of a game: fold events into a view. Only `apply` (and `status`), no schemas. */
export type GameRules<S, E, A = never> = {
  readonly id: string;
  apply(state: S, event: E): S;
  /** When given, clients keep the lobby's status line current after each event. */
  status?(state: S): GameStatus;
  /** Phantom: carries the action type to the client SDK for typed `send`. */
  readonly __actions?: A;
};
