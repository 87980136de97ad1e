import { ConfigError } from "../shared/config.js";
import { exitWithParent } from "../shared/exit-with-parent.js";
import { createLogger } from "../shared/log.js";
import { runNode } from "./run-node.js";

/** A game node, configured by environment variables (see README). */
const log = createLogger("node");
// After an uncaught exception the process may be half-way through changing a
// lobby: stop at once. Other nodes claim its lobbies in about a second, from
// Postgres, where nothing acked is missing.
process.on("uncaughtException", (err) => {
  log.fatal({ err }, "uncaught exception: exiting");
  process.exit(1);
});
// An unhandled rejection is a promise nobody waited for (a best-effort publish,
// say): the code that failed has unwound, nothing is half-done. Logged, so it
// gets fixed, but not worth a failover of every lobby on the node.
process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection (kept running)"));
exitWithParent(process.env, (message) => log.warn(message));
try {
  await runNode({ log });
} catch (err) {
  // A configuration error (a missing or development secret, say) is one plain line naming the variable.
  if (err instanceof ConfigError) process.stderr.write(`node: ${err.message}\n`);
  else log.fatal({ err }, "node failed to start");
  process.exit(1);
}
