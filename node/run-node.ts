import { loadNodeConfig, type NodeConfig } from "../shared/config.js";
import type { AnyGame } from "../shared/game/define-game.js";
import { createLogger, type Logger } from "../shared/log.js";
import { loadGames } from "./game-loader.js";
import { type RunningNode, startNode } from "./node-server.js";

export type RunNodeOptions = {
  /** The games to run; default: RINGSIDE_GAMES, or every bundled game. The first is the default game. */
  games?: readonly AnyGame[];
  /** Settings; default: the environment (see README). */
  env?: NodeJS.ProcessEnv;
  log?: Logger;
};

/**
 * Runs one game node as a process: configuration from the environment, the
 * games given (a studio's own, programmatically) or named by RINGSIDE_GAMES,
 * and an orderly stop on SIGTERM/SIGINT (or after a drain). Studios call this
 * from their own entry file; `node/main.ts` is Ringside's.
 */
export async function runNode(options: RunNodeOptions = {}): Promise<RunningNode> {
  const log = options.log ?? createLogger("node");
  const config: NodeConfig = loadNodeConfig(options.env);
  const games = options.games ?? (await loadGames(config.RINGSIDE_GAMES));
  let stopping = false;
  const node = await startNode(config, games, log.child({}), (code) => {
    // Drained: every lobby is elsewhere; stop like on SIGTERM, with this exit code.
    stopping = true;
    node.stop().then(() => process.exit(code));
  });
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    node.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  return node;
}
