import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RingsideApi, RingsideHttpError } from "../../shared/client/index.js";

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };
type Received = { method: string; url: string; body: string };

/** Answers each request with the next scripted reply for its "METHOD /path" (the last one repeats). */
class ScriptedServer {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, Reply[]>();
  private readonly http: Server = createServer((request, response) => void this.answer(request, response));

  static async start(): Promise<ScriptedServer> {
    const server = new ScriptedServer();
    server.http.listen(0, "127.0.0.1");
    await once(server.http, "listening");
    return server;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  script(route: string, ...replies: Reply[]): void {
    this.scripts.set(route, replies);
  }

  calls(route: string): Received[] {
    return this.received.filter(({ method, url }) => `${method} ${url}` === route);
  }

  close(): Promise<void> {
    this.http.closeAllConnections();
    return new Promise((resolve) => this.http.close(() => resolve()));
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body = "";
    for await (const chunk of request) body += String(chunk);
    const route = `${request.method} ${request.url}`;
    this.received.push({ method: request.method ?? "", url: request.url ?? "", body });
    const replies = this.scripts.get(route) ?? [];
    const reply = (replies.length > 1 ? replies.shift() : replies[0]) ?? { status: 500, body: { error: "unscripted" } };
    response.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
    response.end(reply.body === undefined ? "" : JSON.stringify(reply.body));
  }
}

let server: ScriptedServer;
let api: RingsideApi;

beforeEach(async () => {
  server = await ScriptedServer.start();
  api = new RingsideApi(server.baseUrl, { retry: { attempts: 3, initialMs: 1, maxMs: 5 } });
});

afterEach(() => server.close());

const unavailable: Reply = {
  status: 503,
  body: { error: "unavailable", message: "no live node" },
  headers: { "retry-after": "0" },
};

describe("RingsideApi", () => {
  it("creates a lobby, posting the name as JSON", async () => {
    const created = { code: "ABCDEF", playerId: "p1", token: "tok" };
    server.script("POST /api/lobbies", { status: 201, body: created, headers: { "x-ringside-node": "node-1" } });
    await expect(api.createLobby("Ann")).resolves.toEqual(created);
    expect(JSON.parse(server.calls("POST /api/lobbies")[0]?.body ?? "")).toEqual({ name: "Ann" });
  });

  it("rejects a 404 with RingsideHttpError carrying status, body and node", async () => {
    const body = { error: "not_found", message: "unknown lobby ZZZZZZ" };
    server.script("GET /api/lobbies/ZZZZZZ", { status: 404, body, headers: { "x-ringside-node": "node-2" } });
    const error = await api.getLobby("ZZZZZZ").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RingsideHttpError);
    expect(error).toMatchObject({ status: 404, body, node: "node-2" });
    expect((error as Error).message).toMatch(/unknown lobby ZZZZZZ/);
    expect(server.calls("GET /api/lobbies/ZZZZZZ")).toHaveLength(1);
  });

  it("retries a GET on 503 until it succeeds", async () => {
    const stats = { nodes: 3, lobbies: 2, players: 4 };
    server.script("GET /api/stats", unavailable, unavailable, { status: 200, body: stats });
    await expect(api.stats()).resolves.toEqual(stats);
    expect(server.calls("GET /api/stats")).toHaveLength(3);
  });

  it("retries a POST on 503 (it never reached a node) with the same body", async () => {
    server.script("POST /api/lobbies/ABCDEF/join", unavailable, { status: 200, body: { playerId: "p2", token: "t2" } });
    await expect(api.joinLobby("ABCDEF", "Bob")).resolves.toEqual({ playerId: "p2", token: "t2" });
    const calls = server.calls("POST /api/lobbies/ABCDEF/join");
    expect(calls.map(({ body }) => JSON.parse(body))).toEqual([{ name: "Bob" }, { name: "Bob" }]);
  });

  it("does not retry a POST on 500, and gives up on a GET after the configured attempts", async () => {
    server.script("POST /api/lobbies", { status: 500, body: { error: "internal", message: "boom" } });
    await expect(api.createLobby("Ann")).rejects.toMatchObject({ status: 500 });
    expect(server.calls("POST /api/lobbies")).toHaveLength(1);

    server.script("GET /api/lobbies", unavailable);
    await expect(api.listLobbies()).rejects.toMatchObject({ status: 503, body: { error: "unavailable" } });
    expect(server.calls("GET /api/lobbies")).toHaveLength(3);
  });
});
