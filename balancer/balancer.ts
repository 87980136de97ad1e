import type { AddressInfo } from "node:net";
import type { EventBus } from "../shared/bus/index.js";
import type { BalancerConfig } from "../shared/config.js";
import type { Queryable } from "../shared/db/pool.js";
import type { Logger } from "../shared/log.js";
import { HealthProbe } from "./health-probe.js";
import { HttpForwarder } from "./http-forwarder.js";
import { createBalancerMetrics } from "./metrics.js";
import { DEFAULT_INTERVALS, RoutingSync, type SyncIntervals } from "./routing-sync.js";
import { RoutingTable } from "./routing-table.js";
import { createServer } from "./server.js";
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
  listen(port: number, host: string): Promise<number>;
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
  const sync = new RoutingSync(db, table, bus, logger, intervals, (rows) => {
    probe.update(rows);
    for (const node of rows) {
      if (node.state !== "dead" && node.leaseValid) continue;
      const closed = wsForwarder.closeTunnelsTo(node.id);
      if (closed > 0) logger.warn({ node: node.id, closed }, "closed tunnels to a dead node");
    }
  });
  const live = { clientSockets: () => 0, nodeHttpSockets: () => 0, nodeWsSockets: () => 0, wsTunnels: () => 0 };
  const metrics = createBalancerMetrics(config.BALANCER_ID, {
    ringSize: () => table.ringSize,
    exceptions: () => table.exceptionCount,
    clientSockets: () => live.clientSockets(),
    nodeHttpSockets: () => live.nodeHttpSockets(),
    nodeWsSockets: () => live.nodeWsSockets(),
    wsTunnels: () => live.wsTunnels(),
  });
  const forwarderDeps = {
    table,
    logger,
    metrics,
    trustProxy: config.RINGSIDE_TRUST_PROXY,
    onRefused: (id: string, err: unknown) => probe.reportRefused(id, err),
    onUnknownNode: refreshSoon,
  };
  const httpForwarder = new HttpForwarder(forwarderDeps);
  const wsForwarder = new WsForwarder(forwarderDeps);
  // Bundled while the routing loads; listen() waits for both, so a page that does not build stops the start.
  const pages = createStaticPages();
  const web = createServer({
    http: httpForwarder,
    ws: wsForwarder,
    metrics,
    logger,
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
  const { server } = web;

  return {
    table,
    sync,
    async listen(port, host) {
      await Promise.all([sync.start(), pages]);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve();
        });
      });
      return (server.address() as AddressInfo).port;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await sync.stop();
      probe.stop();
      wsForwarder.closeAll();
      server.closeAllConnections();
      httpForwarder.close();
      await closed;
    },
  };
}
