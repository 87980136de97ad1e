import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "../shared/log.js";
import { clientAddress } from "./client-address.js";
import type { BalancerMetrics, RouteClass } from "./metrics.js";
import type { Route } from "./routes.js";

/**
 * Per-request signals of the balancer: the answered-requests counter, the
 * latency histogram by route kind, and the optional access log
 * (RINGSIDE_ACCESS_LOG=1, one JSON line per request). The access log never
 * holds a query string (WebSocket tokens travel there), a header value or a
 * body: method, path, route kind, status, duration, serving node, client.
 */

export type LatencyKind =
  | "lobby_http"
  | "create"
  | "directory"
  | "page"
  | "admin"
  | "api_other"
  | "refused"
  | "ws_upgrade";

export const LATENCY_KINDS: readonly LatencyKind[] = [
  "lobby_http",
  "create",
  "directory",
  "page",
  "admin",
  "api_other",
  "refused",
  "ws_upgrade",
];

export type SignalDeps = { metrics: BalancerMetrics; trustProxy: boolean; accessLog: Logger | null };

/** Longest path kept in an access line (a refused path may be long garbage). */
const MAX_LOGGED_PATH = 200;
const NODE_HEADER_LINE = /\r\nx-ringside-node: *([^\r\n]*)/i;

/**
 * The kind a request's latency is filed under; null for what is not a
 * request-answer exchange worth timing: live directory streams (open for
 * minutes) and the probes (/healthz, /readyz, /metrics).
 */
export function latencyKind(route: Route, eventStream: boolean): LatencyKind | null {
  switch (route.kind) {
    case "forward":
      return route.to.kind === "lobby" ? "lobby_http" : route.to.kind === "create" ? "create" : "api_other";
    case "directory":
      return eventStream ? null : "directory";
    case "page":
      return "page";
    case "admin":
      return "admin";
    case "probe":
      return null;
    default:
      return "refused";
  }
}

/** Counts, times and (optionally) logs one request once its response is done or abandoned. */
export function watchRequest(
  req: IncomingMessage,
  res: ServerResponse,
  route: { label: RouteClass; kind: LatencyKind | null },
  deps: SignalDeps,
): void {
  const started = performance.now();
  res.once("close", () => {
    const status = res.headersSent ? String(res.statusCode) : "aborted";
    deps.metrics.requests.inc({ route: route.label, status });
    const seconds = (performance.now() - started) / 1000;
    if (route.kind) deps.metrics.latency.observe({ route: route.kind }, seconds);
    if (!deps.accessLog) return;
    // Headers given to writeHead are not readable through getHeader: the node's name is read from the head sent.
    const head = (res as unknown as { _header?: string | null })._header ?? "";
    const node = NODE_HEADER_LINE.exec(head)?.[1];
    accessLine(deps, req, { kind: route.kind ?? route.label, status, seconds, node });
  });
}

/**
 * Times an upgrade until the balancer answers it (the 101 of a tunnel, or a
 * refusal), whichever part answers: the first bytes written to the client
 * socket carry the status line. A client that leaves first is "aborted".
 */
export function watchUpgrade(req: IncomingMessage, socket: Duplex, deps: SignalDeps): void {
  const started = performance.now();
  const { write, end } = socket;
  let answered = false;
  const done = (chunk: unknown) => {
    if (answered) return;
    answered = true;
    socket.write = write;
    socket.end = end;
    const head = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("latin1", 0, 4096) : "";
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? "aborted";
    const seconds = (performance.now() - started) / 1000;
    deps.metrics.latency.observe({ route: "ws_upgrade" }, seconds);
    const node = NODE_HEADER_LINE.exec(head)?.[1];
    if (deps.accessLog) accessLine(deps, req, { kind: "ws_upgrade", status, seconds, node });
  };
  socket.write = function (this: Duplex, chunk: unknown, ...rest: unknown[]) {
    done(chunk);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Duplex["write"];
  socket.end = function (this: Duplex, ...args: unknown[]) {
    done(typeof args[0] === "function" ? undefined : args[0]);
    return (end as (...args: unknown[]) => Duplex).apply(this, args);
  } as Duplex["end"];
  socket.once("close", () => done(undefined));
}

type Outcome = { kind: string; status: string; seconds: number; node: string | undefined };

function accessLine(deps: SignalDeps, req: IncomingMessage, outcome: Outcome): void {
  deps.accessLog?.info(
    {
      method: req.method,
      path: pathOnly(req.url),
      route: outcome.kind,
      status: outcome.status,
      ms: Math.round(outcome.seconds * 10_000) / 10,
      node: outcome.node,
      client: clientAddress(req, deps.trustProxy),
    },
    "request",
  );
}

/** The path without its query (tokens travel there), cut short. */
export function pathOnly(url: string | undefined): string {
  const raw = url ?? "/";
  const query = raw.indexOf("?");
  return (query === -1 ? raw : raw.slice(0, query)).slice(0, MAX_LOGGED_PATH);
}
