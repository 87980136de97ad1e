import { randomBytes } from "node:crypto";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { AdminClient } from "../../infra/ops/admin-client.js";
import { createIdleLobbies } from "../../infra/ops/drill-idle.js";
import { GameTraffic, type TrafficLobby, verifyAcked } from "../../infra/ops/game-traffic.js";
import { DEV_ADMIN_TOKEN } from "../../shared/config.js";
import { readLogOf } from "../../shared/db/lobbies.js";
import { dropSchema, migrate } from "../../shared/db/migrate.js";
import { createPool } from "../../shared/db/pool.js";
import { ProcessGroup, type RingsideProcess } from "../helpers/processes.js";
import { benchDatabase, printTable, progress, summarize, verdict } from "./bench-kit.js";

/**
 * `npm run bench:drain` (issue 10): drain one node of three while its
 * lobbies are under saturating load (every player sends its next action as
 * soon as the last is acked; the per-connection rate limit raised), with
 * 5,000 idle lobbies in the database (made by the real create path, so each
 * is also loaded on its ring owner). Reports the drain's duration, whether
 * played lobbies moved first, whether the departed node owns nothing, the
 * pause each moved lobby's players saw, and acked actions lost.
 */

const IDLE = Number(process.env.BENCH_IDLE ?? 5000);
const PLAYED = Number(process.env.BENCH_PLAYED ?? 30);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 3000);
const AFTER_MS = 2000;

type History = { kind: string; code: string | null; at: Date; released: number; pause: number };

async function main(): Promise<void> {
  const db = await benchDatabase();
  const schema = `bench_drain_${randomBytes(4).toString("hex")}`;
  await migrate(db.url, schema);
  const pool = createPool(db.url, schema, 4);
  const group = new ProcessGroup({
    DATABASE_URL: db.url,
    RINGSIDE_SCHEMA: schema,
    RINGSIDE_BUS: "postgres",
    PORT: "0",
    LOG_LEVEL: "info",
    RINGSIDE_RATE_PER_SECOND: "100000",
    RINGSIDE_RATE_BURST: "100000",
  });
  let traffic: GameTraffic | null = null;
  try {
    progress("starting 3 nodes and a balancer");
    const nodes = await Promise.all(["n1", "n2", "n3"].map((id) => group.start("node", { NODE_ID: id })));
    const balancer = await group.start("balancer", { BALANCER_ID: "b1" });
    const admin = new AdminClient(balancer.url, DEV_ADMIN_TOKEN);
    await waitFor(async () => (await admin.ring()).members.length === 3, "the balancer's ring of 3 nodes");

    progress(`creating ${IDLE} idle lobbies through the balancer`);
    const idle = await createIdleLobbies(balancer.url, IDLE, { onProgress: progress });
    progress(`setting up ${PLAYED} lobbies of 2 players under saturating load`);
    traffic = new GameTraffic({ baseUrl: balancer.url, lobbies: PLAYED, pauseMs: [0, 0] });
    await traffic.setup();
    traffic.start();
    await new Promise((r) => setTimeout(r, WARMUP_MS));

    const { node: id, lobbies: played } = traffic.busiestNode();
    const victim = nodes.find((n) => n.env.NODE_ID === id) as RingsideProcess;
    const idleOnVictim = await countOwned(pool, id, idle);
    progress(`draining ${id}: ${played.length} played lobbies, ${idleOnVictim} idle lobbies`);
    const retries = new Map<string, string[]>();
    for (const l of played)
      for (const p of l.players)
        p.connection.on("retry", (r: { attempt: number; delayMs: number; code: number }) =>
          retries.set(l.code, [...(retries.get(l.code) ?? []), `${r.code}@+${Date.now() - requestedAt}/${r.delayMs}`]),
        );
    // The clients run in this process: a starved event loop here shows up as pause, and is reported.
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const requestedAt = Date.now();
    await admin.drain(id);
    await waitFor(async () => (await countOwned(pool, id)) === 0, `${id} to own nothing`, 60_000, 10);
    const ownsNothingMs = Date.now() - requestedAt;
    const exitCode = await victim.exited;
    const exitedMs = Date.now() - requestedAt;
    await waitFor(
      () => played.every((l) => l.players.every((p) => (p.acked.at(-1)?.ackedAt ?? 0) > requestedAt + exitedMs)),
      "the moved lobbies' players acting on their new nodes",
    );
    lag.disable();
    await new Promise((r) => setTimeout(r, AFTER_MS));
    progress("stopping the load and checking every acked action against the log");
    await traffic.stop();

    const acked = traffic.players.flatMap((p) => p.acked);
    const durability = verifyAcked(
      acked,
      await readLogOf(
        pool,
        traffic.lobbies.map((l) => l.code),
      ),
    );
    const history = await drainHistory(pool, id);
    const order = checkOrder(history, played, idle);
    const pauses = summarize(played.map((l) => longestAckGap(l, requestedAt)));
    if (process.env.BENCH_DEBUG) {
      for (const l of played) debugLobby(l, requestedAt);
      for (const [code, r] of retries) progress(`${code} retries ${r.join(" ")}`);
      // How reconnects found the new owners: 421 corrections (a reconnect that reached the old node first).
      const metrics = await (await fetch(`${balancer.url}/metrics`)).text();
      for (const line of metrics
        .split("\n")
        .filter((l) => /^ringside_balancer_(retries|ws_upgrades|refused_holds)/.test(l)))
        progress(`b1 ${line}`);
      for (const p of [...nodes, balancer])
        for (const line of p.lines.filter((l) => /drain|handed off|loaded|released|421|owner/.test(l)).slice(-40))
          progress(`${p.env.NODE_ID ?? "b1"} ${line.slice(0, 300)}`);
    }
    const owned = await countOwned(pool, id);
    const drainedLine = victim.lines.find((l) => l.includes('"msg":"drained"'));
    const nodeMs = drainedLine ? (JSON.parse(drainedLine) as { ms: number }).ms : Number.NaN;

    console.log("");
    console.log(
      `Drain of ${id} (exit ${exitCode}) with ${IDLE} idle lobbies in the database (${idleOnVictim} its own)`,
    );
    console.log(`and ${PLAYED} lobbies x 2 players under saturating load (${played.length} of them on ${id})`);
    console.log("");
    printTable(
      ["measure", "value", "target", "verdict"],
      [
        ["drain: request -> owns nothing (ms)", ownsNothingMs, "< 5,000", verdict(ownsNothingMs < 5000)],
        ["drain: as the node timed it (ms)", nodeMs, "", ""],
        ["drain: request -> process exit (ms)", exitedMs, "", ""],
        [
          "played lobbies handed off",
          `${order.playedHandedOff}/${played.length}`,
          "all",
          verdict(order.playedHandedOff === played.length),
        ],
        [
          "idle lobbies released in one statement",
          order.released,
          `${idleOnVictim}`,
          verdict(order.released === idleOnVictim),
        ],
        ["the release statement took (ms)", order.releaseMs, "", ""],
        [
          "order: every handoff before the release",
          order.playedFirst ? "yes" : "no",
          "yes",
          verdict(order.playedFirst),
        ],
        ["lobbies the departed node owns after", owned, "0", verdict(owned === 0)],
        ["client-observed pause p50 (ms)", pauses.p50, "", ""],
        ["client-observed pause p99 (ms)", pauses.p99, "< 300", verdict(pauses.p99 < 300)],
        ["client-observed pause max (ms)", pauses.max, "", ""],
        ["server-side pause p50 / max (ms)", serverPauses(history), "", ""],
        ["bench client event-loop delay p99 (ms)", lag.percentile(99) / 1e6, "", ""],
        ["acked actions", durability.acked, "", ""],
        [
          "lost / duplicated / misordered",
          `${durability.lost} / ${durability.duplicated} / ${durability.misordered}`,
          "0 / 0 / 0",
          verdict(durability.lost + durability.duplicated + durability.misordered === 0),
        ],
      ],
    );
    console.log("");
    console.log(
      "Pause: per moved lobby, the longest time without an ack to either of its players from the drain request",
    );
    console.log(
      "until both act on the new node. Absolute numbers on a shared machine are noisy; compare runs on a quiet one.",
    );
  } finally {
    traffic?.close();
    await group.stopAll();
    await pool.end();
    await dropSchema(db.url, schema).catch(() => {});
    await db.stop();
  }
}

async function countOwned(pool: ReturnType<typeof createPool>, node: string, among?: string[]): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM lobbies WHERE owner_node = $1 AND ($2::text[] IS NULL OR code = ANY($2::text[]))`,
    [node, among ?? null],
  );
  return rows[0]?.n ?? 0;
}

async function drainHistory(pool: ReturnType<typeof createPool>, node: string): Promise<History[]> {
  const { rows } = await pool.query<History>(
    `SELECT kind, code, at, coalesce((detail->>'released')::int, 0) AS released,
       coalesce((detail->>'pauseMs')::int, (detail->>'ms')::int, 0) AS pause FROM cluster_history
     WHERE node_id = $1 AND kind IN ('handoff', 'idle_released') ORDER BY id`,
    [node],
  );
  return rows;
}

function checkOrder(history: History[], played: TrafficLobby[], idle: string[]) {
  const handedOff = new Set(history.filter((h) => h.kind === "handoff").map((h) => h.code));
  const idleSet = new Set(idle);
  const releases = history.filter((h) => h.kind === "idle_released");
  const lastHandoff = history.findLastIndex((h) => h.kind === "handoff");
  const firstRelease = history.findIndex((h) => h.kind === "idle_released");
  return {
    playedHandedOff: played.filter((l) => handedOff.has(l.code)).length,
    idleHandedOff: [...handedOff].filter((c) => c !== null && idleSet.has(c)).length,
    released: releases.reduce((n, r) => n + r.released, 0),
    releaseMs: releases.reduce((n, r) => n + r.pause, 0),
    playedFirst: releases.length === 1 && (lastHandoff === -1 || lastHandoff < firstRelease),
  };
}

/** What the node measured per handoff: from "stop taking actions" to "moved, sockets closed". */
function serverPauses(history: History[]): string {
  const s = summarize(history.filter((h) => h.kind === "handoff").map((h) => h.pause));
  return `${s.p50} / ${s.max}`;
}

/** The longest stretch without an ack in this lobby (both players together) from `from` on. */
function longestAckGap(lobby: TrafficLobby, from: number): number {
  const times = lobby.players
    .flatMap((p) => p.acked.map((a) => a.ackedAt))
    .filter((t) => t >= from)
    .sort((a, b) => a - b);
  let longest = 0;
  let previous = from;
  for (const t of times) {
    longest = Math.max(longest, t - previous);
    previous = t;
  }
  return longest;
}

function debugLobby(lobby: TrafficLobby, from: number): void {
  const acks = lobby.players.flatMap((p) => p.acked.map((a) => a.ackedAt)).sort((a, b) => a - b);
  const welcome = lobby.players.flatMap((p) => p.welcomes.filter((w) => w.at >= from));
  const firstWelcome = Math.min(...welcome.map((w) => w.at));
  const lastBefore = acks.filter((t) => t < firstWelcome).at(-1) ?? from;
  const firstAfter = acks.find((t) => t > firstWelcome) ?? Number.NaN;
  progress(
    `${lobby.code}: last ack +${lastBefore - from}, welcomes ${welcome.map((w) => `${w.node}+${w.at - from}`).join(",")}, first ack after +${firstAfter - from}`,
  );
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
