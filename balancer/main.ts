import { createEventBus } from "../shared/bus/index.js";
import { ConfigError, loadBalancerConfig, requireDatabaseUrl } from "../shared/config.js";
import { createPool } from "../shared/db/pool.js";
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
  const db = createPool(databaseUrl, config.RINGSIDE_SCHEMA);
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

// The front door stays up: a bug on one request's path is logged, not fatal to every player.
process.on("uncaughtException", (err) => log.error({ err }, "uncaught exception (kept running)"));
process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection (kept running)"));

try {
  await main();
} catch (err) {
  // A configuration error is for a person to read: one plain message, no stack.
  if (err instanceof ConfigError) process.stderr.write(`balancer: ${err.message}\n`);
  else log.fatal({ err }, "balancer failed to start");
  process.exit(1);
}
