import { createLogger } from "../shared/log.js";
import { runBalancer } from "./run-balancer.js";

/** `npm run start:balancer`: one balancer process, configured from the environment (see run-balancer.ts). */

const log = createLogger("balancer");

// The front door stays up: a bug on one request's path is logged, not fatal to every player.
process.on("uncaughtException", (err) => log.error({ err }, "uncaught exception (kept running)"));
process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection (kept running)"));

try {
  await runBalancer({ log });
} catch (err) {
  log.fatal({ err }, "balancer failed to start");
  process.exit(1);
}
