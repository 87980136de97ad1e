import http, { type ClientRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { type ForwarderDeps, fitsNode, UPSTREAM_TIMEOUT_MS } from "./forwarder-deps.js";
import { upstreamErrorKind } from "./metrics.js";
import { hopByHopNames, isHopByHop, NODE_HEADER, prepareHeaders, readMisdirected } from "./proxy-headers.js";
import { nodeUnavailable, sendError, sendJson } from "./replies.js";
import { BodyError, readBody } from "./request-body.js";
import type { Target } from "./routing-table.js";

/**
 * HTTP requests to nodes: a plain http.request on a keep-alive pool
 * (http-proxy-3 cost 20-35% more balancer CPU per request: docs/benchmarks.md).
 * The body is read first, so a node's 421 (not the owner) can be answered by
 * sending the same request, body included, to the owner it names: once.
 * Answers are relayed by hand for that reason, and streamed.
 *
 * Every request has one deadline, from the moment it is handed to the pool
 * to the node's answer headers: a request still waiting for a pooled socket
 * then gets 503 (it never reached a node, so any client may retry it), one
 * the node did not answer 504. Either way the request to the node is
 * destroyed, so a request answered here is never sent later.
 */

/** lobby: one lobby's requests; create: a new lobby with a code chosen here; any: no lobby. `path` is what the node gets. */
export type HttpRoute = { kind: "lobby" | "create"; code: string; path: string } | { kind: "any"; path: string };

type Exchange = {
  route: HttpRoute;
  body: Buffer;
  target: Target;
  attempt: number;
  /** One retry on a fresh connection when a pooled one turns out closed. */
  staleRetried: boolean;
  /** Sent again once after a node refused the connection (it reached nobody). */
  redispatched: boolean;
  /** The request to the node of the current attempt (known once the body is piped into it). */
  proxyReq: ClientRequest | null;
  timedOut: boolean;
  deadline: NodeJS.Timeout | null;
};

export class HttpForwarder {
  readonly agent: http.Agent;
  private readonly exchanges = new WeakMap<IncomingMessage, Exchange>();
  private readonly targets = new Map<string, URL>();
  private readonly timeoutMs: number;

  constructor(private readonly deps: ForwarderDeps) {
    this.timeoutMs = deps.upstreamTimeoutMs ?? UPSTREAM_TIMEOUT_MS;
    const maxSockets = deps.nodeSockets ?? 512;
    this.agent = new http.Agent({
      keepAlive: true,
      // Idle pooled sockets: as many as may be busy at once, so a burst never has to open new ones.
      maxSockets,
      maxFreeSockets: Math.min(256, maxSockets),
      // The most recently used socket first: the others go idle and are closed, the pool stays small.
      scheduling: "lifo",
    });
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
    // The node would reset the connection on a head over its limit: answer what it would have meant.
    if (!fitsNode(req, route.path, this.deps)) {
      this.deps.metrics.refusals.inc({ reason: "headers_too_large" });
      sendError(res, 431, "headers_too_large", "the request's headers are too large", { connection: "close" });
      return;
    }
    // What the node gets is the path that was routed, not the client's string (see path-guard.ts).
    req.url = route.path;
    const exchange: Exchange = {
      route,
      body,
      target,
      attempt: 1,
      staleRetried: false,
      redispatched: false,
      proxyReq: null,
      timedOut: false,
      deadline: null,
    };
    this.exchanges.set(req, exchange);
    exchange.deadline = setTimeout(() => this.expire(res, exchange), this.timeoutMs);
    // A client that resets mid-request must not become an unhandled error (its answer is dropped by "close").
    req.on("error", ignore);
    res.once("close", () => {
      this.settle(exchange);
      // The client left before the whole answer was relayed: nothing more is wanted from the node.
      if (!res.writableFinished) exchange.proxyReq?.destroy();
    });
    this.send(req, res, exchange);
  }

  close(): void {
    this.agent.destroy();
  }

  private resolve(route: HttpRoute): Target | null {
    return route.kind === "any" ? this.deps.table.anyActive() : this.deps.table.route(route.code);
  }

  private send(req: IncomingMessage, res: ServerResponse, exchange: Exchange): void {
    exchange.timedOut = false;
    const target = this.targetUrl(exchange.target.url);
    let proxyReq: ClientRequest;
    try {
      proxyReq = http.request({
        hostname: target.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: target.port,
        method: req.method,
        path: req.url,
        // The client's Host is kept (as http-proxy did without changeOrigin); prepareHeaders cleaned the rest.
        headers: req.headers,
        agent: this.agent,
      });
    } catch (err) {
      exchange.proxyReq = null;
      this.onError(err as Error, req, res);
      return;
    }
    exchange.proxyReq = proxyReq;
    // Once the answer's headers are relayed, a node silent this long mid-body is cut off.
    proxyReq.setTimeout(this.timeoutMs, () => {
      exchange.timedOut = true;
      proxyReq.destroy();
    });
    // Events of an attempt that was replaced (stale-socket retry, 421 retry) concern nobody.
    proxyReq.on("response", (proxyRes) => {
      if (exchange.proxyReq === proxyReq) this.onProxyRes(proxyRes, req, res);
      else proxyRes.resume();
    });
    proxyReq.on("error", (err) => {
      if (exchange.proxyReq === proxyReq) this.onError(err, req, res);
    });
    proxyReq.end(exchange.body.length > 0 ? exchange.body : undefined);
  }

  /** The deadline passed before the node's answer: 503 if the request never left the pool, else 504. */
  private expire(res: ServerResponse, exchange: Exchange): void {
    exchange.deadline = null;
    if (res.headersSent || res.writableEnded || res.destroyed) return;
    const socket = exchange.proxyReq?.socket;
    const reached = socket != null && !socket.connecting;
    const kind = reached ? "timeout" : "busy";
    this.deps.metrics.upstreamErrors.inc({ kind });
    this.deps.logger.warn({ node: exchange.target.id, kind, ms: this.timeoutMs }, "no answer from node in time");
    if (reached) {
      sendError(res, 504, "node_timeout", `the lobby's node did not answer within ${this.timeoutMs} ms`);
    } else {
      const busy = `the lobby's node could not be reached within ${this.timeoutMs} ms (busy); retry shortly`;
      sendError(res, 503, "node_busy", busy, { "retry-after": "1" });
    }
    exchange.proxyReq?.destroy();
  }

  private settle(exchange: Exchange): void {
    if (exchange.deadline) clearTimeout(exchange.deadline);
    exchange.deadline = null;
  }

  /** Parsed once per node. */
  private targetUrl(url: string): URL {
    const parsed = this.targets.get(url) ?? new URL(url);
    this.targets.set(url, parsed);
    return parsed;
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
    if (res.writableEnded) return;
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
    this.settle(exchange);
    const dropped = hopByHopNames(proxyRes.headers.connection);
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(proxyRes.headers)) {
      if (value !== undefined && !isHopByHop(name) && !dropped.has(name)) headers[name] = value;
    }
    headers[NODE_HEADER] ??= exchange.target.id;
    res.writeHead(proxyRes.statusCode ?? 502, proxyRes.statusMessage, headers);
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
    // A client's request is no evidence of a node's death (it may be what broke the connection): the probe decides.
    if (kind === "refused") this.deps.nodeRefused(exchange.target.id, err);
    else if (kind === "reset") this.deps.checkNode(exchange.target.id);
    if (kind === "refused" && !exchange.redispatched) {
      void this.redispatch(req, res, exchange, err);
      return;
    }
    this.fail(res, exchange, err, kind);
  }

  /** The node refused the connection (nothing reached it): wait for the verdict on it, then send once more. */
  private async redispatch(req: IncomingMessage, res: ServerResponse, exchange: Exchange, err: Error): Promise<void> {
    exchange.redispatched = true;
    exchange.proxyReq = null;
    const next = await this.deps.hold.wait(() => this.resolve(exchange.route), exchange.target.id);
    if (res.destroyed || res.writableEnded) return;
    this.deps.metrics.refusedHolds.inc({ kind: "http", result: next ? "sent_again" : "expired" });
    if (!next) {
      this.fail(res, exchange, err, "refused");
      return;
    }
    exchange.target = next;
    this.send(req, res, exchange);
  }

  private fail(res: ServerResponse, exchange: Exchange, err: Error, kind: string): void {
    this.deps.logger.warn({ node: exchange.target.id, err: err.message, kind }, "node unreachable");
    const { status, body, headers } = nodeUnavailable(kind === "timeout" ? "no answer in time" : kind);
    sendJson(res, status, body, headers);
  }
}

function ignore(): void {}
