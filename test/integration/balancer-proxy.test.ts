import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import http, { type IncomingMessage } from "node:http";
import net from "node:net";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createEventBus } from "../../shared/bus/index.js";
import { Topic } from "../../shared/bus/topics.js";
import { generateLobbyCode } from "../../shared/lobby-code.js";
import { Ring } from "../../shared/ring.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { FakeNode, request, wsConnect } from "../helpers/fake-node.js";

/**
 * The balancer as a child process, in front of fake nodes (node:http + ws on
 * port 0, registered in `nodes` by hand) that say who they are, count what
 * reaches them, and misbehave on demand. The balancer runs on the Postgres event bus.
 */

// A real secret, not development mode: this balancer runs as in production.
const ADMIN_TOKEN = "test-admin-token-0123456789-abcdefgh";
const LIVENESS = { timeout: 15_000, interval: 50 };

async function startBalancer(
  db: TestDatabase,
  env: Record<string, string> = {},
): Promise<{ proc: ChildProcess; url: string; stderr: string[] }> {
  const proc = spawn(process.execPath, ["--import", "tsx", "balancer/main.ts"], {
    env: {
      ...process.env,
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: db.url,
      RINGSIDE_SCHEMA: db.schema,
      RINGSIDE_BUS: "postgres",
      RINGSIDE_ADMIN_TOKEN: ADMIN_TOKEN,
      BALANCER_ID: "bal-test",
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stderr: string[] = [];
  proc.stderr?.on("data", (d: Buffer) => stderr.push(d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    proc.once("exit", (code) => reject(new Error(`balancer exited (${code}): ${stderr.join("")}`)));
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      if (line.includes('"msg":"listening"')) resolve(JSON.parse(line).url);
    });
  });
  return { proc, url, stderr };
}

async function metric(base: string, pattern: RegExp): Promise<number> {
  const text = (await request(base, "/metrics")).body;
  const match = pattern.exec(text);
  if (!match?.[1]) throw new Error(`metric ${pattern} not found`);
  return Number(match[1]);
}
const sockets = (side: string) => new RegExp(`ringside_balancer_open_sockets\\{side="${side}"[^}]*\\} (\\d+)`);

describe("balancer in front of fake nodes", () => {
  let db: TestDatabase;
  let balancer: { proc: ChildProcess; url: string; stderr: string[] };
  const nodes = ["fa", "fb", "fc"].map((id) => new FakeNode(id));
  const ring = new Ring(nodes.map((n) => ({ id: n.id, weight: 1 })));
  const byId = (id: string | null) => nodes.find((n) => n.id === id) as FakeNode;
  const totalRequests = () => nodes.reduce((sum, n) => sum + n.requests, 0);
  /** A fresh code whose ring owner is `id` (or any node). */
  const codeOn = (id?: string): string => {
    for (;;) {
      const code = generateLobbyCode();
      if (!id || ring.owner(code) === id) return code;
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase("balancer");
    for (const n of nodes) {
      await n.start();
      await db.pool.query(
        "INSERT INTO nodes (id, url, state, weight, lease_expires) VALUES ($1, $2, 'active', 1, now() + interval '1 hour')",
        [n.id, n.url],
      );
    }
    balancer = await startBalancer(db);
  });

  afterAll(async () => {
    if (balancer?.proc.exitCode === null) balancer.proc.kill("SIGKILL");
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
    await db?.cleanup();
  });

  it("is ready, and sends HTTP and WebSocket traffic for a code to its ring owner", async () => {
    expect((await request(balancer.url, "/readyz")).status).toBe(200);
    for (const n of nodes) {
      const code = codeOn(n.id);
      const res = await request(balancer.url, `/api/lobbies/${code}`);
      expect(res.status).toBe(200);
      expect(res.headers["x-ringside-node"]).toBe(n.id);
      expect(res.json().headers).toMatchObject({ "x-forwarded-for": "127.0.0.1", "x-forwarded-proto": "http" });
      const { ws, headers, first } = await wsConnect(balancer.url, `/ws/${code.toLowerCase()}?token=t`);
      expect(headers["x-ringside-node"]).toBe(n.id);
      expect(first).toEqual({ type: "welcome", node: n.id });
      const echoed = new Promise((resolve) => ws.once("message", (d) => resolve(d.toString())));
      ws.send("ping");
      expect(await echoed).toBe("ping");
      ws.close();
    }
  });

  it("creates lobbies on the ring owner of a code it picks, dropping client x-ringside-* headers", async () => {
    const res = await request(balancer.url, "/api/lobbies", {
      method: "POST",
      headers: { "content-type": "application/json", "x-ringside-code": "AAAAAA", "x-ringside-evil": "1" },
      body: JSON.stringify({ name: "ann" }),
    });
    const seen = res.json() as { node: string; body: string; headers: Record<string, string> };
    const code = seen.headers["x-ringside-code"] ?? "";
    expect(code).toMatch(/^[2-9A-Z]{6}$/);
    expect(code).not.toBe("AAAAAA");
    expect(seen.headers["x-ringside-evil"]).toBeUndefined();
    expect(seen.node).toBe(ring.owner(code));
    expect(seen.body).toBe('{"name":"ann"}');
  });

  it("follows an ownership exception recorded in Postgres", async () => {
    const code = codeOn("fa");
    await db.pool.query(
      "INSERT INTO lobbies (code, owner_node, game_id, game_version) VALUES ($1, 'fb', 'connect-four', 1)",
      [code],
    );
    await vi.waitFor(async () => {
      expect((await request(balancer.url, `/api/lobbies/${code}`)).headers["x-ringside-node"]).toBe("fb");
    }, LIVENESS);
    const { ws, first } = await wsConnect(balancer.url, `/ws/${code}`);
    ws.close();
    expect(first.node).toBe("fb");
  });

  it("applies ownership messages from the event bus (no row in Postgres to poll)", async () => {
    const bus = createEventBus({ kind: "postgres", databaseUrl: db.url, schema: db.schema });
    try {
      const code = codeOn("fa");
      await bus.publish(Topic.Ownership, { code, owner: "fc", epoch: 2 });
      await vi.waitFor(async () => {
        expect((await request(balancer.url, `/api/lobbies/${code}`)).headers["x-ringside-node"]).toBe("fc");
      }, LIVENESS);
    } finally {
      await bus.close();
    }
  });

  it("retries once on the owner a 421 names, body included, for HTTP and upgrades", async () => {
    const code = codeOn("fa");
    byId("fa").misdirect.set(code, "fc");
    const before = { fa: byId("fa").requests, fc: byId("fc").requests };
    const res = await request(balancer.url, `/api/lobbies/${code}/join`, { method: "POST", body: '{"name":"bo"}' });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ node: "fc", body: '{"name":"bo"}' });
    expect(byId("fa").requests - before.fa).toBe(1);
    expect(byId("fc").requests - before.fc).toBe(1);
    const wsCode = codeOn("fb");
    byId("fb").misdirect.set(wsCode, "fa");
    const { ws, first } = await wsConnect(balancer.url, `/ws/${wsCode}`);
    ws.close();
    expect(first.node).toBe("fa");
  });

  it("answers malformed codes with 400 without reaching a node", async () => {
    const before = totalRequests();
    for (const path of ["/api/lobbies/abc", "/api/lobbies/ABCDE0", "/api/lobbies/", "/ws/__proto__"]) {
      const res = await request(balancer.url, path);
      expect(res.status, path).toBe(400);
      expect(res.json().error).toBe("bad_code");
    }
    // A "%" that starts no escape is a malformed path, not a code.
    expect((await request(balancer.url, "/api/lobbies/%ZZ")).json().error).toBe("bad_path");
    for (const path of ["/ws/__proto__", "/ws/%ZZ", "/ws/ABCDEFG"]) {
      await expect(wsConnect(balancer.url, path)).rejects.toMatchObject({ status: 400 });
    }
    expect((await request(balancer.url, "/nothing")).json()).toMatchObject({ error: "not_found" });
    expect(totalRequests()).toBe(before);
  });

  it("passes a node's non-101 upgrade answer on, rejects 100 KiB bodies", async () => {
    byId("fc").upgradeStatus = 404;
    await expect(wsConnect(balancer.url, `/ws/${codeOn("fc")}`)).rejects.toMatchObject({
      status: 404,
      body: expect.stringContaining("no such lobby"),
    });
    byId("fc").upgradeStatus = null;
    const big = await request(balancer.url, `/api/lobbies/${codeOn()}/join`, {
      method: "POST",
      body: Buffer.alloc(100 * 1024, 97),
    });
    expect(big.status).toBe(413);
    expect(big.json().error).toBe("body_too_large");
  });

  it("serves the live directory itself: a snapshot from Postgres, then the bus's lobby events", async () => {
    const code = codeOn();
    await db.pool.query(
      `INSERT INTO lobbies (code, owner_node, host_name, is_public, game_id, game_version)
       VALUES ($1, 'fa', 'zed', true, 'connect-four', 1)`,
      [code],
    );
    const before = totalRequests();
    const bus = createEventBus({ kind: "postgres", databaseUrl: db.url, schema: db.schema });
    const stream = await new Promise<IncomingMessage>((resolve) => {
      http.get(
        new URL("/api/lobbies", balancer.url),
        { headers: { accept: "text/event-stream" }, agent: false },
        resolve,
      );
    });
    try {
      expect(stream.headers["content-type"]).toBe("text/event-stream");
      let text = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        text += chunk;
      });
      const seen = (pattern: RegExp) =>
        new Promise<void>((resolve) => {
          const check = () => (pattern.test(text) ? resolve() : stream.once("data", check));
          check();
        });
      await seen(/^event: snapshot\ndata: \{"lobbies":\[.*"code":"[A-Z0-9]{6}".*\]\}\n\n/);
      expect(text).toContain(`"code":"${code}"`);
      const summary = { code, status: "playing", players: 2, host: "zed", online: 2 };
      await bus.publish(Topic.Directory, summary);
      await seen(/event: lobby\n/);
      expect(text.slice(text.indexOf("event: lobby"))).toBe(`event: lobby\ndata: ${JSON.stringify(summary)}\n\n`);
      expect(totalRequests()).toBe(before);
    } finally {
      stream.destroy();
      await bus.close();
    }
  });

  it("guards /admin with the bearer token", async () => {
    expect((await request(balancer.url, "/admin/ring")).status).toBe(401);
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    expect((await request(balancer.url, "/admin/ring", { headers: { authorization: "Bearer wrong" } })).status).toBe(
      401,
    );
    const ringView = await request(balancer.url, "/admin/ring", { headers: auth });
    expect(ringView.status).toBe(200);
    expect(ringView.json()).toMatchObject({
      balancer: "bal-test",
      members: expect.arrayContaining([{ id: "fa", weight: 1 }]),
    });
    const svg = await request(balancer.url, "/admin/ring?format=svg", { headers: auth });
    expect(svg.headers["content-type"]).toContain("image/svg+xml");
    const bad = await request(balancer.url, "/admin/nodes/fa/weight", { method: "PUT", headers: auth, body: "{nope" });
    expect(bad.json()).toMatchObject({ error: "bad_json" });
    const wrongType = await request(balancer.url, "/admin/nodes/fa/weight", {
      method: "PUT",
      headers: auth,
      body: '{"weight":"2"}',
    });
    expect(wrongType.status).toBe(400);
  });

  it("survives 1,000 upgrades aborted at random points and leaks no socket", async () => {
    const fc = byId("fc");
    fc.upgradeDelayMs = () => Math.random() * 20;
    const port = Number(new URL(balancer.url).port);
    const pid = balancer.proc.pid as number;
    const fds = () => readdirSync(`/proc/${pid}/fd`).length;
    const baselineFds = fds();
    const abortOne = (i: number) =>
      new Promise<void>((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        const head = `GET /ws/${codeOn("fc")} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
        const kill = () => (i % 2 ? socket.resetAndDestroy() : socket.destroy());
        socket.on("error", () => {});
        socket.on("close", () => resolve());
        socket.on("connect", () => {
          if (i % 3 === 0) {
            socket.write(head.slice(0, 1 + Math.floor(Math.random() * (head.length - 2))));
            setTimeout(kill, Math.random() * 5);
          } else if (i % 3 === 1) {
            socket.write(head);
            setTimeout(kill, Math.random() * 20);
          } else {
            socket.write(head);
            socket.once("data", kill);
          }
        });
      });
    for (let i = 0; i < 1000; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => abortOne(i + j)));
    expect((await request(balancer.url, "/healthz")).status).toBe(200);
    await vi.waitFor(async () => {
      expect(await metric(balancer.url, sockets("node_ws"))).toBe(0);
      expect(await metric(balancer.url, /ringside_balancer_ws_tunnels_open\{[^}]*\} (\d+)/)).toBe(0);
      expect(await metric(balancer.url, sockets("client"))).toBe(1); // the scrape itself
      expect(fc.upgradeSockets.size).toBe(0);
      expect(fds()).toBeLessThanOrEqual(baselineFds);
    }, LIVENESS);
    fc.upgradeDelayMs = () => 0;
  });

  it("gives every proxied request a deadline, the wait for a pooled socket included: 503 queued, 504 sent", async () => {
    // A second balancer with two pooled sockets per node and a 800 ms deadline.
    const small = await startBalancer(db, {
      BALANCER_ID: "bal-small",
      RINGSIDE_NODE_SOCKETS: "2",
      RINGSIDE_UPSTREAM_TIMEOUT_MS: "800",
    });
    const fa = byId("fa");
    const held: http.ClientRequest[] = [];
    try {
      // Two answers that stream on and on hold both of the pool's sockets to fa.
      for (const code of [codeOn("fa"), codeOn("fa")]) {
        fa.drip.add(code);
        await new Promise<void>((resolve) => {
          const req = http.get(new URL(`/api/lobbies/${code}`, small.url), { agent: false }, (res) => {
            res.once("data", () => resolve());
          });
          held.push(req);
        });
      }
      const queued = codeOn("fa");
      const started = Date.now();
      const busy = await request(small.url, `/api/lobbies/${queued}/join`, { method: "POST", body: '{"name":"q"}' });
      expect(busy.status).toBe(503);
      expect(busy.headers["retry-after"]).toBe("1");
      expect(busy.json().error).toBe("node_busy");
      expect(Date.now() - started).toBeGreaterThanOrEqual(700);
      for (const req of held) req.destroy();
      // The request answered 503 is never sent later, when a socket frees up.
      const next = await request(small.url, `/api/lobbies/${queued}`);
      expect(next.status).toBe(200);
      expect(fa.paths.filter((p) => p.includes(queued))).toEqual([`/api/lobbies/${queued}`]);

      const silent = codeOn("fb");
      byId("fb").hang.add(silent);
      const timedOut = await request(small.url, `/api/lobbies/${silent}`);
      expect(timedOut.status).toBe(504);
      expect(timedOut.json().error).toBe("node_timeout");
      const { rows } = await db.pool.query("SELECT id FROM nodes WHERE state = 'dead'");
      expect(rows).toEqual([]);
    } finally {
      for (const req of held) req.destroy();
      small.proc.kill("SIGKILL");
    }
  });

  it("takes no reset of a client's request as evidence against a node: its probes decide", async () => {
    const code = codeOn("fb");
    byId("fb").reset.add(code);
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const answers = await Promise.all(Array.from({ length: 40 }, () => request(balancer.url, `/api/lobbies/${code}`)));
    expect(new Set(answers.map((a) => `${a.status} ${a.json().error}`))).toEqual(new Set(["503 node_unavailable"]));
    // The probe looked at once (node answers /healthz): not suspect, not dead, and still serving other lobbies.
    await vi.waitFor(async () => {
      const nodes = (await request(balancer.url, "/admin/nodes", { headers: auth })).json().nodes as {
        id: string;
        state: string;
        suspect: boolean;
        probeFailures: number;
      }[];
      expect(nodes.find((n) => n.id === "fb")).toMatchObject({ state: "active", suspect: false, probeFailures: 0 });
    }, LIVENESS);
    const { rows } = await db.pool.query("SELECT state FROM nodes WHERE id = 'fb'");
    expect(rows[0]?.state).toBe("active");
    expect((await request(balancer.url, `/api/lobbies/${codeOn("fb")}`)).headers["x-ringside-node"]).toBe("fb");
    byId("fb").reset.delete(code);
  });

  it("holds a request refused by a stopped node until it is recorded dead, then the new ring owner answers it", async () => {
    const code = codeOn("fc");
    await byId("fc").stop();
    const survivors = new Ring([
      { id: "fa", weight: 1 },
      { id: "fb", weight: 1 },
    ]);
    // Not a 503 to retry: the balancer waits for the verdict on fc (see refusal-hold.ts), then sends it on.
    const res = await request(balancer.url, `/api/lobbies/${code}`);
    expect(res.status).toBe(200);
    expect(res.headers["x-ringside-node"]).toBe(survivors.owner(code));
    const { rows } = await db.pool.query("SELECT state, dead_reason FROM nodes WHERE id = 'fc'");
    expect(rows[0]).toMatchObject({ state: "dead", dead_reason: expect.stringContaining("bal-test") });
    const metrics = (await request(balancer.url, "/metrics")).body;
    expect(metrics).toMatch(/ringside_balancer_refused_holds_total\{kind="http",result="sent_again"[^}]*\} [1-9]/);
    expect(balancer.proc.exitCode).toBeNull();
  });

  it("stops on SIGTERM with exit code 0", async () => {
    const exited = new Promise((resolve) => balancer.proc.once("exit", (code) => resolve(code)));
    balancer.proc.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
