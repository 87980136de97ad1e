import { parseArgs } from "node:util";
import { gameNames } from "../../scaffold/game-names.js";
import { writeNewGame } from "../../scaffold/new-game.js";

/**
 * The `ringside` command of @ringside/server:
 *   ringside new-game <id> [--dir <folder>]   a new game folder with its test
 *   ringside node                              a game node (as ringside-node)
 *   ringside balancer                          a balancer (as ringside-balancer)
 * Nodes and balancers are configured by environment variables (README).
 */

const USAGE = `usage:
  ringside new-game <id> [--dir <folder>]   write <folder>/<id>/: a game, its client rules and its test
  ringside node                              run a game node (RINGSIDE_GAMES=./my-game.js, DATABASE_URL=...)
  ringside balancer                          run a balancer (DATABASE_URL=...)
`;

async function newGame(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { dir: { type: "string" } }, allowPositionals: true });
  const id = positionals[0];
  if (!id || positionals.length > 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  const made = await writeNewGame(id, values.dir ?? process.cwd(), "package");
  const names = gameNames(id);
  const where = made.folder.startsWith(process.cwd()) ? `.${made.folder.slice(process.cwd().length)}` : made.folder;
  process.stdout.write(
    [
      `wrote ${where}/: ${made.files.join(", ")}`,
      "next:",
      `  node --test ${where}/${id}.test.js                       # conformance suite and first rule tests`,
      `  RINGSIDE_GAMES=${where}/game.js DATABASE_URL=... npx ringside-node`,
      `  clients: client.connect(code, token, { game: ${names.rules} }) with @ringside/client`,
      "",
    ].join("\n"),
  );
  return 0;
}

const [command, ...rest] = process.argv.slice(2);
try {
  if (command === "new-game") process.exitCode = await newGame(rest);
  else if (command === "node") await import("../../../node/main.js");
  else if (command === "balancer") await import("../../../balancer/main.js");
  else {
    process.stdout.write(USAGE);
    process.exitCode = command === undefined || command === "help" || command === "--help" ? 0 : 2;
  }
} catch (err) {
  process.stderr.write(`ringside ${command}: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
