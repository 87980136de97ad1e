import { Counter, createRegistry, Gauge, Histogram } from "../shared/metrics.js";

/** The node's Prometheus metrics: group-commit batches, lease renewals, sockets, lobbies, queue depth. */
export function createNodeMetrics(nodeId: string) {
  const registry = createRegistry("node", nodeId);
  const batchSize = new Histogram({
    name: "ringside_commit_batch_size",
    help: "Events per group commit",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: "ringside_commit_seconds",
    help: "Time to write one group commit",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
    registers: [registry],
  });
  const missingGames = new Counter({
    name: "ringside_lobbies_missing_game_total",
    help: "Lobbies this node would have served but whose game (or version) it does not have",
    labelNames: ["game"],
    registers: [registry],
  });
  const lifecycle = {
    loaded: new Counter({
      name: "ringside_lobbies_loaded_total",
      help: "Lobbies loaded into memory, by how (created, claimed, restored) and why (request, takeover, timer)",
      labelNames: ["how", "trigger"],
      registers: [registry],
    }),
    unloaded: new Counter({
      name: "ringside_lobbies_unloaded_total",
      help: "Lobbies that left this node's memory because nobody used them (idle)",
      registers: [registry],
    }),
    closed: new Counter({
      name: "ringside_lobbies_closed_total",
      help: "Lobbies closed because they were left alone (finished, or abandoned)",
      registers: [registry],
    }),
    retired: new Counter({
      name: "ringside_lobbies_retired_total",
      help: "Closed lobbies whose log was deleted after the retention period",
      registers: [registry],
    }),
    released: new Counter({
      name: "ringside_orphans_released_total",
      help: "Inactive lobbies of dead nodes released to be claimed lazily, on their next request",
      registers: [registry],
    }),
  };
  const renewals = new Counter({
    name: "ringside_lease_renewals_total",
    help: "Lease renewal attempts, by result (ok, lost: declared dead or expired, failed: error or timeout)",
    labelNames: ["result"],
    registers: [registry],
  });
  return {
    registry,
    lifecycle,
    countRenewal(result: "ok" | "lost" | "failed"): void {
      renewals.inc({ result });
    },
    missingGame(gameId: string): void {
      missingGames.inc({ game: gameId });
    },
    observeBatch(size: number, seconds: number): void {
      batchSize.observe(size);
      batchSeconds.observe(seconds);
    },
    track(sources: { sockets: () => number; lobbies: () => number; queue: () => number }): void {
      const gauge = (name: string, help: string, read: () => number) =>
        new Gauge({
          name,
          help,
          registers: [registry],
          collect() {
            this.set(read());
          },
        });
      gauge("ringside_open_sockets", "Player WebSockets open on this node", sources.sockets);
      gauge("ringside_loaded_lobbies", "Lobbies served by this node", sources.lobbies);
      gauge("ringside_commit_queue_depth", "Events waiting for the group commit", sources.queue);
    },
  };
}
