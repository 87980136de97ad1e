import { createEventBus } from "../shared/bus/index.js";
import { dbTimeoutsOf, loadBalancerConfig, requireDatabaseUrl } from "../shared/config.js";
import { createPool } from "../shared/db/pool.js";
import { createLogger, identifyLogger, type Logger } from "../shared/log.js";
import { createBalancer } from "./balancer.js";

export type RunBalancerOptions = {
  /** Settings; default: the environment (see README). */
  env?: NodeJS.ProcessEnv;
  log?: Logger;
};

export type RunningBalancer = { port: number; url: string; stop: () => Promise<void> };

/**
 * Runs one balancer as a process: configuration from the environment, and an
 * orderly stop on SIGTERM/SIGINT. Prints {"msg":"listening","port":N,...}
 * once it serves (PORT=0 picks a free port; launchers and tests read it from
 * that line). `balancer/main.ts` calls it, and so can a studio's own entry file.
 */
export async function runBalancer(options: RunBalancerOptions = {}): Promise<RunningBalancer> {
  const log = options.log ?? createLogger("balancer");
  const config = loadBalancerConfig(options.env);
  log.level = config.LOG_LEVEL;
  identifyLogger(log, "balancerId", config.BALANCER_ID);
  const databaseUrl = requireDatabaseUrl(config);
  const db = createPool(databaseUrl, config.RINGSIDE_SCHEMA, config.RINGSIDE_DB_POOL_MAX, dbTimeoutsOf(config));
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
  const url = `http://${host}:${port}`;
  const metricsHost = config.METRICS_HOST ?? host;
  const metrics =
    balancer.metricsPort === null ? {} : { metricsUrl: `http://${metricsHost}:${balancer.metricsPort}/metrics` };
  // Written directly, whatever LOG_LEVEL says: whoever started us waits for this line.
  process.stdout.write(
    `${JSON.stringify({ msg: "listening", component: "balancer", id: config.BALANCER_ID, port, url, ...metrics })}\n`,
  );

  const stop = async () => {
    await balancer.close().catch((err: unknown) => log.error({ err }, "close failed"));
    await bus.close().catch(() => {});
    await db.end().catch(() => {});
  };
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    setTimeout(() => process.exit(1), 5000).unref();
    await stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  return { port, url, stop };
}
