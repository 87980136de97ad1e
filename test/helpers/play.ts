import { expect } from "vitest";
import { GameTraffic, type Verdict, verifyAcked } from "../../infra/ops/game-traffic.js";
import { readLogOf } from "../../shared/db/lobbies.js";
import type { Pool } from "../../shared/db/pool.js";
import type { AnyGame } from "../../shared/game/define-game.js";
import { startCluster, type TestCluster } from "./cluster.js";

/** A real cluster with lobbies being played through its first balancer, for failover and handoff tests. */
export async function startClusterUnderPlay(options: {
  label: string;
  nodes: number;
  balancers?: number;
  lobbies: number;
  pauseMs: [number, number];
  /** The game played (default: the default game) and its create options. */
  game?: AnyGame;
  gameOptions?: Record<string, unknown>;
  /** For every process (e.g. a DATABASE_URL through a proxy, or a longer lease). */
  env?: Record<string, string>;
}): Promise<{ cluster: TestCluster; traffic: GameTraffic; stop: () => Promise<void> }> {
  const { label, nodes, env } = options;
  const cluster = await startCluster({ label, nodes, balancers: options.balancers ?? 1, env });
  const traffic = new GameTraffic({
    baseUrl: cluster.balancers[0]?.url as string,
    lobbies: options.lobbies,
    pauseMs: options.pauseMs,
    game: options.game,
    gameOptions: options.gameOptions,
  });
  await traffic.setup();
  traffic.start();
  const stop = async () => {
    await traffic.stop();
    traffic.close();
    for (const n of cluster.nodes) n.kill("SIGCONT"); // a paused node would never exit
    await cluster.stop();
  };
  return { cluster, traffic, stop };
}

/**
 * The durability check every failover test ends with: each acked action in
 * the log exactly once at its acked seq, per-player order kept, no gaps in
 * the log, and no gaps in what the clients saw.
 */
export async function expectAckedActionsDurable(traffic: GameTraffic, pool: Pool): Promise<Verdict> {
  // Acks first, then the log: with play still going, an ack taken after the
  // read would look lost. Everything acked before the read is in it.
  const acked = traffic.players.flatMap((p) => p.acked);
  const log = await readLogOf(
    pool,
    traffic.lobbies.map((l) => l.code),
  );
  const verdict = verifyAcked(acked, log);
  expect(verdict.problems).toEqual([]);
  expect(verdict).toMatchObject({ lost: 0, duplicated: 0, misordered: 0, gapsInLog: 0 });
  for (const player of traffic.players) expect(player.gaps).toBe(0);
  return verdict;
}
