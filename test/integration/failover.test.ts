import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GameTraffic, type TrafficLobby } from "../../infra/ops/game-traffic.js";
import type { TestCluster } from "../helpers/cluster.js";
import { expectAckedActionsDurable, startClusterUnderPlay } from "../helpers/play.js";
import type { RingsideProcess } from "../helpers/processes.js";
import { eventually } from "../helpers/wait.js";

/**
 * Issue 4: 3 nodes, 30 lobbies with players acting continuously through the
 * balancer. SIGKILL the node that serves the most lobbies: every lobby is
 * served again (liveness bound 10 s) with nothing acked lost or duplicated,
 * order kept, and the dead node's presence rows gone. Then a second node.
 */

describe("failover after SIGKILL", () => {
  let cluster: TestCluster;
  let traffic: GameTraffic;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ cluster, traffic, stop } = await startClusterUnderPlay({
      label: "failover",
      nodes: 3,
      lobbies: 30,
      pauseMs: [10, 30],
    }));
  }, 90_000);

  afterAll(async () => {
    await stop?.();
  });

  async function killBusiest(): Promise<{ victim: RingsideProcess; affected: TrafficLobby[]; killedAt: number }> {
    const { node: busiest, lobbies: affected } = traffic.busiestNode();
    const victim = cluster.nodes.find((n) => n.env.NODE_ID === busiest) as RingsideProcess;
    const killedAt = Date.now();
    victim.kill("SIGKILL");
    await victim.exited;
    return { victim, affected, killedAt };
  }

  async function expectRecovered(victim: RingsideProcess, affected: TrafficLobby[], killedAt: number) {
    const id = victim.env.NODE_ID as string;
    await eventually(
      () =>
        affected.every((lobby) =>
          lobby.players.every(
            (p) => p.welcomes.at(-1)?.node !== id && p.acked.some((a) => a.sentAt > killedAt && a.ackedAt > killedAt),
          ),
        ),
      { timeoutMs: 10_000, what: `every lobby of ${id} served again with acks` },
    );
    await eventually(
      async () => {
        const { rows } = await cluster.db.pool.query("SELECT 1 FROM presence WHERE node_id = $1", [id]);
        return rows.length === 0;
      },
      { timeoutMs: 10_000, what: `presence rows of ${id} removed` },
    );
  }

  it("serves the busiest node's lobbies elsewhere with nothing acked lost", async () => {
    await eventually(() => traffic.ackCount >= 300, { what: "300 acks before the kill" });
    const { victim, affected, killedAt } = await killBusiest();
    expect(affected.length).toBeGreaterThan(0);
    await expectRecovered(victim, affected, killedAt);
    await expectAckedActionsDurable(traffic, cluster.db.pool);
  });

  it("does it again when a second node dies", async () => {
    const before = traffic.ackCount;
    await eventually(() => traffic.ackCount >= before + 200, { what: "200 more acks" });
    const { victim, affected, killedAt } = await killBusiest();
    await expectRecovered(victim, affected, killedAt);
    await traffic.stop();
    await expectAckedActionsDurable(traffic, cluster.db.pool);
    // One node left, serving every lobby.
    const survivors = new Set(traffic.lobbies.map(GameTraffic.servingNode));
    expect(survivors.size).toBe(1);
  });
});
