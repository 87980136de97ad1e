import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { AnyGame } from "../shared/game/define-game.js";
import { bundledGames } from "../shared/games/index.js";

/**
 * The games a node runs, from RINGSIDE_GAMES: a comma-separated list of
 * bundled game ids and module specifiers (a path, or a package a studio
 * installed) whose default export (or `games` export) is a game made with
 * defineGame, or a list of them. Unset: every bundled game.
 */
export async function loadGames(setting: string | undefined): Promise<AnyGame[]> {
  if (setting === undefined || setting.trim() === "") return [...bundledGames];
  const games: AnyGame[] = [];
  for (const item of setting
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const bundled = bundledGames.find((g) => g.id === item);
    if (bundled) games.push(bundled);
    else games.push(...(await importGames(item)));
  }
  return games;
}

async function importGames(specifier: string): Promise<AnyGame[]> {
  const local = specifier.startsWith(".") || isAbsolute(specifier);
  const target = local ? pathToFileURL(resolve(process.cwd(), specifier)).href : specifier;
  let module: Record<string, unknown>;
  try {
    module = (await import(target)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`RINGSIDE_GAMES: cannot load "${specifier}": ${(err as Error).message}`);
  }
  const exported = module.default ?? module.games;
  const list = Array.isArray(exported) ? exported : [exported];
  if (list.length === 0 || !list.every(isGame)) {
    throw new Error(
      `RINGSIDE_GAMES: "${specifier}" must export (default or "games") a game made with defineGame, or a list`,
    );
  }
  return list;
}

/** defineGame returns a frozen object with these; anything else was not checked by it. */
function isGame(value: unknown): value is AnyGame {
  const game = value as Partial<AnyGame> | null;
  return (
    typeof game === "object" &&
    game !== null &&
    Object.isFrozen(game) &&
    typeof game.id === "string" &&
    typeof game.decide === "function" &&
    typeof game.hidesInformation === "boolean"
  );
}
