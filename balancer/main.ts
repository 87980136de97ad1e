import { createEventBus } from "../shared/bus/index.js";
import { ConfigError, dbTimeoutsOf, loadBalancerConfig, requireDatabaseUrl } from "../shared/config.js";
import { createPool } from "../shared/db/pool.js";
import { exitWithParent } from "../shared/exit-with-parent.js";
import { createLogger } from "../shared/log.js";
import { createBalancer } from "./balancer.js";

/**
 * `npm run start:balancer`: one balancer process, configured from the
 * environment. Prints {"msg":"listening","port":N,...} once it serves
 * (PORT=0 picks a free port; launchers and tests read it from that line).
 */

const log = createLogger("balancer");

async function main(): Promise<void> {
  const config = loadBalancerConfig();
  log.level = config.LOG_LEVEL;
  const databaseUrl = requireDatabaseUrl(config);
  const db = createPool(databaseUrl, config.RINGSIDE_SCHEMA, 10, dbTimeoutsOf(config));
  const bus = createEventBus({
    kind: config.RINGSIDE_BUS,
    databaseUrl,
    schema: config.RINGSIDE_SCHEMA,
    redisUrl: config.REDIS_URL,
    logger: log,
  });
  const balancer = createBalancer({ config, db, bus, logger: log });
  const port = await balancer.listen(config.PORT, config.HOST);
  const host = config.HOST.includes(":") ? `[${config.HOST}]` : config.HOST;
  const metricsHost = config.METRICS_HOST ?? host;
  const metrics =
    balancer.metricsPort === null ? {} : { metricsUrl: `http://${metricsHost}:${balancer.metricsPort}/metrics` };
  // Written directly, whatever LOG_LEVEL says: whoever started us waits for this line.
  process.stdout.write(
    `${JSON.stringify({ msg: "listening", component: "balancer", id: config.BALANCER_ID, port, url: `http://${host}:${port}`, ...metrics })}\n`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    setTimeout(() => process.exit(1), 5000).unref();
    await balancer.close().catch((err: unknown) => log.error({ err }, "close failed"));
    await bus.close().catch(() => {});
    await db.end().catch(() => {});
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

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
  await main();
} catch (err) {
  // A configuration error is for a person to read: one plain message, no stack.
  if (err instanceof ConfigError) process.stderr.write(`balancer: ${err.message}\n`);
  else log.fatal({ err }, "balancer failed to start");
  process.exit(1);
}
