import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIdleLobbies } from "../../infra/ops/drill-idle.js";
import type { GameTraffic } from "../../infra/ops/game-traffic.js";
import { DEV_ADMIN_TOKEN } from "../../shared/config.js";
import type { TestCluster } from "../helpers/cluster.js";
import { expectAckedActionsDurable, startClusterUnderPlay } from "../helpers/play.js";
import type { RingsideProcess } from "../helpers/processes.js";
import { eventually, within } from "../helpers/wait.js";

/**
 * Issue 10 (drain at scale), small enough for CI: a node holding played
 * lobbies and many lobbies nobody is in is drained. The played lobbies are
 * handed off first (each with its own barrier, epoch + 1, 1012), then every
 * idle lobby is released in one statement and claimed lazily by its ring
 * owner; the drained node owns nothing afterwards and nothing acked is lost.
 */

const IDLE_LOBBIES = 300;

describe("drain with idle lobbies in the database", () => {
  let cluster: TestCluster;
  let traffic: GameTraffic;
  let stop: () => Promise<void>;
  let idle: string[] = [];

  const ownersOf = async (codes: string[]) => {
    const { rows } = await cluster.db.pool.query<{ code: string; owner: string | null }>(
      "SELECT code, owner_node AS owner FROM lobbies WHERE code = ANY($1::text[])",
      [codes],
    );
    return new Map(rows.map((r) => [r.code, r.owner]));
  };

  beforeAll(async () => {
    ({ cluster, traffic, stop } = await startClusterUnderPlay({
      label: "drain_idle",
      nodes: 3,
      lobbies: 9,
      pauseMs: [5, 20],
    }));
    // Created after the played ones and loaded on their ring owners (the idle-unload window is a minute).
    idle = await createIdleLobbies(cluster.balancers[0]?.url as string, IDLE_LOBBIES, { concurrency: 16 });
  }, 120_000);

  afterAll(async () => {
    await stop?.();
  });

  it("moves played lobbies first, releases the idle ones in one statement, owns nothing after, loses nothing", async () => {
    await eventually(() => traffic.ackCount >= 200, { what: "200 acks" });
    const { node: id, lobbies: played } = traffic.busiestNode();
    const victim = cluster.nodes.find((n) => n.env.NODE_ID === id) as RingsideProcess;
    const before = await ownersOf(idle);
    const idleOnVictim = idle.filter((code) => before.get(code) === id);
    expect(idleOnVictim.length).toBeGreaterThan(0);

    const res = await fetch(`${cluster.balancers[0]?.url}/admin/nodes/${id}/drain`, {
      method: "POST",
      headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(202);
    expect(await within(victim.exited, "the drained node's exit", 30_000)).toBe(0);
    const exitedAt = Date.now();

    const { rows: owned } = await cluster.db.pool.query("SELECT code FROM lobbies WHERE owner_node = $1", [id]);
    expect(owned).toEqual([]);
    const { rows: history } = await cluster.db.pool.query<{ kind: string; code: string | null; at: Date; n: number }>(
      `SELECT kind, code, at, coalesce((detail->>'released')::int, 0) AS n FROM cluster_history
       WHERE node_id = $1 AND kind IN ('handoff', 'idle_released') ORDER BY id`,
      [id],
    );
    const releases = history.filter((h) => h.kind === "idle_released");
    expect(releases).toHaveLength(1);
    const release = releases[0] as (typeof history)[number];
    // Every idle lobby it held went in that one statement (none handed off one by one).
    expect(release.n).toBe(idleOnVictim.length);
    const handedOff = new Set(history.filter((h) => h.kind === "handoff").map((h) => h.code));
    for (const lobby of played) expect(handedOff.has(lobby.code)).toBe(true);
    for (const code of idleOnVictim) expect(handedOff.has(code)).toBe(false);
    // Played first: every handoff was recorded before the release.
    expect(history.at(-1)?.kind).toBe("idle_released");

    // A released lobby is claimed lazily by its ring owner on its next request.
    const sample = idleOnVictim[0] as string;
    const look = await fetch(`${cluster.balancers[0]?.url}/api/lobbies/${sample}`);
    expect(look.status).toBe(200);
    expect(look.headers.get("x-ringside-node")).not.toBe(id);
    expect((await ownersOf([sample])).get(sample)).toBe(look.headers.get("x-ringside-node"));

    await eventually(
      () => traffic.players.every((p) => p.welcomes.at(-1)?.node !== id && (p.acked.at(-1)?.ackedAt ?? 0) > exitedAt),
      { what: "every player acting on the survivors" },
    );
    await traffic.stop();
    await expectAckedActionsDurable(traffic, cluster.db.pool);
    for (const p of traffic.players) expect(p.failed).toBe(0);
    console.info(
      `[drain-idle] ${id}: ${handedOff.size} played lobbies handed off, then ${release.n} idle lobbies released at once`,
    );
  });
});
