import http, { type ClientRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { createProxyServer } from "http-proxy-3";
import type { Logger } from "../shared/log.js";
import { isRefusal } from "./health-probe.js";
import { type BalancerMetrics, upstreamErrorKind } from "./metrics.js";
import { hopByHopNames, isHopByHop, NODE_HEADER, prepareHeaders, readMisdirected } from "./proxy-headers.js";
import { nodeUnavailable, sendError, sendJson } from "./replies.js";
import { BodyError, readBody } from "./request-body.js";
import type { RoutingTable, Target } from "./routing-table.js";

/**
 * HTTP requests to nodes, through http-proxy-3. The body is read first, so a
 * node's 421 (not the owner) can be answered by sending the same request,
 * body included, to the owner it names: once. Responses are relayed by hand
 * (selfHandleResponse) for that reason, and streamed, so the directory's
 * server-sent events flow through.
 */

/** lobby: one lobby's requests; create: a new lobby with a code chosen here; any: no lobby. */
export type HttpRoute = { kind: "lobby" | "create"; code: string } | { kind: "any" };

export const UPSTREAM_TIMEOUT_MS = 10_000;

type Exchange = {
  route: HttpRoute;
  body: Buffer;
  target: Target;
  attempt: number;
  /** One retry on a fresh connection when a pooled one turns out closed. */
  staleRetried: boolean;
  proxyReq: ClientRequest | null;
  timedOut: boolean;
};

export type ForwarderDeps = {
  table: RoutingTable;
  logger: Logger;
  metrics: BalancerMetrics;
  trustProxy: boolean;
  onRefused: (nodeId: string, err: unknown) => void;
  /** A 421 named a node not read from Postgres yet. */
  onUnknownNode: () => void;
};

export class HttpForwarder {
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 128, scheduling: "lifo" });
  private readonly proxy = createProxyServer({
    agent: this.agent,
    selfHandleResponse: true,
    proxyTimeout: UPSTREAM_TIMEOUT_MS,
    // x-forwarded-* are set once by forwardedHeaders: xfwd would append again on the retry.
    xfwd: false,
  });
  private readonly exchanges = new WeakMap<IncomingMessage, Exchange>();
  private readonly targets = new Map<string, URL>();

  constructor(private readonly deps: ForwarderDeps) {
    this.proxy.on("proxyReq", (proxyReq, req) => this.onProxyReq(proxyReq, req));
    this.proxy.on("proxyRes", (proxyRes, req, res) => this.onProxyRes(proxyRes, req, res));
    this.proxy.on("error", (err, req, res) => this.onError(err, req, res as ServerResponse));
    this.proxy.on("econnreset", () => {});
  }

  /** Sockets to nodes, in use or idle in the keep-alive pool. */
  openSockets(): number {
    let n = 0;
    for (const list of [...Object.values(this.agent.sockets), ...Object.values(this.agent.freeSockets)]) {
      n += list?.length ?? 0;
    }
    return n;
  }

  async forward(req: IncomingMessage, res: ServerResponse, route: HttpRoute): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (err) {
      const e = err instanceof BodyError ? err : new BodyError(400, "bad_request", String(err));
      // The rest of an unread body cannot be told from a next request: close the connection.
      sendError(res, e.status, e.code, e.message, { connection: "close" });
      return;
    }
    if (res.destroyed) return;
    const target = this.resolve(route);
    if (!target) {
      sendError(res, 503, "no_nodes", "no active node is available; retry shortly", { "retry-after": "1" });
      return;
    }
    prepareHeaders(req, this.deps.trustProxy);
    if (route.kind === "create") req.headers["x-ringside-code"] = route.code;
    const sized = body.length > 0 || (req.method !== "GET" && req.method !== "HEAD");
    if (sized) req.headers["content-length"] = String(body.length);
    const exchange: Exchange = {
      route,
      body,
      target,
      attempt: 1,
      staleRetried: false,
      proxyReq: null,
      timedOut: false,
    };
    this.exchanges.set(req, exchange);
    this.send(req, res, exchange);
  }

  close(): void {
    this.proxy.close();
    this.agent.destroy();
  }

  private resolve(route: HttpRoute): Target | null {
    return route.kind === "any" ? this.deps.table.anyActive() : this.deps.table.route(route.code);
  }

  private send(req: IncomingMessage, res: ServerResponse, exchange: Exchange): void {
    exchange.proxyReq = null;
    exchange.timedOut = false;
    const target = this.targetUrl(exchange.target.url);
    this.proxy.web(req, res, { target, buffer: bodyStream(exchange.body) }, (err) => this.onError(err, req, res));
  }

  /** Parsed once per node: http-proxy-3 would parse a string target on every request. */
  private targetUrl(url: string): URL {
    let parsed = this.targets.get(url);
    if (!parsed) {
      parsed = new URL(url);
      this.targets.set(url, parsed);
    }
    return parsed;
  }

  private onProxyReq(proxyReq: ClientRequest, req: IncomingMessage): void {
    const exchange = this.exchanges.get(req);
    if (!exchange) return;
    exchange.proxyReq = proxyReq;
    proxyReq.on("timeout", () => {
      exchange.timedOut = true;
    });
  }

  private onProxyRes(proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): void {
    const exchange = this.exchanges.get(req);
    if (!exchange || res.destroyed || res.headersSent) {
      proxyRes.resume();
      return;
    }
    // A node that breaks off mid-answer: the client must see a cut, not a truncated success.
    proxyRes.on("error", () => res.destroy());
    proxyRes.on("close", () => {
      if (!proxyRes.complete) res.destroy();
    });
    if (proxyRes.statusCode === 421 && exchange.route.kind !== "any") {
      void this.misdirected(proxyRes, req, res, exchange, exchange.route.code);
      return;
    }
    this.relay(proxyRes, res, exchange);
  }

  /** The node does not own the lobby: learn the owner it names, and send the request there, once. */
  private async misdirected(
    proxyRes: IncomingMessage,
    req: IncomingMessage,
    res: ServerResponse,
    exchange: Exchange,
    code: string,
  ): Promise<void> {
    const owner = await readMisdirected(proxyRes);
    if (res.destroyed) return;
    if (!this.deps.table.correct(code, owner)) this.deps.onUnknownNode();
    const next = this.deps.table.route(code);
    if (exchange.attempt > 1 || !next) {
      this.deps.logger.warn({ code, node: exchange.target.id, owner }, "lobby misdirected twice");
      sendError(res, 503, "owner_moving", `lobby ${code} is changing owner; retry shortly`, { "retry-after": "1" });
      return;
    }
    this.deps.metrics.retries.inc({ kind: "http" });
    exchange.attempt += 1;
    exchange.target = next;
    this.send(req, res, exchange);
  }

  private relay(proxyRes: IncomingMessage, res: ServerResponse, exchange: Exchange): void {
    const dropped = hopByHopNames(proxyRes.headers.connection);
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(proxyRes.headers)) {
      if (value !== undefined && !isHopByHop(name) && !dropped.has(name)) headers[name] = value;
    }
    headers[NODE_HEADER] ??= exchange.target.id;
    res.writeHead(proxyRes.statusCode ?? 502, proxyRes.statusMessage, headers);
    // A live feed (server-sent events) may stay quiet for long: only the wait for its headers is timed.
    if (String(proxyRes.headers["content-type"]).startsWith("text/event-stream")) {
      exchange.proxyReq?.setTimeout(0);
      res.flushHeaders();
    }
    proxyRes.pipe(res);
  }

  private onError(err: Error, req: IncomingMessage, res: ServerResponse): void {
    const exchange = this.exchanges.get(req);
    if (!exchange || res.destroyed || res.writableEnded) return;
    if (res.headersSent) {
      // The node failed mid-answer: the client must see a cut, not a truncated success.
      res.destroy();
      return;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ECONNRESET" && exchange.proxyReq?.reusedSocket && !exchange.staleRetried && !exchange.timedOut) {
      // A pooled connection the node had just closed: the request never reached it.
      exchange.staleRetried = true;
      this.send(req, res, exchange);
      return;
    }
    const kind = exchange.timedOut ? "timeout" : upstreamErrorKind(err);
    this.deps.metrics.upstreamErrors.inc({ kind });
    if (!exchange.timedOut && isRefusal(err)) this.deps.onRefused(exchange.target.id, err);
    this.deps.logger.warn({ node: exchange.target.id, err: err.message, kind }, "node unreachable");
    const { status, body, headers } = nodeUnavailable(kind === "timeout" ? "no answer in time" : kind);
    sendJson(res, status, body, headers);
  }
}

/** The buffered body as a fresh stream for each attempt (Readable.from would go through async iteration). */
function bodyStream(body: Buffer): Readable {
  const stream = new Readable({ read() {} });
  if (body.length > 0) stream.push(body);
  stream.push(null);
  return stream;
}
