import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createEventBus } from "../shared/bus/index.js";
import { Topic } from "../shared/bus/topics.js";
import { dbTimeoutsOf, type NodeConfig, requireDatabaseUrl } from "../shared/config.js";
import { migrate } from "../shared/db/migrate.js";
import { createPool } from "../shared/db/pool.js";
import { GameCatalog } from "../shared/game/catalog.js";
import type { AnyGame } from "../shared/game/define-game.js";
import { identifyLogger, type Logger } from "../shared/log.js";
import { CloseCode } from "../shared/wire.js";
import { DbClock } from "./db-clock.js";
import { assemble, delay } from "./node-assembly.js";

export type RunningNode = {
  id: string;
  port: number;
  url: string;
  /** Hands every lobby off within RINGSIDE_DRAIN_DEADLINE_MS (SIGTERM); stop() afterwards releases what is left. */
  drain: (reason?: "drain" | "sigterm") => Promise<void>;
  stop: () => Promise<void>;
  /** The counters that moved (logged when the process stops: a drained node is not scraped again). */
  counters: () => Promise<Record<string, number>>;
};

/**
 * Wires one game node together: Postgres, the bus, membership, the lobby
 * registry with its group commit, the WebSocket hub, the HTTP API, presence,
 * the directory, cross-node messages, takeover and handoff. Order matters:
 * listen first (the URL goes into `nodes`), then join, then claim orphans.
 */
export async function startNode(
  config: NodeConfig,
  games: readonly AnyGame[],
  log: Logger,
  onExit: (code: number) => void,
): Promise<RunningNode> {
  // Checked before anything starts: a node with a bad game list never joins the cluster.
  const catalog = new GameCatalog(games);
  const databaseUrl = requireDatabaseUrl(config);
  await migrate(databaseUrl, config.RINGSIDE_SCHEMA);
  const pool = createPool(databaseUrl, config.RINGSIDE_SCHEMA, config.RINGSIDE_DB_POOL_MAX, dbTimeoutsOf(config));
  // The lease gets a connection of its own: a renewal must never queue behind a busy pool,
  // and it gives up within the lease, so a connection that died cannot hold the next attempt
  // back for long (the node fences itself at its local deadline whatever the renewal does).
  const renewalMs = Math.max(250, Math.min(config.RINGSIDE_HEARTBEAT_MS * 4, (config.RINGSIDE_LEASE_MS * 2) / 3));
  const leasePool = createPool(databaseUrl, config.RINGSIDE_SCHEMA, 1, {
    statementMs: renewalMs,
    queryMs: renewalMs,
    connectMs: renewalMs,
  });
  // So does the group commit (one statement at a time): a commit with no answer fails at its deadline.
  const commitMs = config.RINGSIDE_COMMIT_TIMEOUT_MS;
  const commitPool = createPool(databaseUrl, config.RINGSIDE_SCHEMA, 2, {
    ...dbTimeoutsOf(config),
    statementMs: commitMs,
    queryMs: commitMs,
    connectMs: commitMs,
  });
  const bus = createEventBus({
    kind: config.RINGSIDE_BUS,
    databaseUrl,
    schema: config.RINGSIDE_SCHEMA,
    redisUrl: config.REDIS_URL,
    logger: log.child({ part: "bus" }),
  });
  const server = createServer();
  server.keepAliveTimeout = 65_000;
  const clock = new DbClock(pool, log);
  await clock.start();
  // A reconnect storm arrives all at once (the balancers release held upgrades together): Node's default
  // backlog (511) would drop connections, each then retried by TCP seconds later. The kernel caps it at somaxconn.
  await new Promise<void>((resolve) =>
    server.listen({ port: config.PORT, host: config.HOST, backlog: 65_535 }, resolve),
  );
  const port = (server.address() as AddressInfo).port;
  const id = config.NODE_ID ?? `node-${port}`;
  const url = config.NODE_URL ?? `http://${config.HOST}:${port}`;
  identifyLogger(log, "nodeId", id);
  // No await between listen and the handlers below: a request arriving in between would get no answer.
  const parts = assemble({ config, log, pool, leasePool, commitPool, bus, id, url, onExit, catalog, clock });
  const koa = parts.app.callback();
  // Liveness probes come several times a second from every balancer: answered here, not through Koa.
  const health = Buffer.from(JSON.stringify({ ok: true, node: id }));
  server.on("request", (req, res) => {
    if (req.url !== "/healthz" || req.method !== "GET") return void koa(req, res);
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": health.length });
    res.end(health);
  });
  server.on("upgrade", (req, socket, head) => void parts.hub.handleUpgrade(req, socket, head));
  server.on("clientError", (_err, socket) => socket.destroy());

  await parts.membership.join();
  await parts.takeover.start();
  await parts.crossNode.start();
  await bus.subscribe(Topic.Rebalance, () => void parts.rebalance());
  await parts.handoff.receive();
  parts.presence.start();
  parts.timers.start();
  parts.lifecycle.start();
  log.info({ port, url, node: id, games: catalog.list().map((g) => `${g.id}@${g.version}`) }, "listening");

  const stop = async () => {
    parts.timers.stop();
    parts.lifecycle.stop();
    clock.stop();
    parts.takeover.stop();
    parts.presence.stop();
    parts.directory.stop();
    parts.membership.stop();
    // Commits have a deadline, so this ends; the bound is for a stop during an outage.
    await Promise.race([parts.queue.drained(), delay(config.RINGSIDE_COMMIT_TIMEOUT_MS + 500)]);
    parts.registry.unloadAll(CloseCode.Restart, "node shutting down; reconnect");
    parts.hub.close();
    await closeServer(server);
    await parts.membership.setState("dead", ["joining", "active", "draining"]).catch(() => {});
    await bus.close().catch(() => {});
    await Promise.all([pool, leasePool, commitPool].map((p) => p.end().catch(() => {})));
  };
  return { id, port, url, drain: parts.drain, stop, counters: parts.counters };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
