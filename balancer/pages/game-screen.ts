import type { ClientRules } from "../../shared/client/index.js";
import type { LobbyView } from "../../shared/wire.js";

/**
 * What the lobby page needs of a game to show it: its client rules (the SDK
 * folds events with them, so `connection.lobby.game` is this player's view),
 * and a screen that draws that view and says whose turn it is. The lobby
 * page keeps everything that is not the game (chat, direct messages, the
 * players list, announcements, the connection pill, reload and resume).
 * One module per game (connect-four/, battleship/), listed in screens.ts.
 */

/** The line above the game; `state` goes into data-state for styling and for tests. */
export type TurnState = "waiting" | "placing" | "mine" | "theirs" | "won" | "lost" | "over" | "draw";
export type TurnView = { state: TurnState; title: string; detail: string; seat: number | null };

/** What a screen draws from, besides the lobby: who looks. */
export type Onlooker = { playerId: string; seat: number | null };

/** Sends a game action; resolves false when it was refused (the page already said why). */
export type SendAction = (action: { type: string; [field: string]: unknown }) => Promise<boolean>;

export interface GameScreen<S> {
  /** Draws the lobby's game; returns the turn line and the small print under the game. */
  render(lobby: LobbyView<S>, me: Onlooker): { turn: TurnView; footer: string };
  /** Stops timers the screen runs (a clock). */
  dispose(): void;
}

export type ScreenModule<S = unknown, E = unknown> = {
  gameId: string;
  title: string;
  /** The game's client rules: `apply` (and `status`), without schemas. */
  rules: ClientRules<S, E>;
  /** One sentence for the entry form. */
  blurb: string;
  /** What a seat is called in the players list ("Red", "Seat 1"). */
  seatLabel(seat: number): string;
  /** The game's refusal codes in the player's words. */
  errorText: Record<string, string>;
  /** Inputs for the create options, drawn into `root`; returns how to read them. */
  optionsForm?(root: HTMLElement): () => Record<string, unknown>;
  /** Builds the screen inside `root`. */
  mount(root: HTMLElement, send: SendAction): GameScreen<S>;
};

/** Erases a module's state and event types, so the registry can hold every game's. */
export function defineScreen<S, E>(module: ScreenModule<S, E>): ScreenModule {
  return module as unknown as ScreenModule;
}
