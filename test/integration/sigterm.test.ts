import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GameTraffic } from "../../infra/ops/game-traffic.js";
import type { TestCluster } from "../helpers/cluster.js";
import { createLobbyOn } from "../helpers/node-lobbies.js";
import { expectAckedActionsDurable, startClusterUnderPlay } from "../helpers/play.js";
import type { RingsideProcess } from "../helpers/processes.js";
import { eventually, within } from "../helpers/wait.js";

/**
 * Issue 10, item 3: SIGTERM on a node (what Kubernetes sends) hands every
 * lobby off and exits 0; when the handoffs cannot finish by the drain
 * deadline, the node releases what is left (recorded dead, so the survivors
 * claim at once rather than after its lease) and exits.
 */

async function ownedBy(cluster: TestCluster, node: string): Promise<string[]> {
  const { rows } = await cluster.db.pool.query<{ code: string }>("SELECT code FROM lobbies WHERE owner_node = $1", [
    node,
  ]);
  return rows.map((r) => r.code);
}

function victimOf(cluster: TestCluster, traffic: GameTraffic): RingsideProcess {
  const { node } = traffic.busiestNode();
  return cluster.nodes.find((n) => n.env.NODE_ID === node) as RingsideProcess;
}

describe("SIGTERM drains a node within its deadline", () => {
  let cluster: TestCluster;
  let traffic: GameTraffic;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ cluster, traffic, stop } = await startClusterUnderPlay({
      label: "sigterm",
      nodes: 3,
      lobbies: 12,
      pauseMs: [15, 40],
    }));
  }, 90_000);

  afterAll(async () => {
    await stop?.();
  });

  it("hands every lobby off, exits 0, and the survivors own everything", async () => {
    await eventually(() => traffic.ackCount >= 200, { what: "200 acks" });
    const victim = victimOf(cluster, traffic);
    const id = victim.env.NODE_ID as string;
    const owned = await ownedBy(cluster, id);
    expect(owned.length).toBeGreaterThan(0);
    const sent = Date.now();
    victim.kill("SIGTERM");
    expect(await within(victim.exited, "the node's exit after SIGTERM", 25_000)).toBe(0);
    const tookMs = Date.now() - sent;
    // Handed off before it exited, not claimed after: it owned nothing when it left.
    expect(await ownedBy(cluster, id)).toEqual([]);
    expect(victim.lines.some((l) => /"msg":"drained"/.test(l))).toBe(true);
    expect(victim.lines.some((l) => /drain deadline passed/.test(l))).toBe(false);
    const exitedAt = Date.now();
    await eventually(
      () => traffic.players.every((p) => p.welcomes.at(-1)?.node !== id && (p.acked.at(-1)?.ackedAt ?? 0) > exitedAt),
      { what: "every player acting on the survivors" },
    );
    // Moved by handoffs, none by a survivor claiming it after a death.
    const { rows } = await cluster.db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM cluster_history WHERE kind = 'lobby_claimed' AND code = ANY($1::text[])",
      [owned],
    );
    expect(rows[0]?.n).toBe(0);
    await traffic.stop();
    await expectAckedActionsDurable(traffic, cluster.db.pool);
    console.info(`[sigterm] ${id} drained and exited ${tookMs} ms after SIGTERM`);
  });
});

describe("SIGTERM past the drain deadline releases what is left", () => {
  const LEASE_MS = 20_000;
  let cluster: TestCluster;
  let traffic: GameTraffic;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ cluster, traffic, stop } = await startClusterUnderPlay({
      label: "sigterm_deadline",
      nodes: 2,
      lobbies: 6,
      pauseMs: [15, 40],
      // A lease far longer than the test: successors that waited for it would fail the test.
      env: {
        RINGSIDE_LEASE_MS: String(LEASE_MS),
        RINGSIDE_DRAIN_DEADLINE_MS: "1000",
        RINGSIDE_LOCK_TIMEOUT_MS: "30000",
      },
    }));
  }, 90_000);

  afterAll(async () => {
    await stop?.();
  });

  it("exits at the deadline, recorded dead, and the survivor claims the rest at once", async () => {
    await eventually(() => traffic.ackCount >= 100, { what: "100 acks" });
    const victim = victimOf(cluster, traffic);
    const id = victim.env.NODE_ID as string;
    // A lobby whose move hangs: the test holds its row, so the transfer waits for the lock.
    const stuck = await createLobbyOn(victim.url);
    const locker: pg.PoolClient = await cluster.db.pool.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("SELECT 1 FROM lobbies WHERE code = $1 FOR UPDATE", [stuck.code]);
      victim.kill("SIGTERM");
      expect(await within(victim.exited, "the node's exit at its drain deadline", 15_000)).toBe(0);
      expect(victim.lines.some((l) => /drain deadline passed/.test(l))).toBe(true);
      const { rows } = await cluster.db.pool.query<{ state: string }>("SELECT state FROM nodes WHERE id = $1", [id]);
      expect(rows[0]?.state).toBe("dead");
    } finally {
      await locker.query("ROLLBACK").catch(() => {});
      locker.release();
    }
    const releasedAt = Date.now();
    await eventually(async () => (await ownedBy(cluster, id)).length === 0, {
      timeoutMs: LEASE_MS / 2,
      what: `every lobby of ${id} claimed by the survivor before its lease could expire`,
    });
    const claimedMs = Date.now() - releasedAt;
    await eventually(
      () => traffic.players.every((p) => p.welcomes.at(-1)?.node !== id && (p.acked.at(-1)?.ackedAt ?? 0) > releasedAt),
      { timeoutMs: LEASE_MS / 2, what: "every player acting on the survivor" },
    );
    await traffic.stop();
    await expectAckedActionsDurable(traffic, cluster.db.pool);
    console.info(
      `[sigterm] past the deadline: every lobby claimed ${claimedMs} ms after release (lease ${LEASE_MS} ms)`,
    );
  });
});
