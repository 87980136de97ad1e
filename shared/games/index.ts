import type { AnyGame } from "../game/define-game.js";
import { battleship } from "./battleship/game.js";
import { connectFour } from "./connect-four/game.js";

/**
 * The games that ship with Ringside, by id; a node runs them all unless
 * RINGSIDE_GAMES says otherwise. The first is the default game.
 */
export const bundledGames: readonly AnyGame[] = [connectFour, battleship];
