import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GameTraffic, type TrafficLobby, verifyAcked } from "../../infra/ops/game-traffic.js";
import { readLogOf } from "../../shared/db/lobbies.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
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

  beforeAll(async () => {
    cluster = await startCluster({ label: "failover", nodes: 3, balancers: 1 });
    traffic = new GameTraffic({ baseUrl: cluster.balancers[0]?.url as string, lobbies: 30, pauseMs: [10, 30] });
    await traffic.setup();
    traffic.start();
  }, 90_000);

  afterAll(async () => {
    await traffic?.stop();
    traffic?.close();
    await cluster?.stop();
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

  async function expectNothingLost() {
    const acked = traffic.players.flatMap((p) => p.acked);
    const log = await readLogOf(
      cluster.db.pool,
      traffic.lobbies.map((l) => l.code),
    );
    const verdict = verifyAcked(acked, log);
    expect(verdict.problems).toEqual([]);
    expect(verdict).toMatchObject({ lost: 0, duplicated: 0, misordered: 0, gapsInLog: 0 });
    for (const p of traffic.players) expect(p.gaps).toBe(0);
  }

  it("serves the busiest node's lobbies elsewhere with nothing acked lost", async () => {
    await eventually(() => traffic.ackCount >= 300, { what: "300 acks before the kill" });
    const { victim, affected, killedAt } = await killBusiest();
    expect(affected.length).toBeGreaterThan(0);
    await expectRecovered(victim, affected, killedAt);
    await expectNothingLost();
  });

  it("does it again when a second node dies", async () => {
    const before = traffic.ackCount;
    await eventually(() => traffic.ackCount >= before + 200, { what: "200 more acks" });
    const { victim, affected, killedAt } = await killBusiest();
    await expectRecovered(victim, affected, killedAt);
    await traffic.stop();
    await expectNothingLost();
    // One node left, serving every lobby.
    const survivors = new Set(traffic.lobbies.map(GameTraffic.servingNode));
    expect(survivors.size).toBe(1);
  });
});
