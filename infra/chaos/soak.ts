import { readLogOf } from "../../shared/db/lobbies.js";
import { createPool } from "../../shared/db/pool.js";
import { AdminClient } from "../ops/admin-client.js";
import { waitForHealthy } from "../ops/cluster-wait.js";
import { GameTraffic } from "../ops/game-traffic.js";
import { EMBEDDED_DATABASE_URL, type LogSource, probeLogSource } from "../ops/log-check.js";
import type { Progress } from "../ops/progress.js";
import { ControlClient } from "./control-client.js";
import { checkDurability, type DurabilityVerdict } from "./durability.js";
import { runFault } from "./faults.js";
import type { ClusterHandle } from "./own-cluster.js";
import type { FaultKind, FaultRecord, LobbyActivity } from "./recovery.js";
import { Rng } from "./rng.js";

/**
 * One chaos soak: players chat and play through the balancer for the whole
 * run while faults hit the cluster one after another (every kind at least
 * once, in a seeded random order, then random kinds until the time is up),
 * each awaited until the cluster serves every lobby again; then every acked
 * action is checked against the durable log.
 */

export type SoakOptions = {
  minutes: number;
  seed: number;
  lobbies: number;
  kinds: FaultKind[];
  holdMs: number;
  warmupMs: number;
  /** Quiet load between two faults, random in this range (ms). */
  calmMs: [number, number];
  recoverTimeoutMs: number;
  token: string;
};

export type SoakRun = {
  startedAt: number;
  endedAt: number;
  faults: FaultRecord[];
  skipped: string[];
  lobbies: LobbyActivity[];
  ackTimes: number[];
  traffic: { players: number; acked: number; rejected: number; failed: number; clientGaps: number; reconnects: number };
  durability: DurabilityVerdict;
};

export async function runSoak(cluster: ClusterHandle, opts: SoakOptions, progress: Progress): Promise<SoakRun> {
  if (!cluster.control) throw new Error("the cluster has no control API");
  const control = new ControlClient(cluster.control, opts.token);
  const admin = new AdminClient(cluster.balancer, opts.token);
  const state = await control.state();
  const nodes = state.members.filter((m) => m.kind === "node").length;
  const skipped: string[] = [];
  let kinds = opts.kinds;
  if (!state.postgres.proxied && kinds.includes("pg-stall")) {
    kinds = kinds.filter((k) => k !== "pg-stall");
    skipped.push(
      "pg-stall: the cluster's nodes reach Postgres directly (start it with RINGSIDE_PG_PROXY=1, or use --start)",
    );
    progress.phase(`skipping ${skipped[0]}`);
  }
  const logSource: LogSource = { databaseUrl: cluster.databaseUrl ?? EMBEDDED_DATABASE_URL, schema: cluster.schema };
  await probeLogSource(logSource);
  progress.phase(`waiting for ${nodes} active nodes behind ${cluster.balancer}`);
  await waitForHealthy(admin, { activeNodes: nodes }, { timeoutMs: opts.recoverTimeoutMs });
  const traffic = new GameTraffic({
    baseUrl: cluster.balancer,
    lobbies: opts.lobbies,
    onProgress: (text) => progress.phase(`  ${text}`),
  });
  try {
    progress.phase(`setting up ${opts.lobbies} lobbies of 2 players (chat and Connect Four)`);
    await traffic.setup();
    traffic.start();
    const startedAt = Date.now();
    const faults = await runFaults(traffic, { ...opts, kinds }, { control, admin, nodes, progress, startedAt });
    progress.phase("stopping the load (waiting for actions in flight)");
    await traffic.stop();
    const endedAt = Date.now();
    const acked = traffic.players.flatMap((p) => p.acked);
    progress.phase(`checking ${acked.length} acked actions against the durable log`);
    const durability = checkDurability(
      acked,
      await readLog(
        logSource,
        traffic.lobbies.map((l) => l.code),
      ),
    );
    return {
      startedAt,
      endedAt,
      faults,
      skipped,
      lobbies: activityOf(traffic),
      ackTimes: acked.map((a) => a.ackedAt),
      traffic: trafficTotals(traffic),
      durability,
    };
  } finally {
    progress.stopLive();
    traffic.close();
  }
}

type Hands = { control: ControlClient; admin: AdminClient; nodes: number; progress: Progress; startedAt: number };

async function runFaults(traffic: GameTraffic, opts: SoakOptions, hands: Hands): Promise<FaultRecord[]> {
  const { progress } = hands;
  const rng = new Rng(opts.seed);
  const deadline = hands.startedAt + opts.minutes * 60_000;
  const faults: FaultRecord[] = [];
  const live = (what: string) => progress.startLive(() => `${traffic.ackCount} acks; ${what}`);
  live(`warming up for ${opts.warmupMs} ms`);
  await sleep(opts.warmupMs);
  // Every kind once, in a seeded order, whatever the time; then random kinds until the time is up.
  const firstRound = rng.shuffle(opts.kinds);
  while (firstRound.length > 0 || Date.now() < deadline) {
    const kind = firstRound.shift() ?? rng.pick(opts.kinds);
    progress.phase(`fault ${faults.length + 1}: ${kind} (${Math.round((Date.now() - hands.startedAt) / 1000)} s in)`);
    live(`fault ${faults.length + 1} (${kind}) under way`);
    const fault = await runFault(kind, faults.length + 1, {
      ...hands,
      rng,
      holdMs: opts.holdMs,
      recoverTimeoutMs: opts.recoverTimeoutMs,
      servingNodes: () => traffic.lobbies.map((l) => GameTraffic.servingNode(l)),
      lobbiesServedAfter: (at, timeoutMs) => lobbiesServedAfter(traffic, at, timeoutMs),
    });
    faults.push(fault);
    progress.phase(
      `  ${fault.error ? "✗ not recovered" : "✓ recovered"} (${fault.settledAt - fault.injectedAt} ms until every lobby was served again)`,
    );
    const calm = rng.between(opts.calmMs[0], opts.calmMs[1]);
    live(`calm for ${calm} ms`);
    await sleep(calm);
  }
  return faults;
}

/** Every lobby with an open connection has had an event after `at` (a lobby closed for good has nothing to serve). */
async function lobbiesServedAfter(traffic: GameTraffic, at: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const waiting = traffic.lobbies.filter(
      (l) =>
        l.players.some((p) => p.connection.status !== "closed") &&
        !l.players.some((p) => (p.events.at(-1)?.at ?? 0) > at),
    );
    if (waiting.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${waiting.length} lobbies got no event within ${timeoutMs} ms: ${waiting.map((l) => l.code).join(", ")}`,
      );
    }
    await sleep(100);
  }
}

async function readLog(source: LogSource, codes: string[]) {
  const pool = createPool(source.databaseUrl, source.schema, 2);
  try {
    return await readLogOf(pool, codes);
  } finally {
    await pool.end();
  }
}

function activityOf(traffic: GameTraffic): LobbyActivity[] {
  return traffic.lobbies.map((l) => ({
    code: l.code,
    eventTimes: l.players.flatMap((p) => p.events.map((e) => e.at)).sort((a, b) => a - b),
  }));
}

function trafficTotals(traffic: GameTraffic): SoakRun["traffic"] {
  const players = traffic.players;
  const sum = (f: (p: (typeof players)[number]) => number) => players.reduce((n, p) => n + f(p), 0);
  return {
    players: players.length,
    acked: sum((p) => p.acked.length),
    rejected: sum((p) => p.rejected),
    failed: sum((p) => p.failed),
    clientGaps: sum((p) => p.gaps),
    reconnects: sum((p) => Math.max(0, p.welcomes.length - 1)),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
