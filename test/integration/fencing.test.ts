import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GameTraffic } from "../../infra/ops/game-traffic.js";
import type { TestCluster } from "../helpers/cluster.js";
import { expectAckedActionsDurable, startClusterUnderPlay } from "../helpers/play.js";
import type { RingsideProcess } from "../helpers/processes.js";
import { eventually } from "../helpers/wait.js";

/**
 * Issue 4, fencing: a node paused past its lease (SIGSTOP) loses its lobbies
 * to other nodes; when it wakes up (SIGCONT) it must commit nothing for them
 * (every durable write names the epoch, which has moved on), fence itself,
 * and its clients must end up on the new owners.
 */

describe("a paused node that wakes up after its lobbies moved", () => {
  let cluster: TestCluster;
  let traffic: GameTraffic;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ cluster, traffic, stop } = await startClusterUnderPlay({
      label: "fencing",
      nodes: 3,
      lobbies: 12,
      pauseMs: [10, 30],
    }));
  }, 90_000);

  afterAll(async () => {
    await stop?.();
  });

  it("commits nothing for the moved lobbies and sends its clients to the new owners", async () => {
    await eventually(() => traffic.ackCount >= 200, { what: "200 acks" });
    const { node: victimId, lobbies: affected } = traffic.busiestNode();
    const victim = cluster.nodes.find((n) => n.env.NODE_ID === victimId) as RingsideProcess;
    const { rows: owned } = await cluster.db.pool.query<{ code: string; epoch: number }>(
      "SELECT code, epoch::int AS epoch FROM lobbies WHERE owner_node = $1",
      [victimId],
    );

    victim.kill("SIGSTOP");
    const stoppedAt = Date.now();
    await eventually(
      async () => {
        const { rows } = await cluster.db.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM lobbies WHERE owner_node = $1",
          [victimId],
        );
        return rows[0]?.n === 0;
      },
      { timeoutMs: 15_000, what: `every lobby of the paused ${victimId} claimed by another node` },
    );
    await eventually(
      () =>
        affected.every((l) =>
          l.players.every((p) => p.welcomes.at(-1)?.node !== victimId && p.acked.some((a) => a.ackedAt > stoppedAt)),
        ),
      { timeoutMs: 15_000, what: "the paused node's players acting on the new owners" },
    );
    const oldEpochEvents = await countEventsAtEpochs(owned);

    victim.kill("SIGCONT");
    await victim.waitForLine(/self-fencing/);
    const before = traffic.ackCount;
    await eventually(() => traffic.ackCount >= before + 200, { what: "200 more acks after the wake-up" });
    await traffic.stop();

    expect(await countEventsAtEpochs(owned)).toBe(oldEpochEvents);
    for (const l of affected) for (const p of l.players) expect(p.welcomes.at(-1)?.node).not.toBe(victimId);
    await expectAckedActionsDurable(traffic, cluster.db.pool);
  });

  async function countEventsAtEpochs(owned: { code: string; epoch: number }[]): Promise<number> {
    const { rows } = await cluster.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM lobby_events e
       JOIN unnest($1::text[], $2::bigint[]) AS o(code, epoch) ON e.code = o.code AND e.epoch = o.epoch`,
      [owned.map((o) => o.code), owned.map((o) => o.epoch)],
    );
    return rows[0]?.n ?? 0;
  }
});
