import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { KeyedLimiter } from "../shared/keyed-limiter.js";
import { generateLobbyCode } from "../shared/lobby-code.js";
import type { Logger } from "../shared/log.js";
import { type AdminDeps, handleAdmin } from "./admin-api.js";
import { clientAddress } from "./client-address.js";
import { type DirectoryStream, wantsEventStream } from "./directory-stream.js";
import type { HttpForwarder, HttpRoute } from "./http-forwarder.js";
import type { BalancerMetrics, RouteClass } from "./metrics.js";
import { latencyKind, watchRequest, watchUpgrade } from "./metrics-requests.js";
import { checkRequestTarget, type RequestTarget } from "./path-guard.js";
import type { ConnectionCaps } from "./rate-limits.js";
import { sendError, sendJson, writeSocketError } from "./replies.js";
import { type Forwarded, type Route, routeRequest, routeUpgrade } from "./routes.js";
import type { PageHandler } from "./static-pages.js";
import type { WsForwarder } from "./ws-forwarder.js";

/**
 * The balancer's one public port. Each request's target is checked once
 * (path-guard.ts), routed by a strict allowlist (routes.ts), held to the
 * per-client limits, and handed to the part that serves it: probes, metrics,
 * admin, the live directory, a node (HTTP or WebSocket), the static pages.
 */

export type ClientLimits = {
  create: KeyedLimiter;
  join: KeyedLimiter;
  websockets: ConnectionCaps;
};

export type ServerDeps = {
  http: HttpForwarder;
  ws: WsForwarder;
  directory: DirectoryStream;
  admin: AdminDeps;
  metrics: BalancerMetrics;
  limits: ClientLimits;
  trustProxy: boolean;
  /** False when /metrics has a listener of its own (METRICS_PORT): then it is a 404 here. */
  publicMetrics: boolean;
  logger: Logger;
  /** One line per request (RINGSIDE_ACCESS_LOG=1), else null. */
  accessLog: Logger | null;
  isReady: () => { ready: boolean; reason: string };
  /** The game page, the ops dashboard and their assets (bundled at start). */
  pages: Promise<PageHandler>;
};

export type BalancerServer = { server: http.Server; clientSockets: () => number };

export function createServer(deps: ServerDeps): BalancerServer {
  const server = http.createServer();
  // Slow or stuck clients must not hold a socket for long (slowloris).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.setNoDelay(true);
  });
  server.on("request", (req, res) => onRequest(req, res, deps));
  server.on("upgrade", (req, socket, head) => onUpgrade(req, socket, head, deps));
  // Without a listener Node drops a CONNECT without a word: it is refused like any other unserved method.
  server.on("connect", (_req, socket: Duplex) => {
    socket.on("error", () => socket.destroy());
    writeSocketError(socket, 405, "method_not_allowed", "CONNECT is not served here: the balancer is no tunnel");
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => onClientError(err, socket));
  server.on("error", (err) => deps.logger.error({ err }, "balancer server error"));
  return { server, clientSockets: () => sockets.size };
}

/** A listener of its own for /metrics (METRICS_PORT), so the public port need not expose it. */
export function createMetricsServer(metrics: BalancerMetrics): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path !== "/metrics") return sendError(res, 404, "not_found", "this listener serves only GET /metrics");
    if (req.method !== "GET" && req.method !== "HEAD") {
      return sendError(res, 405, "method_not_allowed", "GET /metrics", { allow: "GET, HEAD" });
    }
    void serveMetrics(res, metrics);
  });
}

function onRequest(req: IncomingMessage, res: ServerResponse, deps: ServerDeps): void {
  const checked = checkRequestTarget(req.url);
  const route: Route = checked.ok
    ? routeRequest(req.method ?? "GET", checked.target)
    : { kind: "refused", status: 400, error: "bad_path", message: checked.message };
  watchRequest(
    req,
    res,
    { label: routeClass(route, req), kind: latencyKind(route, wantsEventStream(req.headers.accept)) },
    deps,
  );
  if (!checked.ok) deps.metrics.refusals.inc({ reason: "bad_path" });
  serve(req, res, route, checked.ok ? checked.target : null, deps).catch((err: unknown) => {
    deps.logger.error({ err, path: checked.ok ? checked.target.path : "(refused)" }, "request failed");
    if (!res.headersSent) sendError(res, 500, "internal", "the balancer failed to serve this request");
    else res.destroy();
  });
}

function routeClass(route: Route, req: IncomingMessage): RouteClass {
  switch (route.kind) {
    case "forward":
      return route.to.kind === "lobby" ? "lobby" : route.to.kind === "create" ? "create" : "other_api";
    case "directory":
      return wantsEventStream(req.headers.accept) ? "directory_stream" : "other_api";
    case "probe":
      return "internal";
    case "admin":
      return "admin";
    case "refused":
      return route.error === "bad_path" ? "bad_path" : "unknown";
    default:
      return "unknown";
  }
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  route: Route,
  target: RequestTarget | null,
  deps: ServerDeps,
): Promise<void> {
  switch (route.kind) {
    case "refused": {
      const headers: http.OutgoingHttpHeaders = {};
      if (route.allow) headers.allow = route.allow;
      if (route.status === 426) headers.upgrade = "websocket";
      // A refused request may carry a body nobody will read: do not keep the connection for the next one.
      if (req.headers["content-length"] || req.headers["transfer-encoding"]) headers.connection = "close";
      return sendError(res, route.status, route.error, route.message, headers);
    }
    case "probe":
      return probe(res, route.name, deps);
    case "admin": {
      const url = new URL(`${target?.path ?? "/"}${target?.query ?? ""}`, "http://balancer");
      return handleAdmin(req, res, url, clientAddress(req, deps.trustProxy), deps.admin);
    }
    case "directory":
      if (req.method === "GET" && wantsEventStream(req.headers.accept)) {
        return deps.directory.serve(req, res, clientAddress(req, deps.trustProxy));
      }
      return forward(req, res, route.json, deps);
    case "forward":
      return forward(req, res, route.to, deps);
    case "ws":
      return sendError(res, 426, "upgrade_required", "send an Upgrade: websocket request", { upgrade: "websocket" });
    case "page":
      if ((await deps.pages)(req, res)) return;
      return sendError(res, 404, "not_found", `no route ${req.method} ${target?.path.slice(0, 200) ?? ""}`);
  }
}

/** Lobby creates and joins spend a token of the client's bucket first. */
function forward(req: IncomingMessage, res: ServerResponse, to: Forwarded, deps: ServerDeps): Promise<void> | void {
  const limit = to.kind === "create" ? "create" : to.kind === "lobby" ? to.limit : undefined;
  if (limit) {
    const limited = deps.limits[limit].take(clientAddress(req, deps.trustProxy));
    if (limited) {
      deps.metrics.refusals.inc({ reason: `${limit}_rate` });
      const what = limit === "create" ? "lobby creations" : "joins";
      return sendJson(
        res,
        429,
        {
          error: "rate_limited",
          message: `too many ${what} from this address; retry in ${limited.retryAfterS} s`,
          retryAfter: limited.retryAfterS,
        },
        { "retry-after": String(limited.retryAfterS), connection: "close" },
      );
    }
  }
  // The code is chosen here, so the lobby is created on that code's ring owner.
  const route: HttpRoute = to.kind === "create" ? { kind: "create", code: generateLobbyCode(), path: to.path } : to;
  return deps.http.forward(req, res, route);
}

async function probe(res: ServerResponse, name: "healthz" | "readyz" | "metrics", deps: ServerDeps): Promise<void> {
  if (name === "healthz") return sendJson(res, 200, { status: "ok" });
  if (name === "readyz") {
    const { ready, reason } = deps.isReady();
    return ready ? sendJson(res, 200, { status: "ready" }) : sendError(res, 503, "not_ready", reason);
  }
  if (!deps.publicMetrics) return sendError(res, 404, "not_found", "no route GET /metrics");
  return serveMetrics(res, deps.metrics);
}

async function serveMetrics(res: ServerResponse, metrics: BalancerMetrics): Promise<void> {
  const body = await metrics.registry.metrics();
  res.writeHead(200, { "content-type": metrics.registry.contentType });
  res.end(body);
}

function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, deps: ServerDeps): void {
  // Before anything else: a reset while we decide must not become an uncaught error.
  socket.on("error", () => socket.destroy());
  watchUpgrade(req, socket, deps);
  const decided = decideUpgrade(req, deps);
  if ("error" in decided) {
    deps.metrics.wsUpgrades.inc({ result: decided.error });
    writeSocketError(socket, decided.status, decided.error, decided.message, decided.headers);
    return;
  }
  deps.ws.forward(req, socket, head, decided.route, decided.release);
}

type UpgradeRefusal = { status: number; error: string; message: string; headers?: http.OutgoingHttpHeaders };
type UpgradeAccepted = { route: { code: string; path: string }; release: () => void };

/** Path, route, upgrade header, then the client's WebSocket caps (held until the tunnel closes). */
function decideUpgrade(req: IncomingMessage, deps: ServerDeps): UpgradeRefusal | UpgradeAccepted {
  const checked = checkRequestTarget(req.url);
  if (!checked.ok) {
    deps.metrics.refusals.inc({ reason: "bad_path" });
    return { status: 400, error: "bad_path", message: checked.message };
  }
  const route = routeUpgrade(req.method ?? "GET", checked.target);
  if (route.kind === "refused") {
    return { ...route, headers: route.allow ? { allow: route.allow } : {} };
  }
  if (route.kind !== "ws")
    return { status: 404, error: "not_found", message: `no WebSocket route ${checked.target.path}` };
  if (String(req.headers.upgrade).toLowerCase() !== "websocket") {
    return { status: 400, error: "bad_upgrade", message: "only WebSocket upgrades are served" };
  }
  const client = clientAddress(req, deps.trustProxy);
  const caps = deps.limits.websockets;
  const held = caps.acquire(client);
  if (held === "ok") return { route, release: () => caps.release(client) };
  deps.metrics.refusals.inc({ reason: held === "per_key" ? "ws_per_ip" : "ws_total" });
  const headers = { "retry-after": "5" };
  return held === "per_key"
    ? {
        status: 429,
        error: "too_many_sockets",
        message: `at most ${caps.options.perKey} WebSockets per client address`,
        headers,
      }
    : {
        status: 503,
        error: "sockets_full",
        message: "this balancer holds as many WebSockets as it can; retry later",
        headers,
      };
}

function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // Reset, timed out or garbage: answer when the socket can still take it, then drop it.
  if (err.code === "ECONNRESET" || !socket.writable || (socket as Socket).bytesWritten > 0) {
    socket.destroy();
    return;
  }
  const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
  writeSocketError(socket, status, "bad_request", `malformed or incomplete HTTP request (${err.code ?? "error"})`);
}
