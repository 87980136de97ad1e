import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { EventBus } from "../shared/bus/index.js";
import type { BalancerConfig } from "../shared/config.js";
import type { Queryable } from "../shared/db/pool.js";
import { KeyedLimiter } from "../shared/keyed-limiter.js";
import type { Logger } from "../shared/log.js";
import { DirectoryStream } from "./directory-stream.js";
import { HealthProbe } from "./health-probe.js";
import { HttpForwarder } from "./http-forwarder.js";
import { createBalancerMetrics } from "./metrics.js";
import { ConnectionCaps } from "./rate-limits.js";
import { RefusalHold } from "./refusal-hold.js";
import { DEFAULT_INTERVALS, RoutingSync, type SyncIntervals } from "./routing-sync.js";
import { RoutingTable } from "./routing-table.js";
import { createMetricsServer, createServer } from "./server.js";
import { createStaticPages } from "./static-pages.js";
import { WsForwarder } from "./ws-forwarder.js";

/** Wires the balancer's parts together; main.ts (or a test) provides config, database and bus. */

export type BalancerOptions = {
  config: BalancerConfig;
  db: Queryable;
  bus: EventBus;
  logger: Logger;
  intervals?: SyncIntervals;
};

export type Balancer = {
  table: RoutingTable;
  sync: RoutingSync;
  /** Starts serving; with METRICS_PORT set, /metrics listens there too (metricsPort once listening). */
  listen(port: number, host: string): Promise<number>;
  metricsPort: number | null;
  /** Stops accepting, stops the refresh timers and probes, and destroys every open socket. */
  close(): Promise<void>;
};

export function createBalancer({ config, db, bus, logger, intervals = DEFAULT_INTERVALS }: BalancerOptions): Balancer {
  const table = new RoutingTable();
  // The probe and the sync need each other: the probe follows the node rows the
  // sync reads, and the sync re-reads at once when the probe recorded a death.
  const refreshSoon = () => void sync.refreshMembership();
  const probe = new HealthProbe(
    db,
    bus,
    logger,
    {
      balancerId: config.BALANCER_ID,
      intervalMs: config.RINGSIDE_PROBE_MS,
      failuresToKill: config.RINGSIDE_PROBE_FAILURES,
    },
    refreshSoon,
  );
  // Requests refused by a dying node wait for the verdict: any probe outcome or routing change may end it.
  const hold = new RefusalHold({
    answeredSince: (id, since) => probe.answeredSince(id, since),
    holdMs: config.RINGSIDE_REFUSED_HOLD_MS,
  });
  probe.onOutcome = () => hold.recheck();
  const sync = new RoutingSync(db, table, bus, logger, intervals, (rows) => {
    probe.update(rows);
    hold.recheck();
    for (const node of rows) {
      if (node.state !== "dead" && node.leaseValid) continue;
      const closed = wsForwarder.closeTunnelsTo(node.id);
      if (closed > 0) logger.warn({ node: node.id, closed }, "closed tunnels to a dead node");
    }
  });
  const live = {
    clientSockets: () => 0,
    nodeHttpSockets: () => 0,
    nodeWsSockets: () => 0,
    wsTunnels: () => 0,
    directoryStreams: () => 0,
  };
  const limits = {
    create: new KeyedLimiter({ perSecond: config.RINGSIDE_CREATE_PER_SECOND, burst: config.RINGSIDE_CREATE_BURST }),
    join: new KeyedLimiter({ perSecond: config.RINGSIDE_JOIN_PER_SECOND, burst: config.RINGSIDE_JOIN_BURST }),
    websockets: new ConnectionCaps({ perKey: config.RINGSIDE_WS_PER_IP, total: config.RINGSIDE_WS_MAX }),
  };
  const authFailures = new KeyedLimiter({
    perSecond: config.RINGSIDE_ADMIN_FAILURES_PER_SECOND,
    burst: config.RINGSIDE_ADMIN_FAILURES_BURST,
  });
  const metrics = createBalancerMetrics(config.BALANCER_ID, {
    ringSize: () => table.ringSize,
    exceptions: () => table.exceptionCount,
    clientSockets: () => live.clientSockets(),
    nodeHttpSockets: () => live.nodeHttpSockets(),
    nodeWsSockets: () => live.nodeWsSockets(),
    wsTunnels: () => live.wsTunnels(),
    directoryStreams: () => live.directoryStreams(),
    limitedClients: () => ({ create: limits.create.size, join: limits.join.size, admin_auth: authFailures.size }),
  });
  const forwarderDeps = {
    table,
    logger,
    metrics,
    trustProxy: config.RINGSIDE_TRUST_PROXY,
    checkNode: (id: string) => probe.checkSoon(id),
    nodeRefused: (id: string, err: unknown) => probe.refused(id, err),
    onUnknownNode: refreshSoon,
    hold,
    upstreamTimeoutMs: config.RINGSIDE_UPSTREAM_TIMEOUT_MS,
    nodeSockets: config.RINGSIDE_NODE_SOCKETS,
    nodeMaxHeaderBytes: config.RINGSIDE_NODE_MAX_HEADER_BYTES,
    sourceAddresses: config.BALANCER_SOURCE_ADDRESSES,
  };
  bus.onResync(() => metrics.busResyncs.inc());
  const httpForwarder = new HttpForwarder(forwarderDeps);
  const wsForwarder = new WsForwarder(forwarderDeps);
  const directory = new DirectoryStream({
    db,
    bus,
    logger,
    metrics,
    caps: new ConnectionCaps({ perKey: config.RINGSIDE_SSE_PER_IP, total: config.RINGSIDE_SSE_MAX }),
  });
  // Bundled while the routing loads; listen() waits for both, so a page that does not build stops the start.
  const pages = createStaticPages();
  const web = createServer({
    http: httpForwarder,
    ws: wsForwarder,
    directory,
    metrics,
    limits,
    trustProxy: config.RINGSIDE_TRUST_PROXY,
    publicMetrics: config.METRICS_PORT === undefined,
    logger,
    accessLog: config.RINGSIDE_ACCESS_LOG ? logger.child({ part: "access" }) : null,
    pages,
    admin: {
      token: config.RINGSIDE_ADMIN_TOKEN,
      balancerId: config.BALANCER_ID,
      db,
      bus,
      table,
      probe,
      refreshMembership: () => sync.refreshMembership(),
      logger,
      authFailures,
      onThrottled: () => metrics.refusals.inc({ reason: "admin_auth" }),
    },
    isReady: () => {
      if (!sync.loaded) return { ready: false, reason: "node membership not read from Postgres yet" };
      if (table.ringSize === 0) return { ready: false, reason: "no active node" };
      return { ready: true, reason: "" };
    },
  });
  live.clientSockets = web.clientSockets;
  live.nodeHttpSockets = () => httpForwarder.openSockets();
  live.nodeWsSockets = () => wsForwarder.nodeSockets;
  live.wsTunnels = () => wsForwarder.openTunnels;
  live.directoryStreams = () => directory.open;
  const { server } = web;
  const metricsServer = config.METRICS_PORT === undefined ? null : createMetricsServer(metrics);

  const balancer: Balancer = {
    table,
    sync,
    metricsPort: null,
    async listen(port, host) {
      await Promise.all([sync.start(), directory.start(), pages]);
      if (metricsServer) {
        balancer.metricsPort = await listenOn(metricsServer, config.METRICS_PORT ?? 0, config.METRICS_HOST ?? host);
      }
      return listenOn(server, port, host);
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      metricsServer?.close();
      metricsServer?.closeAllConnections();
      await sync.stop();
      probe.stop();
      hold.close();
      directory.close();
      wsForwarder.closeAll();
      server.closeAllConnections();
      httpForwarder.close();
      await closed;
    },
  };
  return balancer;
}

/**
 * Connections the kernel may hold for accept(): Node's default (511) overflows when the players of a killed
 * node (thousands) reconnect within the SDK's first 100 ms, and every dropped SYN costs its client a TCP
 * retransmit 1, 3, 7 s later. The kernel caps it at net.core.somaxconn (4096 on current kernels).
 */
const LISTEN_BACKLOG = 65_535;

function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
