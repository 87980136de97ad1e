import type { MetricObjectWithValues, MetricValue } from "prom-client";
import { Counter, createRegistry, Gauge, Histogram, type Registry } from "../shared/metrics.js";
import type { StoredEntry } from "./lobby/log-entry.js";
import type { LoadedHow, LoadTrigger, SubmitResult } from "./lobby-registry.js";
import {
  ACTION_RESULTS,
  actionResultOf,
  CLOSE_CODE_LABELS,
  closeCodeLabel,
  HANDOFF_REASONS,
  type HandoffReason,
  isAckedAction,
} from "./metrics-labels.js";

/**
 * The node's Prometheus metrics (docs/operations.md lists them, docs/alerts.md
 * alerts on them). Labelled counters start at zero for every label value they
 * can take, so `increase()` sees the first event and an alert rule can name a
 * series before it ever moved.
 */

type Live = { sockets: () => number; lobbies: () => number; queue: () => number; ready: () => boolean };

function counter(registry: Registry, name: string, help: string, labels: Record<string, readonly string[]> = {}) {
  const labelNames = Object.keys(labels);
  const metric = new Counter({ name, help, labelNames, registers: [registry] });
  for (const combination of combinations(labels)) metric.inc(combination, 0);
  return metric;
}

/** Every combination of the given label values ({} when there are no labels). */
export function combinations(labels: Record<string, readonly string[]>): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  for (const [name, values] of Object.entries(labels)) {
    out = out.flatMap((partial) => values.map((value) => ({ ...partial, [name]: value })));
  }
  return out;
}

export function createNodeMetrics(nodeId: string) {
  const registry = createRegistry("node", nodeId);
  const c = (name: string, help: string, labels?: Record<string, readonly string[]>) =>
    counter(registry, name, help, labels);
  const batchSize = new Histogram({
    name: "ringside_commit_batch_size",
    help: "Events per group commit",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: "ringside_commit_seconds",
    help: "Time to write one group commit (successful ones)",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
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
    claimed: c(
      "ringside_lobbies_claimed_total",
      "Lobbies of a dead or departed owner claimed here: eager (a takeover pass, active lobbies) or lazy (on a request or a due timer)",
      { mode: ["eager", "lazy"] },
    ),
    unloaded: c("ringside_lobbies_unloaded_total", "Lobbies that left this node's memory because nobody used them"),
    closed: c("ringside_lobbies_closed_total", "Lobbies closed because they were left alone (finished, or abandoned)"),
    retired: c("ringside_lobbies_retired_total", "Closed lobbies whose log was deleted after the retention period"),
    released: c(
      "ringside_orphans_released_total",
      "Inactive lobbies of dead nodes released to be claimed lazily, on their next request",
    ),
  };
  const renewals = c(
    "ringside_lease_renewals_total",
    "Lease renewal attempts, by result (ok, lost: declared dead or expired, failed: error or timeout)",
    { result: ["ok", "lost", "failed"] },
  );
  const handoffs = c(
    "ringside_handoffs_total",
    "Lobbies handed off by this node (drain, rebalance, sigterm), or claimed at once from a dead node (failover_claim), by result",
    { reason: HANDOFF_REASONS, result: ["ok", "failed"] },
  );
  const fences = c("ringside_self_fences_total", "Times this node stopped serving because it could not hold its lease");
  const commitFailures = c(
    "ringside_commit_failures_total",
    "Lobbies unloaded after a failed group commit: error (the database failed or timed out) or fenced (another node owns the lobby)",
    { kind: ["error", "fenced"] },
  );
  const actions = c(
    "ringside_actions_total",
    "Player actions over WebSockets, by result (acked, refused, duplicate: re-sent and acked again, rate_limited, dropped: the lobby was moving)",
    { result: ACTION_RESULTS },
  );
  const closes = c("ringside_ws_closes_total", "Player WebSockets closed, by close code (1012: handoff or fence)", {
    code: CLOSE_CODE_LABELS,
  });
  const resyncs = c("ringside_bus_resyncs_total", "Times the event bus reconnected and listeners resynced");
  const timersFired = c("ringside_timers_fired_total", "Durable lobby timers fired (logged) on this node");
  let drainingSince: number | null = null;

  return {
    registry,
    lifecycle,
    async totals(): Promise<Record<string, number>> {
      return counterTotals(await registry.getMetricsAsJSON());
    },
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
    loaded(how: LoadedHow, trigger: LoadTrigger): void {
      lifecycle.loaded.inc({ how, trigger });
      if (how !== "claimed") return;
      lifecycle.claimed.inc({ mode: trigger === "takeover" ? "eager" : "lazy" });
      // Takeover passes claim only the active lobbies of dead nodes: that is the failover's handoff.
      if (trigger === "takeover") handoffs.inc({ reason: "failover_claim", result: "ok" });
    },
    handoff(reason: HandoffReason, ok: boolean): void {
      handoffs.inc({ reason, result: ok ? "ok" : "failed" });
    },
    drainStarted(): void {
      drainingSince ??= performance.now();
    },
    selfFenced(): void {
      fences.inc();
    },
    commitFailed(error: Error | null): void {
      commitFailures.inc({ kind: error ? "error" : "fenced" });
    },
    action(result: SubmitResult | "rate_limited"): void {
      const label = actionResultOf(result);
      if (label) actions.inc({ result: label });
    },
    /** A durable entry: an acked action, a fired timer, or neither. */
    committed(entry: StoredEntry): void {
      if (isAckedAction(entry)) actions.inc({ result: "acked" });
      else if (entry.kind === "timer") timersFired.inc();
    },
    wsClosed(code: number): void {
      closes.inc({ code: closeCodeLabel(code) });
    },
    busResynced(): void {
      resyncs.inc();
    },
    /** Gauges read from their owners at scrape time, so they cannot drift. */
    track(live: Live): void {
      const gauge = (name: string, help: string, read: () => number) =>
        new Gauge({
          name,
          help,
          registers: [registry],
          collect() {
            this.set(read());
          },
        });
      gauge("ringside_open_sockets", "Player WebSockets open on this node", live.sockets);
      gauge("ringside_loaded_lobbies", "Lobbies served by this node", live.lobbies);
      gauge("ringside_commit_queue_depth", "Events waiting for the group commit", live.queue);
      gauge("ringside_node_ready", "1 while this node serves (lease held, not draining or fenced), else 0", () =>
        live.ready() ? 1 : 0,
      );
      gauge("ringside_node_draining_seconds", "Seconds since this node began draining (0: not draining)", () =>
        drainingSince === null ? 0 : (performance.now() - drainingSince) / 1000,
      );
    },
  };
}

/**
 * The counters that moved, as "name{labels}" -> value, without the labels
 * every series carries: for the one line a node logs when it stops, since a
 * process that exits after a drain is not scraped again.
 */
export function counterTotals(metrics: MetricObjectWithValues<MetricValue<string>>[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const metric of metrics) {
    // prom-client types `type` as a numeric enum, but the JSON holds the name ("counter").
    if (String(metric.type) !== "counter" || !metric.name.startsWith("ringside_")) continue;
    for (const { labels, value } of metric.values) {
      if (value === 0) continue;
      const own = Object.entries(labels).filter(([name]) => name !== "role" && name !== "instance_id");
      const suffix = own.length ? `{${own.map(([k, v]) => `${k}="${v}"`).join(",")}}` : "";
      totals[`${metric.name}${suffix}`] = value;
    }
  }
  return totals;
}

export type NodeMetrics = ReturnType<typeof createNodeMetrics>;
