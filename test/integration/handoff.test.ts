import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GameTraffic } from "../../infra/ops/game-traffic.js";
import { RingsideApi } from "../../shared/client/index.js";
import { DEV_ADMIN_TOKEN } from "../../shared/config.js";
import { listNodes } from "../../shared/db/membership.js";
import { ringOfActiveNodes } from "../../shared/ring.js";
import type { TestCluster } from "../helpers/cluster.js";
import { expectAckedActionsDurable, startClusterUnderPlay } from "../helpers/play.js";
import { openRaw } from "../helpers/raw-socket.js";
import { eventually } from "../helpers/wait.js";

/**
 * Graceful handoff under load: a node joins and takes no live lobby until an
 * operator asks for a rebalance; then the lobbies whose ring owner it is move
 * to it. Then a node is drained: its lobbies move, it exits. Players keep
 * playing through both; nothing acked is lost, duplicated or reordered.
 */
describe("rebalance and drain hand lobbies off gracefully", () => {
  let cluster: TestCluster;
  let traffic: GameTraffic;
  let stop: () => Promise<void>;

  const admin = (path: string) =>
    fetch(`${cluster.balancers[0]?.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` },
    });
  const owners = async () => {
    const { rows } = await cluster.db.pool.query<{ code: string; owner: string }>(
      "SELECT code, owner_node AS owner FROM lobbies WHERE code = ANY($1::text[])",
      [traffic.lobbies.map((l) => l.code)],
    );
    return new Map(rows.map((r) => [r.code, r.owner]));
  };

  beforeAll(async () => {
    ({ cluster, traffic, stop } = await startClusterUnderPlay({
      label: "handoff",
      nodes: 2,
      lobbies: 24,
      pauseMs: [15, 40],
    }));
  }, 90_000);

  afterAll(async () => {
    await stop?.();
  });

  it("moves nothing when a node joins, and its ring share on rebalance", async () => {
    await eventually(() => traffic.ackCount >= 200, { what: "200 acks" });
    const before = await owners();
    await cluster.addNode("n3");
    await cluster.awaitRing(["n1", "n2", "n3"]);
    expect(await owners()).toEqual(before);

    const ring = ringOfActiveNodes(await listNodes(cluster.db.pool));
    const toN3 = traffic.lobbies.filter((l) => ring.owner(l.code) === "n3");
    expect(toN3.length).toBeGreaterThan(0);
    expect((await admin("/admin/rebalance")).status).toBe(202);

    await eventually(
      async () => {
        const now = await owners();
        return traffic.lobbies.every((l) => now.get(l.code) === ring.owner(l.code));
      },
      { what: "every lobby owned by its ring owner" },
    );
    const movedAt = Date.now();
    await eventually(
      () =>
        toN3.every((l) =>
          l.players.every((p) => p.welcomes.at(-1)?.node === "n3" && (p.acked.at(-1)?.ackedAt ?? 0) > movedAt),
        ),
      { what: "the moved lobbies' players acting on n3" },
    );
  });

  it("drains a node: its lobbies move, it exits, play goes on", async () => {
    const n1 = cluster.nodes.find((n) => n.env.NODE_ID === "n1");
    // A spectator without the SDK in one of n1's lobbies: what does the wire tell it when the lobby moves?
    const onN1 = [...(await owners())].find(([, owner]) => owner === "n1")?.[0] as string;
    const { token } = await new RingsideApi(cluster.balancers[0]?.url as string).joinLobby(onN1, "watcher");
    const watcher = await openRaw(`${cluster.balancers[0]?.wsUrl}/ws/${onN1}?token=${token}`);
    expect((await admin("/admin/nodes/n1/drain")).status).toBe(202);
    // A reconnect hint, then the 1012 close: the hint lets a client come back without waiting out the close handshake.
    expect(await watcher.closed).toBe(1012);
    expect(watcher.frames.at(-1)).toMatchObject({
      type: "reconnect",
      reason: expect.stringMatching(/handed off to n[23]/),
    });
    expect(await n1?.exited).toBe(0);
    const drainedAt = Date.now();
    await eventually(async () => [...(await owners()).values()].every((owner) => owner !== "n1"), {
      what: "no lobby left on n1",
    });
    await eventually(
      () =>
        traffic.players.every((p) => p.welcomes.at(-1)?.node !== "n1" && (p.acked.at(-1)?.ackedAt ?? 0) > drainedAt),
      { what: "every player acting on n2 or n3" },
    );
    await traffic.stop();
    await expectAckedActionsDurable(traffic, cluster.db.pool);
    for (const p of traffic.players) expect(p.failed).toBe(0);
    const { rows } = await cluster.db.pool.query<{ pause: number }>(
      "SELECT (detail->>'pauseMs')::int AS pause FROM cluster_history WHERE kind = 'handoff'",
    );
    expect(rows.length).toBeGreaterThan(0);
    const pauses = rows.map((r) => r.pause).sort((a, b) => a - b);
    console.info(
      `[handoff] ${pauses.length} handoffs; actions paused per lobby: p50 ${pauses[Math.floor(pauses.length / 2)]} ms, max ${pauses.at(-1)} ms`,
    );
  });
});
