import http from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { RingsideApi } from "../../shared/client/index.js";
import { DEV_ADMIN_TOKEN } from "../../shared/config.js";
import { generateLobbyCode } from "../../shared/lobby-code.js";
import { Ring } from "../../shared/ring.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
import { within } from "../helpers/wait.js";

/**
 * Hostile clients against real processes (two nodes, one balancer with small
 * limits): path tricks sent as raw bytes, heads just under the balancer's
 * limit, floods of creates and WebSockets from one address, admin token
 * guessing. Each gets a clear 4xx, reaches no node-only route, moves no
 * lobby, and never gets a node declared dead; other addresses are served.
 */

const LIMITS = {
  RINGSIDE_CREATE_BURST: "5",
  RINGSIDE_CREATE_PER_SECOND: "0.01",
  RINGSIDE_JOIN_BURST: "10",
  RINGSIDE_JOIN_PER_SECOND: "0.01",
  RINGSIDE_WS_PER_IP: "4",
  RINGSIDE_ADMIN_FAILURES_BURST: "3",
  RINGSIDE_ADMIN_FAILURES_PER_SECOND: "0.01",
  METRICS_PORT: "0",
};

type RawReply = { status: number; headers: Record<string, string>; body: string; raw: string };

/** One request written byte for byte on a fresh socket (no URL parser in between), read to the close. */
function raw(port: number, head: string, localAddress = "127.0.0.1"): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", localAddress }, () => socket.write(head));
    const chunks: Buffer[] = [];
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const [top = "", body = ""] = text.split("\r\n\r\n", 2);
      const [statusLine = "", ...lines] = top.split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(" ")[1] ?? 0), headers, body, raw: text });
    });
  });
}

const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}Connection: close\r\n\r\n`;

function post(base: string, path: string, body: unknown, localAddress: string, headers: http.OutgoingHttpHeaders = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; json: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = http.request(
        new URL(path, base),
        { method: "POST", localAddress, agent: false, headers: { "content-type": "application/json", ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              json: JSON.parse(Buffer.concat(chunks).toString() || "{}"),
            }),
          );
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify(body));
    },
  );
}

function openSocket(url: string, localAddress: string): Promise<{ ws: WebSocket; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress });
    ws.once("message", () => resolve({ ws, status: 101, body: "" }));
    ws.once("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ ws, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    ws.once("error", reject);
  });
}

describe("hostile clients at the balancer", () => {
  let cluster: TestCluster;
  let base: string;
  let port: number;
  let metricsUrl: string;
  let api: RingsideApi;
  const admin = { authorization: `Bearer ${DEV_ADMIN_TOKEN}` };

  beforeAll(async () => {
    cluster = await startCluster({ label: "abuse", nodes: 2, balancers: 1, env: LIMITS });
    const balancer = cluster.balancers[0];
    if (!balancer) throw new Error("no balancer");
    base = balancer.url;
    port = balancer.port;
    const line = balancer.lines.find((l) => l.includes('"msg":"listening"')) ?? "{}";
    metricsUrl = (JSON.parse(line) as { metricsUrl: string }).metricsUrl;
    api = new RingsideApi(base);
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  const lobbyRows = async () =>
    (await cluster.db.pool.query("SELECT code, owner_node, epoch FROM lobbies ORDER BY code")).rows as unknown[];
  const exceptions = async () => {
    const res = await fetch(`${base}/admin/ring`, { headers: admin });
    return ((await res.json()) as { exceptions: unknown[] }).exceptions;
  };
  const deaths = async () =>
    (await cluster.db.pool.query("SELECT id FROM nodes WHERE state <> 'active'")).rows.length +
    (await cluster.db.pool.query("SELECT 1 FROM cluster_history WHERE kind = 'node_dead'")).rows.length;

  it("answers path tricks sent as raw bytes itself: no node-only route, no lobby moved", async () => {
    const a = await api.createLobby("ann");
    const b = await api.createLobby("bea");
    const ring = new Ring(cluster.nodes.map((n) => ({ id: n.env.NODE_ID as string, weight: 1 })));
    // A code whose ring owner is not b's: the old way to plant an exception for it was a node's 421 about b.
    let other = generateLobbyCode();
    while (ring.owner(other) === ring.owner(b.code)) other = generateLobbyCode();
    const rowsBefore = await lobbyRows();
    const tricks = [
      get("/api/x/../../metrics"),
      get("/api/x/%2e%2e/%2e%2e/metrics"),
      get("/api/x/%2E%2E/%2E%2E/metrics"),
      get("/api/x/.%2e/.%2E/metrics"),
      get(`/api/lobbies/${a.code}/../../../metrics`),
      get(`/api/lobbies/${a.code}/..%2f..%2f..%2fmetrics`),
      get(`/api/lobbies/${a.code}%2F..%2F..%2F..%2Fmetrics`),
      get(`/api/lobbies/${other}/../${b.code}`),
      get(`/api/lobbies/${other}/..%2F${b.code}`),
      `POST /api/lobbies/${other}/..%2fjoin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{"name":"m"}`,
      get(`/api/LOBBIES/${b.code}`),
      get(`/API/lobbies/${b.code}`),
      get(`/api/lobbies/${b.code}/`),
      get("/api/lobbies/"),
      get("/api\\..\\metrics"),
      get("//metrics"),
      get("/api//lobbies"),
      get("/healthz/../metrics"),
      get("/api/internal/lobbies"),
      get("/internal/lobbies"),
      get("/api/metrics"),
      get("/api/healthz"),
      get("/metrics"),
      get("http://node/metrics"),
      get(
        `/ws/${b.code}/../../metrics`,
        "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
      ),
    ];
    for (const head of tricks) {
      const reply = await within(raw(port, head), head.split("\r\n")[0] ?? head);
      const line = head.split("\r\n")[0];
      expect([400, 404], line).toContain(reply.status);
      expect(reply.headers["content-type"], line).toContain("application/json");
      expect(JSON.parse(reply.body).error, line).toMatch(/^(bad_path|not_found|bad_code)$/);
      expect(reply.headers["x-ringside-node"], line).toBeUndefined();
      expect(reply.raw, line).not.toMatch(/# (HELP|TYPE)|process_cpu/);
    }
    // A tunnel to a node (CONNECT) is no route either: a JSON refusal, not a silently closed socket.
    const node1 = cluster.nodes[0]?.port as number;
    const connectHead = `CONNECT 127.0.0.1:${node1} HTTP/1.1\r\nHost: 127.0.0.1:${node1}\r\n\r\n`;
    const tunnel = await within(raw(port, connectHead), "CONNECT");
    expect(tunnel.status).toBe(405);
    expect(tunnel.headers["content-type"]).toContain("application/json");
    expect(JSON.parse(tunnel.body).error).toBe("method_not_allowed");
    expect(await exceptions()).toEqual([]);
    expect(await lobbyRows()).toEqual(rowsBefore);
    // Behind the balancer, the node's own router is strict and case-sensitive too.
    const node = cluster.nodes[0]?.port as number;
    for (const path of ["/API/stats", "/api/stats/", `/api/LOBBIES/${b.code}`]) {
      expect((await raw(node, get(path))).status, path).toBe(404);
    }
    // The balancer's own metrics are on their own listener.
    expect(await (await fetch(metricsUrl)).text()).toContain("ringside_balancer_refusals_total");
  });

  it("answers 431 to heads a node would refuse after forwarding headers, and no node is marked dead", async () => {
    // From an address of its own: 127.0.0.1's few creates are for the other tests.
    const created = await post(base, "/api/lobbies", { name: "dan" }, "127.0.0.9");
    const lobby = { code: created.json.code as string, token: created.json.token as string };
    // A curl-like request with a 16,250 to 16,310-byte header: under the balancer's own limit, over a
    // node's once x-forwarded-* are added (a node resets such a connection: it used to be a 503 and a suspect node).
    const paths = [`GET /api/lobbies/${lobby.code}`, "GET /api/stats", `GET /ws/${lobby.code}?token=${lobby.token}`];
    const upgrade =
      "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    const heads = Array.from({ length: 40 }, (_, i) => {
      const size = 16_250 + Math.floor((i * 60) / 39);
      const ws = i % 3 === 2;
      const connection = ws ? `${upgrade}Connection: Upgrade` : "Connection: close";
      const client = "User-Agent: curl/8.5.0\r\nAccept: */*";
      return `${paths[i % 3]} HTTP/1.1\r\nHost: x\r\n${client}\r\n${connection}\r\nX-Pad: ${"a".repeat(size)}\r\n\r\n`;
    });
    const replies = await within(Promise.all(heads.map((h) => raw(port, h))), "40 oversized heads");
    expect(replies.map((r) => r.status)).toEqual(heads.map(() => 431));
    // Most never passed the balancer's own parser's limit: the balancer judged them for the node.
    expect(replies.filter((r) => r.body.includes("headers_too_large")).length).toBeGreaterThan(10);
    // Probes keep running meanwhile: give them time to see anything there is to see.
    await new Promise((r) => setTimeout(r, 1000));
    const nodes = (await (await fetch(`${base}/admin/nodes`, { headers: admin })).json()) as {
      nodes: { state: string; suspect: boolean; probeFailures: number }[];
    };
    for (const n of nodes.nodes) expect(n).toMatchObject({ state: "active", suspect: false, probeFailures: 0 });
    expect(await deaths()).toBe(0);
    expect((await api.getLobby(lobby.code)).code).toBe(lobby.code);
  });

  it("rate-limits lobby creation per address: a flood from one gets 429s, another still creates", async () => {
    const flood = await Promise.all(
      Array.from({ length: 12 }, () => post(base, "/api/lobbies", { name: "flood" }, "127.0.0.2")),
    );
    const statuses = flood.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    const refused = flood.find((r) => r.status === 429);
    expect(refused?.json).toMatchObject({ error: "rate_limited", message: expect.stringContaining("retry") });
    expect(Number(refused?.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect((await post(base, "/api/lobbies", { name: "other" }, "127.0.0.5")).status).toBe(201);
    // Joins have their own bucket.
    const code = flood.find((r) => r.status === 201)?.json.code as string;
    expect((await post(base, `/api/lobbies/${code}/join`, { name: "j" }, "127.0.0.2")).status).toBe(200);
  });

  it("caps WebSockets per address: one over the cap is refused, another address connects", async () => {
    const host = await post(base, "/api/lobbies", { name: "wsh" }, "127.0.0.6");
    const code = host.json.code as string;
    const tokens = [host.json.token as string];
    for (let i = 0; i < 5; i++) {
      tokens.push((await post(base, `/api/lobbies/${code}/join`, { name: `p${i}` }, "127.0.0.6")).json.token as string);
    }
    const url = (token: string) => `${cluster.balancers[0]?.wsUrl}/ws/${code}?token=${token}`;
    const open: { ws: WebSocket; status: number }[] = [];
    for (const token of tokens.slice(0, 4)) open.push(await within(openSocket(url(token), "127.0.0.3"), "socket"));
    expect(open.map((s) => s.status)).toEqual([101, 101, 101, 101]);
    const over = await within(openSocket(url(tokens[4] as string), "127.0.0.3"), "fifth socket");
    expect(over.status).toBe(429);
    expect(JSON.parse(over.body)).toMatchObject({ error: "too_many_sockets" });
    const elsewhere = await within(openSocket(url(tokens[5] as string), "127.0.0.4"), "socket from another address");
    expect(elsewhere.status).toBe(101);
    // A closed socket gives its place back.
    const closed = new Promise((r) => open[0]?.ws.once("close", r));
    open[0]?.ws.close();
    await closed;
    const again = await within(
      (async () => {
        for (;;) {
          const s = await openSocket(url(tokens[4] as string), "127.0.0.3");
          if (s.status === 101) return s;
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
      "socket after one closed",
    );
    for (const s of [...open, elsewhere, again]) s.ws.close();
  });

  it("throttles failed admin logins per address, before looking at the token", async () => {
    const guess = (token: string, from: string) =>
      new Promise<number>((resolve, reject) => {
        http
          .get(
            new URL("/admin/nodes", base),
            { localAddress: from, agent: false, headers: { authorization: `Bearer ${token}` } },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          )
          .on("error", reject);
      });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await guess(`guess-${i}`, "127.0.0.7"));
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(await guess(DEV_ADMIN_TOKEN, "127.0.0.7")).toBe(429);
    expect(await guess(DEV_ADMIN_TOKEN, "127.0.0.1")).toBe(200);
    const metrics = await (await fetch(metricsUrl)).text();
    for (const reason of ["bad_path", "create_rate", "ws_per_ip", "admin_auth", "headers_too_large"]) {
      expect(metrics).toMatch(new RegExp(`ringside_balancer_refusals_total\\{reason="${reason}"[^}]*\\} [1-9]`));
    }
  });

  it("still serves, and no process died", async () => {
    for (const p of cluster.nodes.concat(cluster.balancers)) expect(p.running).toBe(true);
    expect((await (await fetch(`${base}/api/stats`)).json()) as object).toHaveProperty("nodes");
  });
});
