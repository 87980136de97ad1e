import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { EventBus } from "../shared/bus/event-bus.js";
import { createEventBus } from "../shared/bus/index.js";
import { type OwnershipMessage, Topic } from "../shared/bus/topics.js";
import { dbTimeoutsOf, type NodeConfig, requireDatabaseUrl } from "../shared/config.js";
import { commitEvents } from "../shared/db/lobbies.js";
import { listNodes, recordHistory } from "../shared/db/membership.js";
import { migrate } from "../shared/db/migrate.js";
import { createPool, type Pool } from "../shared/db/pool.js";
import type { Logger } from "../shared/log.js";
import { CloseCode, type LobbyEvent } from "../shared/protocol.js";
import { ringOfActiveNodes } from "../shared/ring.js";
import { CommitQueue, type CommitStore } from "./commit-queue.js";
import { CrossNodeMessages } from "./cross-node-messages.js";
import { DirectoryFeed } from "./directory-feed.js";
import { Handoff } from "./handoff.js";
import { createHttpApi } from "./http-api.js";
import { LobbyRegistry } from "./lobby-registry.js";
import { Membership } from "./membership.js";
import { createNodeMetrics } from "./node-metrics.js";
import { OutageReload } from "./outage-reload.js";
import { PresenceTracker } from "./presence-tracker.js";
import { SocketHub } from "./socket-hub.js";
import { Takeover } from "./takeover.js";

export type RunningNode = {
  id: string;
  port: number;
  url: string;
  /** Hands every lobby off within RINGSIDE_DRAIN_DEADLINE_MS (SIGTERM); stop() afterwards releases what is left. */
  drain: () => Promise<void>;
  stop: () => Promise<void>;
};

/** Events that change what the public directory shows about a lobby. */
const DIRECTORY_EVENTS = new Set<LobbyEvent["kind"]>(["lobby_created", "player_joined", "rematch"]);

/**
 * Wires one game node together: Postgres, the bus, membership, the lobby
 * registry with its group commit, the WebSocket hub, the HTTP API, presence,
 * the directory, cross-node messages, takeover and handoff. Order matters:
 * listen first (the URL goes into `nodes`), then join, then claim orphans.
 */
export async function startNode(config: NodeConfig, log: Logger, onExit: (code: number) => void): Promise<RunningNode> {
  const databaseUrl = requireDatabaseUrl(config);
  await migrate(databaseUrl, config.RINGSIDE_SCHEMA);
  const pool = createPool(databaseUrl, config.RINGSIDE_SCHEMA, 12, dbTimeoutsOf(config));
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
  await new Promise<void>((resolve) => server.listen(config.PORT, config.HOST, resolve));
  const port = (server.address() as AddressInfo).port;
  const id = config.NODE_ID ?? `node-${port}`;
  const url = config.NODE_URL ?? `http://${config.HOST}:${port}`;
  const parts = assemble({ config, log, pool, leasePool, commitPool, bus, id, url, onExit });
  server.on("request", parts.app.callback());
  server.on("upgrade", (req, socket, head) => void parts.hub.handleUpgrade(req, socket, head));
  server.on("clientError", (_err, socket) => socket.destroy());

  await parts.membership.join();
  await parts.takeover.start();
  await parts.crossNode.start();
  await parts.directory.start();
  await bus.subscribe(Topic.Rebalance, () => void parts.rebalance());
  parts.presence.start();
  log.info({ port, url, node: id }, "listening");

  const stop = async () => {
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
  return { id, port, url, drain: parts.drain, stop };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

type Wiring = {
  config: NodeConfig;
  log: Logger;
  pool: Pool;
  leasePool: Pool;
  commitPool: Pool;
  bus: EventBus;
  id: string;
  url: string;
  onExit: (code: number) => void;
};

function assemble({ config, log, pool, leasePool, commitPool, bus, id, url, onExit }: Wiring) {
  const metrics = createNodeMetrics(id);
  const membership: Membership = new Membership({
    pool: leasePool,
    bus,
    id,
    url,
    weight: config.NODE_WEIGHT,
    leaseMs: config.RINGSIDE_LEASE_MS,
    heartbeatMs: config.RINGSIDE_HEARTBEAT_MS,
    log,
    onFenced: () => {
      outage.fenced(registry.all().map((lobby) => lobby.code));
      registry.unloadAll(CloseCode.Restart, "node lost its lease; reconnect");
    },
    onServing: () => void outage.reload(),
    onDrain: () => void drain().then(() => onExit(0)),
    onRenewal: (result) => metrics.countRenewal(result),
  });
  const store: CommitStore = config.RINGSIDE_DURABLE
    ? (batch) => {
        // Past its local lease deadline the node may already be replaced: don't even try.
        if (!membership.leaseHeld()) return Promise.reject(new Error("lease not held"));
        return commitEvents(commitPool, id, batch);
      }
    : async (batch) => new Set(batch.map((c) => c.code));
  const queue = new CommitQueue(store, {
    onFailed: (lobby, error) => {
      log.warn({ code: lobby.code, err: error?.message }, "commit failed: unloading lobby");
      if (error) outage.commitFailed(lobby.code);
      registry.unload(lobby, CloseCode.Restart, "lobby moved; reconnect");
    },
    onBatch: (size, seconds) => metrics.observeBatch(size, seconds),
    onCommitted: (lobby, event) => {
      if (DIRECTORY_EVENTS.has(event.kind) || (event.kind === "move" && (event.winner || event.draw))) {
        directory.changed(lobby.code);
      }
    },
  });
  const registry: LobbyRegistry = new LobbyRegistry({
    pool,
    nodeId: id,
    queue,
    maxPlayers: config.RINGSIDE_MAX_PLAYERS,
    log,
    canServe: () => membership.canServe(),
    onLoaded: (lobby, how) => {
      if (how === "created") return;
      // Balancers keep only exceptions to the ring: tell them at once who serves the lobby now.
      const message: OwnershipMessage = { code: lobby.code, owner: id, epoch: lobby.epoch };
      void bus.publish(Topic.Ownership, message).catch(() => {});
      if (how === "claimed") {
        const entry = { kind: "lobby_claimed", nodeId: id, code: lobby.code, detail: { epoch: lobby.epoch } };
        void recordHistory(pool, entry).catch(() => {});
      }
    },
  });
  const outage = new OutageReload(registry, log);
  const directory: DirectoryFeed = new DirectoryFeed({
    bus,
    pool,
    log,
    summary: (code) => {
      const lobby = registry.get(code);
      if (!lobby) return undefined;
      const view = lobby.committed.view();
      return { code, status: view.status, players: view.players.length, host: view.players[0]?.name ?? "" };
    },
  });
  const presence = new PresenceTracker({
    pool,
    nodeId: id,
    intervalMs: config.RINGSIDE_PRESENCE_MS,
    log,
    connected: () => hub.connected().map((s) => ({ playerId: s.playerId, code: s.code })),
    onChange: (code) => directory.changed(code),
  });
  const crossNode: CrossNodeMessages = new CrossNodeMessages({
    bus,
    pool,
    log,
    socketOf: (playerId) => hub.socketOf(playerId),
    everySocket: () => hub.connected(),
  });
  const hub: SocketHub = new SocketHub({
    nodeId: id,
    pool,
    registry,
    tokenSecret: config.RINGSIDE_TOKEN_SECRET,
    log,
    rate: { perSecond: config.RINGSIDE_RATE_PER_SECOND, burst: config.RINGSIDE_RATE_BURST },
    onOpen: (s) => presence.opened(s.playerId, s.code),
    onClose: (s, replaced) => {
      if (!replaced) presence.closed(s.playerId, s.code);
    },
    onDirectMessage: (s, message) => void crossNode.send(s, message),
  });
  metrics.track({ sockets: () => hub.connectionCount, lobbies: () => registry.size, queue: () => queue.depth });
  const app = createHttpApi({
    nodeId: id,
    pool,
    registry,
    tokenSecret: config.RINGSIDE_TOKEN_SECRET,
    metrics: metrics.registry,
    log,
    readiness: () => membership.readiness(),
    directoryFeed: (ctx) => directory.stream(ctx),
  });
  const takeover = new Takeover({
    pool,
    bus,
    nodeId: id,
    registry,
    log,
    intervalMs: Math.max(100, Math.floor(config.RINGSIDE_HEARTBEAT_MS / 2)),
    canServe: () => membership.canServe(),
  });
  const handoff = new Handoff({
    pool,
    bus,
    nodeId: id,
    registry,
    queue,
    log,
    ring: async (includingSelf) =>
      ringOfActiveNodes((await listNodes(pool)).filter((n) => includingSelf || n.id !== id)),
  });
  const rebalance = async () => {
    if (!membership.canServe()) return;
    const moved = await handoff.rebalance().catch((err) => {
      log.error({ err }, "rebalance failed");
      return [];
    });
    log.info({ moved: moved.length, maxPauseMs: Math.max(0, ...moved.map((m) => m.pauseMs)) }, "rebalanced");
  };
  // One drain however it is asked for (an operator, SIGTERM): every lobby handed off, or the deadline.
  let draining: Promise<void> | null = null;
  const drain = () => {
    draining ??= drainWithin(config.RINGSIDE_DRAIN_DEADLINE_MS);
    return draining;
  };
  const drainWithin = async (deadlineMs: number) => {
    await membership.beginDrain();
    log.info({ deadlineMs }, "draining: handing every lobby off");
    const started = performance.now();
    const handedOff = handoff.drainAll().catch((err) => {
      log.error({ err }, "drain failed");
      return [];
    });
    const moved = await Promise.race([handedOff, delay(deadlineMs).then(() => null)]);
    if (moved === null) {
      // stop() releases the rest: the node is recorded dead, so successors claim at once, not at lease expiry.
      log.warn({ deadlineMs, left: registry.size }, "drain deadline passed: releasing every lobby left");
      return;
    }
    const ms = Math.round(performance.now() - started);
    log.info({ moved: moved.length, ms, maxPauseMs: Math.max(0, ...moved.map((m) => m.pauseMs)) }, "drained");
  };
  return { app, hub, membership, takeover, crossNode, directory, presence, queue, registry, rebalance, drain };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
