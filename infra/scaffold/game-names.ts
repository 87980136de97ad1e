/** The names a new game's files use, all derived from its id ("dice-duel"). */
export type GameNames = {
  /** As defineGame takes it: lower-case letters, digits and dashes. */
  id: string;
  /** The exported game's name: diceDuelGame (never a reserved word). */
  game: string;
  /** The exported client rules' name: diceDuelRules. */
  rules: string;
  /** The status function's name: diceDuelStatus. */
  status: string;
  /** Type names: DiceDuel. */
  pascal: string;
  /** The title players see: Dice Duel. */
  title: string;
};

/** The same rule defineGame applies (shared/game/define-game.ts), checked before any file is written. */
const GAME_ID = /^[a-z][a-z0-9-]{0,39}$/;

export function gameNames(id: string): GameNames {
  if (!GAME_ID.test(id) || id.endsWith("-") || id.includes("--")) {
    throw new Error(
      `"${id}" is not a game id: use lower-case letters, digits and single dashes, starting with a letter (e.g. dice-duel)`,
    );
  }
  const words = id.split("-");
  const capitalised = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1));
  const camel = (words[0] ?? id) + capitalised.slice(1).join("");
  return {
    id,
    game: `${camel}Game`,
    rules: `${camel}Rules`,
    status: `${camel}Status`,
    pascal: capitalised.join(""),
    title: capitalised.join(" "),
  };
}
