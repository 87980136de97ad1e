import { Counter, createRegistry, Gauge, Histogram, type Registry } from "../shared/metrics.js";
import { LATENCY_KINDS } from "./metrics-requests.js";

/**
 * The balancer's Prometheus metrics. Gauges that describe live state (ring
 * size, open sockets) are read from their owners at scrape time, so they
 * cannot drift from the truth.
 */

export type RouteClass =
  | "lobby"
  | "create"
  | "other_api"
  | "directory_stream"
  | "admin"
  | "internal"
  | "ws"
  | "bad_path"
  | "unknown";

export type LiveCounts = {
  ringSize: () => number;
  exceptions: () => number;
  clientSockets: () => number;
  /** Pooled keep-alive connections to nodes (HTTP), busy or idle. */
  nodeHttpSockets: () => number;
  /** Connections to nodes for WebSocket upgrades: pending, or tunnels. */
  nodeWsSockets: () => number;
  wsTunnels: () => number;
  /** Live directory streams (server-sent events) served by this balancer. */
  directoryStreams: () => number;
  /** Clients with a rate-limit bucket, by limit. */
  limitedClients: () => Record<string, number>;
};

export type BalancerMetrics = {
  registry: Registry;
  requests: Counter<"route" | "status">;
  upstreamErrors: Counter<"kind">;
  wsUpgrades: Counter<"result">;
  retries: Counter<"kind">;
  refusedHolds: Counter<"kind" | "result">;
  /** Requests refused by a limit or a guard, by reason. */
  refusals: Counter<"reason">;
  /** Directory snapshots read from Postgres (one serves every client connecting within a second). */
  directoryReads: Counter<string>;
  /** Seconds from a request's arrival to its answer (HTTP: response done; WebSocket: 101 or refusal), by route kind. */
  latency: Histogram<"route">;
  busResyncs: Counter<string>;
};

export function createBalancerMetrics(id: string, live: LiveCounts): BalancerMetrics {
  const registry = createRegistry("balancer", id);
  const gauge = (name: string, help: string, read: () => number, labelNames: string[] = []) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge("ringside_balancer_ring_size", "Nodes on the ring (active, lease valid, weight > 0)", live.ringSize);
  gauge("ringside_balancer_routing_exceptions", "Lobbies whose owner is not their ring owner", live.exceptions);
  gauge("ringside_balancer_ws_tunnels_open", "WebSocket tunnels open through this balancer", live.wsTunnels);
  gauge("ringside_balancer_directory_streams", "Live directory streams served by this balancer", live.directoryStreams);
  new Gauge({
    name: "ringside_balancer_rate_limit_clients",
    help: "Client addresses with a rate-limit bucket, by limit",
    labelNames: ["limit"],
    registers: [registry],
    collect() {
      for (const [limit, n] of Object.entries(live.limitedClients())) this.set({ limit }, n);
    },
  });
  new Gauge({
    name: "ringside_balancer_open_sockets",
    help: "Open sockets: client connections, pooled HTTP connections to nodes, WebSocket connections to nodes",
    labelNames: ["side"],
    registers: [registry],
    collect() {
      this.set({ side: "client" }, live.clientSockets());
      this.set({ side: "node_http" }, live.nodeHttpSockets());
      this.set({ side: "node_ws" }, live.nodeWsSockets());
    },
  });
  const latency = new Histogram({
    name: "ringside_balancer_request_seconds",
    help: "Time from a request's arrival to its answer, by route kind (lobby_http, create, directory, page, admin, api_other, refused, ws_upgrade)",
    labelNames: ["route"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // Every kind from zero: a quantile or an alert can name a kind before its first request.
  for (const route of LATENCY_KINDS) latency.zero({ route });
  return {
    registry,
    latency,
    busResyncs: new Counter({
      name: "ringside_bus_resyncs_total",
      help: "Times the event bus reconnected and listeners resynced",
      registers: [registry],
    }),
    requests: new Counter({
      name: "ringside_balancer_requests_total",
      help: "Requests answered, by route class and status",
      labelNames: ["route", "status"],
      registers: [registry],
    }),
    upstreamErrors: new Counter({
      name: "ringside_balancer_upstream_errors_total",
      help: "Failures to reach a node, by kind (refused, reset, timeout, other)",
      labelNames: ["kind"],
      registers: [registry],
    }),
    wsUpgrades: new Counter({
      name: "ringside_balancer_ws_upgrades_total",
      help: "WebSocket upgrade attempts, by result",
      labelNames: ["result"],
      registers: [registry],
    }),
    refusals: new Counter({
      name: "ringside_balancer_refusals_total",
      help: "Requests refused by a limit or a guard (bad_path, create_rate, join_rate, admin_auth, ws_per_ip, ws_total, sse_per_ip, sse_total, sse_slow_reader, headers_too_large)",
      labelNames: ["reason"],
      registers: [registry],
    }),
    directoryReads: new Counter({
      name: "ringside_balancer_directory_snapshot_reads_total",
      help: "Directory snapshots read from Postgres for live directory streams",
      registers: [registry],
    }),
    retries: new Counter({
      name: "ringside_balancer_misdirected_retries_total",
      help: "Requests retried after a node answered 421 not_owner",
      labelNames: ["kind"],
      registers: [registry],
    }),
    refusedHolds: new Counter({
      name: "ringside_balancer_refused_holds_total",
      help: "Requests (kind http|ws) a node refused, held until the verdict on it: sent_again (to the lobby's route then) or expired (answered 503 node_unavailable)",
      labelNames: ["kind", "result"],
      registers: [registry],
    }),
  };
}

/** The error kind label for a failed connection to a node. */
export function upstreamErrorKind(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ECONNREFUSED") return "refused";
  if (code === "ECONNRESET") return "reset";
  if (code === "ETIMEDOUT" || code === "UPSTREAM_TIMEOUT") return "timeout";
  return "other";
}
