import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { lobbyCodeSegment } from "../../shared/lobby-code.js";

/**
 * Stand-in nodes for balancer tests: node:http + ws on port 0, registered in
 * `nodes` by hand, that say who they are, count what reaches them, and
 * misbehave on demand; plus one-connection HTTP and WebSocket helpers.
 */

export class FakeNode {
  requests = 0;
  /** Every HTTP request's path, in order of arrival. */
  readonly paths: string[] = [];
  /** Codes whose HTTP requests get no answer at all. */
  readonly hang = new Set<string>();
  /** Codes whose HTTP requests get their headers, then a byte every 100 ms until the client leaves. */
  readonly drip = new Set<string>();
  /** Codes whose HTTP requests get their connection reset (as a node's parser does to a head over its limit). */
  readonly reset = new Set<string>();
  readonly upgradeSockets = new Set<Socket>();
  /** code -> owner named in a 421 answer (HTTP and upgrades). */
  readonly misdirect = new Map<string, string | null>();
  upgradeStatus: number | null = null;
  upgradeDelayMs: () => number = () => 0;
  url = "";
  private readonly server = http.createServer((req, res) => this.onRequest(req, res));
  private readonly wss = new WebSocketServer({ noServer: true });

  constructor(readonly id: string) {
    this.wss.on("headers", (headers) => headers.push(`x-ringside-node: ${id}`));
    this.server.on("upgrade", (req, socket, head) => this.onUpgrade(req, socket as Socket, head));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    for (const socket of this.upgradeSockets) socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onRequest(req: IncomingMessage, res: http.ServerResponse): void {
    if (req.url === "/healthz") return void res.end("ok");
    this.requests++;
    this.paths.push(req.url ?? "");
    if (this.reset.has(lobbyCodeSegment(req.url ?? "")?.raw ?? "")) return void req.socket.resetAndDestroy();
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const code = lobbyCodeSegment(req.url ?? "")?.raw ?? "";
      if (this.misdirect.has(code))
        return this.reply(res, 421, { error: "not_owner", owner: this.misdirect.get(code) });
      if (this.hang.has(code)) return;
      if (this.drip.has(code)) return this.startDrip(res);
      const body = Buffer.concat(chunks).toString("utf8");
      this.reply(res, 200, { node: this.id, method: req.method, url: req.url, body, headers: req.headers });
    });
  }

  private reply(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json", "x-ringside-node": this.id });
    res.end(JSON.stringify(body));
  }

  private startDrip(res: http.ServerResponse): void {
    res.writeHead(200, { "content-type": "text/plain", "x-ringside-node": this.id });
    res.write(".");
    const timer = setInterval(() => res.write("."), 100);
    res.once("close", () => clearInterval(timer));
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    this.requests++;
    this.upgradeSockets.add(socket);
    socket.once("close", () => this.upgradeSockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const code = lobbyCodeSegment(req.url ?? "")?.raw ?? "";
    const refuse = (status: number, body: unknown) => {
      const json = JSON.stringify(body);
      socket.end(
        `HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\nx-ringside-node: ${this.id}\r\ncontent-length: ${json.length}\r\n\r\n${json}`,
      );
    };
    if (this.misdirect.has(code)) refuse(421, { error: "not_owner", owner: this.misdirect.get(code) });
    else if (this.upgradeStatus) refuse(this.upgradeStatus, { error: "not_found", message: "no such lobby" });
    else this.accept(req, socket, head);
  }

  private accept(req: IncomingMessage, socket: Socket, head: Buffer): void {
    setTimeout(() => {
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        ws.send(JSON.stringify({ type: "welcome", node: this.id }));
        ws.on("message", (data) => ws.send(data.toString()));
      });
    }, this.upgradeDelayMs());
  }
}

export type Reply = { status: number; headers: IncomingHttpHeaders; body: string; json: () => Record<string, unknown> };

/** One request on its own connection (no keep-alive), so socket counts come back to baseline. */
export function request(
  base: string,
  path: string,
  init: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(path, base),
      { method: init.method ?? "GET", headers: init.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
        });
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

export function wsConnect(
  base: string,
  path: string,
): Promise<{ ws: WebSocket; headers: IncomingHttpHeaders; first: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(new URL(path, base.replace("http", "ws")));
    let headers: IncomingHttpHeaders = {};
    ws.once("upgrade", (res) => {
      headers = res.headers;
    });
    ws.once("message", (data) => resolve({ ws, headers, first: JSON.parse(data.toString()) }));
    ws.once("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        reject(
          Object.assign(new Error(`status ${res.statusCode}`), {
            status: res.statusCode,
            body: Buffer.concat(chunks).toString(),
          }),
        ),
      );
    });
    ws.once("error", reject);
  });
}
