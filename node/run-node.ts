import { loadNodeConfig, type NodeConfig } from "../shared/config.js";
import type { AnyGame } from "../shared/game/define-game.js";
import { createLogger, identifyLogger, type Logger } from "../shared/log.js";
import { loadGames } from "./game-loader.js";
import { type RunningNode, startNode } from "./node-server.js";

/** A stop that hangs (an unreachable database) must not keep the process alive past this. */
const STOP_LIMIT_MS = 10_000;

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
 * SIGTERM drains (hands every lobby off, within RINGSIDE_DRAIN_DEADLINE_MS)
 * then exits; SIGINT stops at once. Studios call this
 * from their own entry file; `node/main.ts` is Ringside's.
 */
export async function runNode(options: RunNodeOptions = {}): Promise<RunningNode> {
  const log = options.log ?? createLogger("node");
  const config: NodeConfig = loadNodeConfig(options.env);
  // Named at once when the id is configured; otherwise startNode names it once the port gives the id.
  if (config.NODE_ID) identifyLogger(log, "nodeId", config.NODE_ID);
  const games = options.games ?? (await loadGames(config.RINGSIDE_GAMES));
  let stopping = false;
  const stopAndExit = (code: number) => {
    setTimeout(() => process.exit(code), STOP_LIMIT_MS).unref();
    node.stop().then(
      async () => {
        log.info({ counters: await node.counters() }, "stopped");
        process.exit(code);
      },
      () => process.exit(1),
    );
  };
  const node = await startNode(config, games, log.child({}), (code) => {
    // Drained on an operator's request: every lobby is elsewhere.
    if (stopping) return;
    stopping = true;
    stopAndExit(code);
  });
  // SIGTERM (Kubernetes, systemd): hand every lobby off within the drain deadline, then exit.
  process.on("SIGTERM", () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: "SIGTERM" }, "draining, then stopping");
    node.drain("sigterm").then(() => stopAndExit(0));
  });
  // SIGINT (Ctrl-C, or the whole local cluster stopping): no handoffs, release everything now.
  process.on("SIGINT", () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: "SIGINT" }, "stopping");
    stopAndExit(0);
  });
  return node;
}
