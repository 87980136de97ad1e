import http, { type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type ForwarderDeps, fitsNode, UPSTREAM_TIMEOUT_MS } from "./forwarder-deps.js";
import { upstreamErrorKind } from "./metrics.js";
import { prepareHeaders, readLimited, readMisdirected } from "./proxy-headers.js";
import { nodeUnavailable, writeSocketError, writeSocketResponse } from "./replies.js";
import type { Target } from "./routing-table.js";
import { relayHeaders, upgradeHead } from "./upgrade-answers.js";

/**
 * WebSocket upgrades, forwarded by a small upgrade proxy of our own rather
 * than http-proxy-3's `proxy.ws()`. Read of its passes/ws-incoming.js
 * (1.23.3): a non-101 answer is written straight to the client socket, so a
 * 421 cannot be retried on the owner; a client that leaves before the node
 * answers does not abort the pending upgrade request, and a late 101 is then
 * piped into a dead socket (the node side stays open); error paths end()
 * sockets instead of destroying them, which leaves half-closed ones behind.
 * Here one object owns both sockets of an upgrade, and every way out of it
 * destroys both.
 */

const RESPONSE_BODY_LIMIT = 64 * 1024;
// After one side half-closes, the other gets this long to finish its close handshake.
const HALF_CLOSE_GRACE_MS = 10_000;

/** The same needs as the HTTP forwarder. */
export type WsForwarderDeps = ForwarderDeps;

export class WsForwarder {
  private readonly upgrades = new Set<Upgrade>();
  /** Connections to nodes: pending upgrade requests and tunnels. */
  nodeSockets = 0;
  private sourceTurn = 0;

  constructor(readonly deps: WsForwarderDeps) {}

  /**
   * Forwards one upgrade request for a lobby; the client socket is owned from
   * here on. `path` is what the node gets (the routed path); `onDone` runs
   * once, when both sockets are gone.
   */
  forward(
    req: IncomingMessage,
    client: Duplex,
    head: Buffer,
    route: { code: string; path: string },
    onDone: () => void = () => {},
  ): void {
    const upgrade = new Upgrade(this, req, client as Socket, head, route.code, route.path);
    this.upgrades.add(upgrade);
    upgrade.onDone = () => {
      this.upgrades.delete(upgrade);
      onDone();
    };
    upgrade.start();
  }

  /** The local address the next connection to a node leaves from (round robin), or undefined: the kernel picks. */
  nextSourceAddress(): string | undefined {
    const list = this.deps.sourceAddresses;
    if (!list || list.length === 0) return undefined;
    this.sourceTurn = (this.sourceTurn + 1) % list.length;
    return list[this.sourceTurn];
  }

  /** Upgrades in flight and open tunnels. */
  get openUpgrades(): number {
    return this.upgrades.size;
  }

  get openTunnels(): number {
    let n = 0;
    for (const u of this.upgrades) if (u.tunnelled) n++;
    return n;
  }

  closeAll(): void {
    for (const u of [...this.upgrades]) u.destroy();
  }

  /**
   * A node recorded dead may still hold tunnels open (paused, or cut off
   * without a FIN): its players would wait on a silent socket. Dropping them
   * makes the clients reconnect, and the new route leads to the new owner.
   */
  closeTunnelsTo(nodeId: string): number {
    let closed = 0;
    for (const u of [...this.upgrades]) {
      // A held upgrade has nothing open to the node: its verdict is what it waits for, to go elsewhere.
      if (u.targetId !== nodeId || u.held) continue;
      u.destroy();
      closed++;
    }
    return closed;
  }
}

class Upgrade {
  onDone: () => void = () => {};
  tunnelled = false;
  private done = false;
  private attempt = 0;
  /** Sent again once after a node refused the connection (it reached nobody). */
  private redispatched = false;
  /** Waiting for the verdict on the node that refused it: nothing open to that node. */
  held = false;
  private target: Target | null = null;
  private request: http.ClientRequest | null = null;
  private nodeSocket: Socket | null = null;

  constructor(
    private readonly owner: WsForwarder,
    private readonly req: IncomingMessage,
    private readonly client: Socket,
    private readonly head: Buffer,
    private readonly code: string,
    private readonly path: string,
  ) {}

  start(): void {
    const destroy = () => this.destroy();
    this.client.on("error", destroy).on("close", destroy);
    this.client.setNoDelay?.(true);
    prepareHeaders(this.req, this.owner.deps.trustProxy);
    this.req.headers.connection = "Upgrade";
    this.req.headers.upgrade = "websocket";
    if (!fitsNode(this.req, this.path, this.owner.deps)) {
      this.owner.deps.metrics.refusals.inc({ reason: "headers_too_large" });
      this.fail(431, "headers_too_large", "the request's headers are too large");
      return;
    }
    this.send(this.owner.deps.table.route(this.code));
  }

  get targetId(): string | null {
    return this.target?.id ?? null;
  }

  /** Every path ends here: both sockets and the pending request are destroyed, once. */
  destroy(): void {
    if (this.done) return;
    this.done = true;
    this.request?.destroy();
    this.nodeSocket?.destroy();
    this.client.destroy();
    this.onDone();
  }

  private send(target: Target | null): void {
    if (!target) {
      this.fail(503, "no_nodes", "no active node is available; retry shortly");
      return;
    }
    this.attempt += 1;
    this.target = target;
    const url = new URL(target.url);
    const request = http.request({
      host: url.hostname,
      port: url.port,
      method: "GET",
      path: this.path,
      headers: this.req.headers,
      agent: false,
      localAddress: this.owner.nextSourceAddress(),
      timeout: this.owner.deps.upstreamTimeoutMs ?? UPSTREAM_TIMEOUT_MS,
    });
    this.request = request;
    request.on("socket", (socket) => this.track(socket));
    request.on("timeout", () => request.destroy(Object.assign(new Error("no upgrade answer"), { code: "ETIMEDOUT" })));
    request.on("error", (err) => this.upstreamFailed(request, err));
    request.on("upgrade", (res, socket, nodeHead) => this.tunnel(request, res, socket as Socket, nodeHead));
    request.on("response", (res) => void this.answered(request, res));
    request.end();
  }

  private track(socket: Socket): void {
    const deps = this.owner;
    deps.nodeSockets += 1;
    socket.once("close", () => {
      deps.nodeSockets -= 1;
    });
    socket.setNoDelay(true);
  }

  private tunnel(request: http.ClientRequest, res: IncomingMessage, socket: Socket, nodeHead: Buffer): void {
    if (this.done || request !== this.request) {
      socket.destroy();
      return;
    }
    this.nodeSocket = socket;
    this.tunnelled = true;
    this.owner.deps.metrics.wsUpgrades.inc({ result: "tunnelled" });
    socket.setTimeout(0);
    const destroy = () => this.destroy();
    socket.on("error", destroy).on("close", destroy);
    const halfClosed = () => setTimeout(destroy, HALF_CLOSE_GRACE_MS).unref();
    socket.once("end", halfClosed);
    this.client.once("end", halfClosed);
    this.client.write(upgradeHead(res, this.target?.id ?? ""));
    if (nodeHead.length > 0) this.client.write(nodeHead);
    if (this.head.length > 0) socket.write(this.head);
    socket.pipe(this.client);
    this.client.pipe(socket);
  }

  /** The node answered without upgrading: 421 is retried once on the owner; anything else goes to the client. */
  private async answered(request: http.ClientRequest, res: IncomingMessage): Promise<void> {
    if (this.done || request !== this.request) {
      request.destroy();
      return;
    }
    if (res.statusCode === 421) {
      const named = await readMisdirected(res);
      request.destroy();
      if (this.done) return;
      if (!this.owner.deps.table.correct(this.code, named)) this.owner.deps.onUnknownNode();
      if (this.attempt > 1) {
        this.fail(503, "owner_moving", `lobby ${this.code} is changing owner; retry shortly`, { "retry-after": "1" });
        return;
      }
      this.owner.deps.metrics.retries.inc({ kind: "ws" });
      this.send(this.owner.deps.table.route(this.code));
      return;
    }
    const body = await readLimited(res, RESPONSE_BODY_LIMIT);
    request.destroy();
    if (this.done) return;
    if (body === null) {
      this.upstreamFailed(request, Object.assign(new Error("node broke off its answer"), { code: "EABORTED" }));
      return;
    }
    this.owner.deps.metrics.wsUpgrades.inc({ result: `refused_${res.statusCode ?? 0}` });
    writeSocketResponse(this.client, res.statusCode ?? 502, body, relayHeaders(res, this.target?.id ?? ""));
  }

  private upstreamFailed(request: http.ClientRequest, err: Error): void {
    if (this.done || request !== this.request) return;
    const kind = upstreamErrorKind(err);
    const target = this.target?.id ?? "";
    this.owner.deps.metrics.upstreamErrors.inc({ kind });
    // No verdict on the node from a client's request: the probe looks at once and decides.
    if (kind === "refused") this.owner.deps.nodeRefused(target, err);
    else if (kind === "reset") this.owner.deps.checkNode(target);
    if (kind === "refused" && !this.redispatched) {
      void this.redispatch(err);
      return;
    }
    this.owner.deps.logger.warn({ node: target, err: err.message, kind }, "node unreachable for upgrade");
    const { status, body, headers } = nodeUnavailable(kind);
    this.fail(status, body.error, body.message, headers);
  }

  /** The node refused the connection (nothing reached it): wait for the verdict on it, then send once more. */
  private async redispatch(err: Error): Promise<void> {
    this.redispatched = true;
    this.request = null;
    const { deps } = this.owner;
    this.held = true;
    const next = await deps.hold.wait(() => deps.table.route(this.code), this.target?.id ?? "");
    this.held = false;
    if (this.done) return;
    deps.metrics.refusedHolds.inc({ kind: "ws", result: next ? "sent_again" : "expired" });
    if (next) {
      // A 421 from the new owner may still be retried once.
      this.attempt = 0;
      this.send(next);
      return;
    }
    deps.logger.warn(
      { node: this.target?.id ?? "", err: err.message, kind: "refused" },
      "node unreachable for upgrade",
    );
    const { status, body, headers } = nodeUnavailable("refused");
    this.fail(status, body.error, body.message, headers);
  }

  private fail(status: number, error: string, message: string, headers: http.OutgoingHttpHeaders = {}): void {
    this.owner.deps.metrics.wsUpgrades.inc({ result: error });
    this.request?.destroy();
    writeSocketError(this.client, status, error, message, headers);
  }
}
