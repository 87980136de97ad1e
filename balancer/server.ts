import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { generateLobbyCode, lobbyCodeSegment, parseLobbyCode } from "../shared/lobby-code.js";
import type { Logger } from "../shared/log.js";
import { type AdminDeps, handleAdmin } from "./admin-api.js";
import type { HttpForwarder } from "./http-forwarder.js";
import type { BalancerMetrics, RouteClass } from "./metrics.js";
import { sendError, sendJson, writeSocketError } from "./replies.js";
import type { PageHandler } from "./static-pages.js";
import type { WsForwarder } from "./ws-forwarder.js";

/**
 * The balancer's one public port: decides what each request is (probe,
 * metrics, admin, a lobby's request, any other API call, a WebSocket upgrade)
 * and hands it to the part that serves it. Lobby codes are checked here, so a
 * malformed one never reaches a node.
 */

export type ServerDeps = {
  http: HttpForwarder;
  ws: WsForwarder;
  admin: AdminDeps;
  metrics: BalancerMetrics;
  logger: Logger;
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
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => onClientError(err, socket));
  server.on("error", (err) => deps.logger.error({ err }, "balancer server error"));
  return { server, clientSockets: () => sockets.size };
}

/** The path as the node will see it: not normalised, so both sides judge the same string. */
function pathOf(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

function onRequest(req: IncomingMessage, res: ServerResponse, deps: ServerDeps): void {
  const path = pathOf(req);
  const route = classify(req.method ?? "GET", path);
  res.once("close", () => {
    deps.metrics.requests.inc({ route, status: res.headersSent ? String(res.statusCode) : "aborted" });
  });
  serve(req, res, path, route, deps).catch((err: unknown) => {
    deps.logger.error({ err, path }, "request failed");
    if (!res.headersSent) sendError(res, 500, "internal", "the balancer failed to serve this request");
    else res.destroy();
  });
}

function classify(method: string, path: string): RouteClass {
  if (path === "/healthz" || path === "/readyz" || path === "/metrics") return "internal";
  if (path === "/admin" || path.startsWith("/admin/")) return "admin";
  if (lobbyCodeSegment(path)) return "lobby";
  if (method === "POST" && path === "/api/lobbies") return "create";
  if (path === "/api" || path.startsWith("/api/")) return "other_api";
  return "unknown";
}

async function serve(req: IncomingMessage, res: ServerResponse, path: string, route: RouteClass, deps: ServerDeps) {
  switch (route) {
    case "internal":
      return internal(res, path, deps);
    case "admin":
      return handleAdmin(req, res, new URL(req.url ?? "/", "http://balancer"), deps.admin);
    case "lobby": {
      const code = codeOf(path);
      if (!code) return badCode(res, path);
      return deps.http.forward(req, res, { kind: "lobby", code });
    }
    case "create":
      // The code is chosen here, so the lobby is created on that code's ring owner.
      return deps.http.forward(req, res, { kind: "create", code: generateLobbyCode() });
    case "other_api":
      return deps.http.forward(req, res, { kind: "any" });
    default:
      if ((await deps.pages)(req, res)) return;
      return sendError(res, 404, "not_found", `no route ${req.method} ${path}`);
  }
}

async function internal(res: ServerResponse, path: string, deps: ServerDeps): Promise<void> {
  if (path === "/healthz") return sendJson(res, 200, { status: "ok" });
  if (path === "/readyz") {
    const { ready, reason } = deps.isReady();
    return ready ? sendJson(res, 200, { status: "ready" }) : sendError(res, 503, "not_ready", reason);
  }
  const body = await deps.metrics.registry.metrics();
  res.writeHead(200, { "content-type": deps.metrics.registry.contentType });
  res.end(body);
}

function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, deps: ServerDeps): void {
  // Before anything else: a reset while we decide must not become an uncaught error.
  socket.on("error", () => socket.destroy());
  const path = pathOf(req);
  const segment = lobbyCodeSegment(path);
  const refuse = (status: number, error: string, message: string) => {
    deps.metrics.wsUpgrades.inc({ result: error });
    writeSocketError(socket, status, error, message);
  };
  if (segment?.kind !== "ws") refuse(404, "not_found", `no WebSocket route ${path}`);
  else if (String(req.headers.upgrade).toLowerCase() !== "websocket") {
    refuse(400, "bad_upgrade", "only WebSocket upgrades are served");
  } else {
    const code = parseLobbyCode(segment.raw);
    if (code) deps.ws.forward(req, socket, head, code);
    else refuse(400, "bad_code", badCodeMessage(segment.raw));
  }
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

function codeOf(path: string): string | null {
  const segment = lobbyCodeSegment(path);
  return segment ? parseLobbyCode(segment.raw) : null;
}

function badCode(res: ServerResponse, path: string): void {
  sendError(res, 400, "bad_code", badCodeMessage(lobbyCodeSegment(path)?.raw ?? ""));
}

function badCodeMessage(raw: string): string {
  return `${JSON.stringify(raw.slice(0, 40))} is not a lobby code (6 characters from 23456789ABCDEFGHJKMNPQRSTUVWXYZ)`;
}
