import { ConfigError } from "../shared/config.js";
import { exitWithParent } from "../shared/exit-with-parent.js";
import { createLogger } from "../shared/log.js";
import { runBalancer } from "./run-balancer.js";

/**
 * `npm run start:balancer`: one balancer process, configured from the
 * environment (see run-balancer.ts; studios may call runBalancer themselves).
 */

const log = createLogger("balancer");

// After an uncaught exception the routing state may be half-updated: exit, and
// let the supervisor start a fresh one (balancers keep no state of their own;
// clients reconnect through another balancer or this one restarted).
process.on("uncaughtException", (err) => {
  log.fatal({ err }, "uncaught exception: exiting");
  process.exit(1);
});
// An unhandled rejection is a promise nobody waited for: the code that failed
// has unwound. Logged so it gets fixed, but every player keeps their front door.
process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection (kept running)"));

exitWithParent(process.env, (message) => log.warn(message));
try {
  await runBalancer({ log });
} catch (err) {
  // A configuration error is for a person to read: one plain message, no stack.
  if (err instanceof ConfigError) process.stderr.write(`balancer: ${err.message}\n`);
  else log.fatal({ err }, "balancer failed to start");
  process.exit(1);
}
