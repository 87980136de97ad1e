import { mkdir, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { gameNames } from "./game-names.js";
import { packageGameFiles } from "./package-template.js";
import { repoGameFiles } from "./repo-template.js";

/**
 * Writes a new game's folder: "repo" for a game inside Ringside
 * (shared/games/<id>/, TypeScript), "package" for a studio's repository that
 * depends on @ringside/server (plain JavaScript). Never overwrites: a folder
 * that exists already is an error.
 */
export type Flavour = "repo" | "package";

export type NewGame = { id: string; folder: string; files: string[] };

export async function writeNewGame(id: string, parent: string, flavour: Flavour): Promise<NewGame> {
  const names = gameNames(id);
  const folder = resolve(parent, id);
  if (await exists(folder)) throw new Error(`${folder} exists already: pick another id or remove it`);
  const files = flavour === "repo" ? repoGameFiles(names) : packageGameFiles(names);
  await mkdir(folder, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(folder, name), text, { flag: "wx" });
  return { id, folder, files: Object.keys(files) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
