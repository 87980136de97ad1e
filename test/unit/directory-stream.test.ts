import { randomBytes } from "node:crypto";
import http, { type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DirectoryStream } from "../../balancer/directory-stream.js";
import { createBalancerMetrics } from "../../balancer/metrics.js";
import { ConnectionCaps } from "../../balancer/rate-limits.js";
import { MemoryBus } from "../../shared/bus/index.js";
import { Topic } from "../../shared/bus/topics.js";
import type { Queryable } from "../../shared/db/pool.js";
import { createLogger } from "../../shared/log.js";
import { within } from "../helpers/wait.js";

/**
 * The balancer's live directory on a real HTTP server, with the in-memory bus
 * and a stand-in database whose reads the test counts and holds back.
 */

const logger = createLogger("test", "silent");

type Harness = {
  url: string;
  bus: MemoryBus;
  reads: () => number;
  /** Resolves the held snapshot reads with these lobbies. */
  release: (lobbies: unknown[]) => void;
  resync: () => void;
  stream: DirectoryStream;
  close: () => Promise<void>;
};

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

async function harness(
  options: { perKey?: number; total?: number; maxBufferedBytes?: number; keepAliveMs?: number } = {},
) {
  const bus = new MemoryBus(`dir_${randomBytes(4).toString("hex")}`, logger);
  const resyncs: (() => void)[] = [];
  bus.onResync = (handler) => {
    resyncs.push(handler);
    return () => {};
  };
  let reads = 0;
  let pending: ((rows: unknown[]) => void)[] = [];
  const db = {
    query: () => {
      reads++;
      return new Promise((resolve) => pending.push((rows) => resolve({ rows })));
    },
  } as unknown as Queryable;
  const metrics = createBalancerMetrics("t", {
    ringSize: () => 0,
    exceptions: () => 0,
    clientSockets: () => 0,
    nodeHttpSockets: () => 0,
    nodeWsSockets: () => 0,
    wsTunnels: () => 0,
    directoryStreams: () => 0,
    limitedClients: () => ({}),
  });
  const stream = new DirectoryStream({
    db,
    bus,
    logger,
    metrics,
    caps: new ConnectionCaps({ perKey: options.perKey ?? 100, total: options.total ?? 100 }),
    maxBufferedBytes: options.maxBufferedBytes,
    keepAliveMs: options.keepAliveMs,
  });
  await stream.start();
  const server = http.createServer((req, res) => stream.serve(req, res, req.headers["x-key"] as string));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const h: Harness = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    bus,
    reads: () => reads,
    release: (lobbies) => {
      const waiting = pending;
      pending = [];
      for (const resolve of waiting) resolve(lobbies);
    },
    resync: () => {
      for (const r of resyncs) r();
    },
    stream,
    close: async () => {
      stream.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await bus.close();
    },
  };
  harnesses.push(h);
  return h;
}

type Client = { res: IncomingMessage; text: () => string; until: (pattern: RegExp) => Promise<void> };

function connect(url: string, key = "k"): Promise<Client> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers: { "x-key": key } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        const until = (pattern: RegExp) =>
          new Promise<void>((done) => {
            const check = () => (pattern.test(text) ? done() : res.once("data", check));
            check();
          });
        resolve({ res, text: () => text, until });
      })
      .on("error", reject);
  });
}

const snapshotOf = (lobbies: unknown[]) => `event: snapshot\ndata: ${JSON.stringify({ lobbies })}\n\n`;
const lobbyFrame = (message: unknown) => `event: lobby\ndata: ${JSON.stringify(message)}\n\n`;

describe("DirectoryStream", () => {
  it("serves many clients from one snapshot read, and replays what changed during the read", async () => {
    const h = await harness();
    const clients = await Promise.all(Array.from({ length: 50 }, () => connect(h.url)));
    expect(clients[0]?.res.headers["content-type"]).toBe("text/event-stream");
    expect(h.reads()).toBe(1);
    const during = { code: "K7MQ2X", status: "waiting", players: 1, host: "ann", online: 1 };
    await h.bus.publish(Topic.Directory, during);
    const lobbies = [{ code: "K7MQ2X", status: "waiting", host: "ann", players: 1, online: 0 }];
    h.release(lobbies);
    await within(Promise.all(clients.map((c) => c.until(/event: lobby/))), "snapshot and replay");
    for (const c of clients) expect(c.text()).toBe(snapshotOf(lobbies) + lobbyFrame(during));
    // A client arriving within the cache time gets the same snapshot and replay, with no new read.
    const late = await connect(h.url);
    await within(late.until(/event: lobby/), "late client");
    expect(late.text()).toBe(snapshotOf(lobbies) + lobbyFrame(during));
    expect(h.reads()).toBe(1);
    const after = { ...during, players: 2 };
    await h.bus.publish(Topic.Directory, after);
    await within(Promise.all([...clients, late].map((c) => c.until(/"players":2/))), "live event");
    expect(late.text().endsWith(lobbyFrame(after))).toBe(true);
  });

  it("sends every client a fresh snapshot after the bus resynced", async () => {
    const h = await harness();
    const clients = await Promise.all([connect(h.url), connect(h.url)]);
    h.release([]);
    await Promise.all(clients.map((c) => c.until(/event: snapshot/)));
    h.resync();
    expect(h.reads()).toBe(2);
    h.release([{ code: "ABCDEF" }]);
    await within(Promise.all(clients.map((c) => c.until(/ABCDEF/))), "resync snapshot");
    for (const c of clients) expect(c.text()).toBe(snapshotOf([]) + snapshotOf([{ code: "ABCDEF" }]));
  });

  it("caps streams per client and in total, and gives a place back when a stream closes", async () => {
    const h = await harness({ perKey: 2, total: 3 });
    const a1 = await connect(h.url, "a");
    await connect(h.url, "a");
    const third = await connect(h.url, "a");
    expect(third.res.statusCode).toBe(429);
    expect(third.res.headers["retry-after"]).toBe("5");
    await connect(h.url, "b");
    const full = await connect(h.url, "c");
    expect(full.res.statusCode).toBe(503);
    const closed = new Promise((resolve) => a1.res.once("close", resolve));
    a1.res.destroy();
    await closed;
    await within(
      (async () => {
        while ((await connect(h.url, "c")).res.statusCode !== 200) await new Promise((r) => setTimeout(r, 20));
      })(),
      "a place after a close",
    );
  });

  it("drops a client that does not read, and keeps the others; sends keep-alive comments", async () => {
    const h = await harness({ maxBufferedBytes: 64 * 1024, keepAliveMs: 50 });
    const slow = await connect(h.url);
    const fine = await connect(h.url);
    h.release([]);
    await Promise.all([slow.until(/snapshot/), fine.until(/snapshot/)]);
    await within(fine.until(/: keep-alive\n\n/), "keep-alive comment");
    // Paused, the client stops reading its socket: what is sent piles up in the kernel, then at the balancer.
    slow.res.pause();
    const big = "x".repeat(50_000);
    for (let i = 0; i < 2000 && h.stream.open === 2; i++) {
      await h.bus.publish(Topic.Directory, { code: "SLOWER", host: big, i });
      await new Promise((r) => setImmediate(r));
    }
    expect(h.stream.open).toBe(1);
    slow.res.destroy();
    await h.bus.publish(Topic.Directory, { code: "STILL1" });
    await within(fine.until(/STILL1/), "the other client still served");
  });
});
