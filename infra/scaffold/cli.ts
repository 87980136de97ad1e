import { spawnSync } from "node:child_process";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gameNames } from "./game-names.js";
import { writeNewGame } from "./new-game.js";

/**
 * `npm run new-game -- <id>`: a new game in shared/games/<id>/ with its test
 * (the conformance suite and first rule tests). `--dir <folder>` writes it
 * elsewhere (the folder must sit two levels below the repository root, as
 * shared/games/ does, for its relative imports).
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const args = process.argv.slice(2);
const dirAt = args.indexOf("--dir");
const parent = dirAt >= 0 ? args[dirAt + 1] : `${ROOT}shared/games`;
const id = args.find((arg, i) => !arg.startsWith("--") && (dirAt < 0 || i !== dirAt + 1));

if (!id || !parent) {
  process.stderr.write("usage: npm run new-game -- <id>   (lower-case letters, digits and dashes, e.g. dice-duel)\n");
  process.exit(2);
}
try {
  const made = await writeNewGame(id, parent, "repo");
  const names = gameNames(id);
  // The templates are formatted for a short id; Biome settles line lengths and import order for this one.
  spawnSync(process.execPath, [`${ROOT}node_modules/@biomejs/biome/bin/biome`, "check", "--write", made.folder], {
    stdio: "ignore",
  });
  const where = relative(process.cwd(), made.folder) || ".";
  process.stdout.write(
    [
      `wrote ${where}/: ${made.files.join(", ")}`,
      "next:",
      `  npx vitest run ${where}            # the conformance suite and the first rule tests`,
      `  add ${names.game} to bundledGames in shared/games/index.ts (or name it in RINGSIDE_GAMES)`,
      "  docs/games.md walks through every hook",
      "",
    ].join("\n"),
  );
} catch (err) {
  process.stderr.write(`new-game: ${(err as Error).message}\n`);
  process.exit(1);
}
