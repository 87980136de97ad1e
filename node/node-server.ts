import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createEventBus } from "../shared/bus/index.js";
import { type NodeConfig, requireDatabaseUrl } from "../shared/config.js";
import { commitEvents } from "../shared/db/lobbies.js";
import { migrate } from "../shared/db/migrate.js";
import { createPool } from "../shared/db/pool.js";
import type { Logger } from "../shared/log.js";
import { CloseCode } from "../shared/protocol.js";
import { CommitQueue, type CommitStore } from "./commit-queue.js";
import { createHttpApi } from "./http-api.js";
import { LobbyRegistry } from "./lobby-registry.js";
import { Membership } from "./membership.js";
import { createNodeMetrics } from "./node-metrics.js";
import { PresenceTracker } from "./presence-tracker.js";
import { SocketHub } from "./socket-hub.js";
import { Takeover } from "./takeover.js";

export type RunningNode = { id: string; port: number; url: string; stop: () => Promise<void> };

/**
 * Wires one game node together: Postgres, the bus, membership, the lobby
 * registry with its group commit, the WebSocket hub, the HTTP API, presence
 * and takeover. Order matters: listen first (the URL goes into `nodes`), then
 * join the cluster, then start claiming orphans.
 */
export async function startNode(config: NodeConfig, log: Logger): Promise<RunningNode> {
  const databaseUrl = requireDatabaseUrl(config);
  await migrate(databaseUrl, config.RINGSIDE_SCHEMA);
  const pool = createPool(databaseUrl, config.RINGSIDE_SCHEMA, 12);
  const bus = createEventBus({
    kind: config.RINGSIDE_BUS,
    databaseUrl,
    schema: config.RINGSIDE_SCHEMA,
    redisUrl: config.REDIS_URL,
    logger: log.child({ part: "bus" }),
  });
  const server = createServer();
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(config.PORT, config.HOST, resolve));
  const port = (server.address() as AddressInfo).port;
  const id = config.NODE_ID ?? `node-${port}`;
  const url = config.NODE_URL ?? `http://${config.HOST}:${port}`;
  const metrics = createNodeMetrics(id);

  let registry: LobbyRegistry | null = null;
  const membership = new Membership({
    pool,
    bus,
    id,
    url,
    weight: config.NODE_WEIGHT,
    leaseMs: config.RINGSIDE_LEASE_MS,
    heartbeatMs: config.RINGSIDE_HEARTBEAT_MS,
    log,
    onFenced: () => registry?.unloadAll(CloseCode.Restart, "node lost its lease; reconnect"),
    onDrain: () => log.warn("drain requested (handoff not implemented yet)"),
  });
  const store: CommitStore = config.RINGSIDE_DURABLE
    ? (batch) => {
        if (!membership.leaseHeld()) return Promise.reject(new Error("lease not held"));
        return commitEvents(pool, id, batch);
      }
    : async (batch) => new Set(batch.map((c) => c.code));
  const queue = new CommitQueue(store, {
    onFailed: (lobby, error) => {
      log.warn({ code: lobby.code, err: error?.message }, "commit failed: unloading lobby");
      registry?.unload(lobby, CloseCode.Restart, "lobby moved; reconnect");
    },
    onBatch: (size, seconds) => metrics.observeBatch(size, seconds),
  });
  registry = new LobbyRegistry({
    pool,
    nodeId: id,
    queue,
    maxPlayers: config.RINGSIDE_MAX_PLAYERS,
    log,
    canServe: () => membership.canServe(),
  });
  const lobbies = registry;
  const presence = new PresenceTracker({
    pool,
    nodeId: id,
    intervalMs: config.RINGSIDE_PRESENCE_MS,
    log,
    connected: () => hub.connected().map((s) => ({ playerId: s.playerId, code: s.code })),
  });
  const hub = new SocketHub({
    nodeId: id,
    pool,
    registry: lobbies,
    tokenSecret: config.RINGSIDE_TOKEN_SECRET,
    log,
    rate: { perSecond: config.RINGSIDE_RATE_PER_SECOND, burst: config.RINGSIDE_RATE_BURST },
    onOpen: (s) => presence.opened(s.playerId, s.code),
    onClose: (s, replaced) => {
      if (!replaced) presence.closed(s.playerId, s.code);
    },
  });
  metrics.track({ sockets: () => hub.connectionCount, lobbies: () => lobbies.size, queue: () => queue.depth });
  const app = createHttpApi({
    nodeId: id,
    pool,
    registry: lobbies,
    tokenSecret: config.RINGSIDE_TOKEN_SECRET,
    metrics: metrics.registry,
    log,
    isReady: () => membership.canServe(),
  });
  server.on("request", app.callback());
  server.on("upgrade", (req, socket, head) => void hub.handleUpgrade(req, socket, head));
  server.on("clientError", (_err, socket) => socket.destroy());

  await membership.join();
  const takeover = new Takeover({
    pool,
    bus,
    nodeId: id,
    registry: lobbies,
    log,
    intervalMs: Math.max(100, Math.floor(config.RINGSIDE_HEARTBEAT_MS / 2)),
    canServe: () => membership.canServe(),
  });
  await takeover.start();
  presence.start();
  log.info({ port, url, node: id }, "listening");

  const stop = async () => {
    takeover.stop();
    presence.stop();
    membership.stop();
    await queue.drained();
    lobbies.unloadAll(CloseCode.Restart, "node shutting down; reconnect");
    hub.close();
    await closeServer(server);
    await membership.setState("dead", ["joining", "active", "draining"]).catch(() => {});
    await bus.close().catch(() => {});
    await pool.end().catch(() => {});
  };
  return { id, port, url, stop };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
