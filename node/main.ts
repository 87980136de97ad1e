import { exitWithParent } from "../shared/exit-with-parent.js";
import { createLogger } from "../shared/log.js";
import { runNode } from "./run-node.js";

/** A game node, configured by environment variables (see README). */
const log = createLogger("node");
// A bug on one request's path is logged, not fatal to every lobby on the node.
process.on("uncaughtException", (err) => log.error({ err }, "uncaught exception (kept running)"));
process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection (kept running)"));
exitWithParent(process.env, (message) => log.warn(message));
try {
  await runNode({ log });
} catch (err) {
  log.fatal({ err }, "node failed to start");
  process.exit(1);
}
