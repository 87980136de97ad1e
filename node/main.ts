import { loadNodeConfig } from "../shared/config.js";
import { createLogger } from "../shared/log.js";
import { startNode } from "./node-server.js";

/** A game node, configured by environment variables (see README). */
const log = createLogger("node");
// A bug on one request's path is logged, not fatal to every lobby on the node.
process.on("uncaughtException", (err) => log.error({ err }, "uncaught exception (kept running)"));
process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection (kept running)"));
try {
  const config = loadNodeConfig();
  let stopping = false;
  const node = await startNode(config, log.child({}), (code) => {
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
} catch (err) {
  log.fatal({ err }, "node failed to start");
  process.exit(1);
}
