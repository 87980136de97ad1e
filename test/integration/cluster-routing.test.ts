import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { RingsideApi } from "../../shared/client/index.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";

/**
 * Issue 3: three nodes, two balancers, real processes. Lobbies created
 * through either balancer spread over the nodes; every HTTP request and every
 * WebSocket for a lobby, through either balancer, reaches the same node; a
 * fourth node moves no live lobby and takes a share of new ones.
 */

async function createLobbies(apis: RingsideApi[], count: number) {
  const created: { code: string; token: string; node: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const api = apis[next++ % apis.length] as RingsideApi;
      const lobby = await api.createLobby("host");
      const snapshot = await api.getLobby(lobby.code);
      created.push({ code: lobby.code, token: lobby.token, node: snapshot.node });
    }
  };
  await Promise.all(Array.from({ length: 12 }, worker));
  return created;
}

async function nodeOf(baseUrl: string, code: string): Promise<string | null> {
  const res = await fetch(`${baseUrl}/api/lobbies/${code}`);
  await res.arrayBuffer();
  return res.headers.get("x-ringside-node");
}

function welcomeNode(wsBase: string, code: string, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsBase}/ws/${code}?token=${encodeURIComponent(token)}`);
    ws.once("message", (data) => {
      const welcome = JSON.parse(data.toString()) as { type: string; node: string };
      ws.close();
      if (welcome.type === "welcome") resolve(welcome.node);
      else reject(new Error(`expected welcome, got ${data.toString()}`));
    });
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
}

describe("routing through two balancers to three nodes", () => {
  let cluster: TestCluster;
  let apis: RingsideApi[];
  let lobbies: { code: string; token: string; node: string }[];

  beforeAll(async () => {
    cluster = await startCluster({ label: "routing", nodes: 3, balancers: 2 });
    apis = cluster.balancers.map((b) => new RingsideApi(b.url));
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it("spreads 300 new lobbies over every node (20-46% each)", async () => {
    lobbies = await createLobbies(apis, 300);
    const counts = new Map<string, number>();
    for (const l of lobbies) counts.set(l.node, (counts.get(l.node) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(["n1", "n2", "n3"]);
    for (const [, n] of counts) {
      expect(n / 300).toBeGreaterThanOrEqual(0.2);
      expect(n / 300).toBeLessThanOrEqual(0.46);
    }
  });

  it("sends every HTTP request and WebSocket for a lobby to the same node through either balancer", async () => {
    for (const l of lobbies) {
      for (const b of cluster.balancers) expect(await nodeOf(b.url, l.code)).toBe(l.node);
    }
    for (const l of lobbies.slice(0, 60)) {
      for (const b of cluster.balancers) expect(await welcomeNode(b.wsUrl, l.code, l.token)).toBe(l.node);
    }
  });

  it("moves no live lobby when a fourth node joins, and gives it new lobbies", async () => {
    await cluster.addNode("n4");
    await cluster.awaitRing(["n1", "n2", "n3", "n4"]);
    for (const l of lobbies) {
      for (const b of cluster.balancers) expect(await nodeOf(b.url, l.code)).toBe(l.node);
    }
    const { rows } = await cluster.db.pool.query<{ moved: number }>(
      "SELECT count(*)::int AS moved FROM lobbies WHERE epoch <> 1 OR owner_node = 'n4'",
    );
    expect(rows[0]?.moved).toBe(0);
    const fresh = await createLobbies(apis, 100);
    const onNew = fresh.filter((l) => l.node === "n4").length;
    expect(onNew).toBeGreaterThanOrEqual(10);
    for (const l of fresh.slice(0, 30)) {
      for (const b of cluster.balancers) expect(await nodeOf(b.url, l.code)).toBe(l.node);
    }
  });
});
