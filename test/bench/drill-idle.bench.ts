import { randomBytes } from "node:crypto";
import { AdminClient } from "../../infra/ops/admin-client.js";
import { waitForHealthy } from "../../infra/ops/cluster-wait.js";
import { runDrill } from "../../infra/ops/drill.js";
import {
  createIdleLobbies,
  formatRss,
  type IdleSetup,
  type NodeSample,
  prepareIdleLobbies,
  sampleNodes,
  waitUntilUnloaded,
  worstRssRatio,
} from "../../infra/ops/drill-idle.js";
import type { DrillSummary } from "../../infra/ops/drill-summary.js";
import { Progress } from "../../infra/ops/progress.js";
import { DEV_ADMIN_TOKEN } from "../../shared/config.js";
import { dropSchema, migrate } from "../../shared/db/migrate.js";
import { createPool } from "../../shared/db/pool.js";
import { generateLobbyCode } from "../../shared/lobby-code.js";
import { Ring } from "../../shared/ring.js";
import { ProcessGroup, type RingsideProcess } from "../helpers/processes.js";
import { benchDatabase, printTable, progress } from "./bench-kit.js";

/**
 * `npm run bench:drill-idle` (issue 10): the failover drill twice in ONE run
 * on one cluster, first on a fresh database, then after 50,000 idle lobbies
 * were made (real creates through the balancer) and unloaded again. A
 * failover's work must follow the active lobbies: the second drill's
 * recovery p99 must be <= 1.5 s and <= 1.2x the first's, and each node's
 * memory after the idle lobbies unloaded within 10% of before.
 *
 * The nodes' idle-unload and active windows are shortened to 15 s (60 s by
 * default) so the run does not wait minutes; `npm run drill -- --idle-lobbies N`
 * does the same against a running cluster with its own windows.
 */

const IDLE = Number(process.env.BENCH_IDLE ?? 50_000);
const LOBBIES = Number(process.env.BENCH_LOBBIES ?? 30);
const WINDOW_MS = 15_000;
const VICTIM = "n1";
/** Of the idle lobbies, made first to warm the nodes up (see "before" below). */
const WARM = Math.min(2000, Math.floor(IDLE / 10));

async function main(): Promise<void> {
  const db = await benchDatabase();
  const schema = `bench_idle_${randomBytes(4).toString("hex")}`;
  await migrate(db.url, schema);
  const group = new ProcessGroup({
    DATABASE_URL: db.url,
    RINGSIDE_SCHEMA: schema,
    RINGSIDE_BUS: "postgres",
    PORT: "0",
    RINGSIDE_IDLE_UNLOAD_MS: String(WINDOW_MS),
    RINGSIDE_ACTIVE_WINDOW_MS: String(WINDOW_MS),
    RINGSIDE_LIFECYCLE_MS: "1000",
  });
  try {
    progress("starting 3 nodes and a balancer");
    const nodes = await Promise.all(["n1", "n2", "n3"].map((id) => group.start("node", { NODE_ID: id })));
    const balancer = await group.start("balancer", { BALANCER_ID: "b1" });
    const admin = new AdminClient(balancer.url, DEV_ADMIN_TOKEN);
    await waitForHealthy(admin, { activeNodes: 3 }, { timeoutMs: 60_000 });
    const drill = async (n: number, victim: RingsideProcess) => {
      await settleDatabase(db.url, schema);
      return (
        await runDrill({
          baseUrl: balancer.url,
          lobbies: LOBBIES,
          // The same number of lobbies on the victim in both drills: a random share (6 to 14 of 30 seen)
          // moved the recovery p99 more than anything the idle lobbies did.
          placement: { node: VICTIM, lobbies: Math.round(LOBBIES / 3) },
          victim: { node: VICTIM },
          pid: victim.pid,
          warmupMs: 3000,
          observeMs: 5000,
          logSource: { databaseUrl: db.url, schema },
          progress: new Progress(),
          drill: n,
        })
      ).summary;
    };

    const fresh = await drill(1, nodes[0] as RingsideProcess);
    if (process.env.BENCH_DEBUG) printLogsSince(group.all, Date.parse(fresh.killAt) - 500);
    progress(`restarting ${VICTIM}`);
    const restarted = await group.start("node", { NODE_ID: VICTIM });
    await waitForHealthy(admin, { activeNodes: 3 }, { timeoutMs: 60_000 });
    // "Before" is a warmed node holding nothing: the restarted victim has served some lobbies (a young
    // process's RSS grows as it warms up whatever it serves), and the first drill's lobbies left memory.
    progress(`warming every node with ${WARM} of the idle lobbies`);
    await createIdleLobbies(balancer.url, WARM);
    const empty = (await sampleNodes(admin)).map((s) => ({ ...s, loaded: 0 }));
    await waitUntilUnloaded(admin, empty, { timeoutMs: 120_000, onProgress: progress });
    const idle = process.env.BENCH_IDLE_SQL
      ? await insertIdleRows(db.url, schema, IDLE, await sampleNodes(admin))
      : await prepareIdleLobbies(admin, IDLE - WARM, { timeoutMs: 300_000, onProgress: progress });
    const withIdle = await drill(2, restarted);
    report(fresh, withIdle, idle);
    if (process.env.BENCH_DEBUG) printLogsSince(group.all, Date.parse(withIdle.killAt) - 500);
  } finally {
    await group.stopAll();
    await dropSchema(db.url, schema).catch(() => {});
    await db.stop();
  }
}

function report(fresh: DrillSummary, withIdle: DrillSummary, idle: IdleSetup): void {
  const ratio = (withIdle.p99Ms ?? Number.NaN) / (fresh.p99Ms ?? Number.NaN);
  const rss = worstRssRatio(idle);
  const row = (name: string, s: DrillSummary) => [
    name,
    `${s.recovered}/${s.affected}`,
    s.p50Ms ?? Number.NaN,
    s.p99Ms ?? Number.NaN,
    s.maxMs ?? Number.NaN,
    `${s.durability.lost} / ${s.durability.duplicated} / ${s.durability.misordered}`,
  ];
  console.log("");
  console.log(
    `Failover drill (SIGKILL ${VICTIM}, ${LOBBIES} lobbies x 2 players), without and with ${IDLE} idle lobbies`,
  );
  console.log(
    `(${WARM} made first to warm the nodes, then ${idle.lobbies} in ${idle.createMs} ms, unloaded ${idle.unloadWaitMs} ms later)`,
  );
  console.log("");
  printTable(
    ["drill", "recovered", "p50 ms", "p99 ms", "max ms", "lost / dup / misordered"],
    [row("fresh database", fresh), row(`with ${IDLE} idle lobbies`, withIdle)],
  );
  console.log("");
  console.log(`node memory before the idle lobbies: ${formatRss(idle.before)}`);
  console.log(`node memory after they unloaded:     ${formatRss(idle.after)}`);
  console.log("");
  const p99 = withIdle.p99Ms ?? Number.POSITIVE_INFINITY;
  const clean = (s: DrillSummary) => s.durability.lost + s.durability.duplicated + s.durability.misordered === 0;
  printTable(
    ["target", "actual", "verdict"],
    [
      ["p99 with idle lobbies <= 1,500 ms", `${p99} ms`, p99 <= 1500 ? "met" : "NOT met"],
      ["p99 ratio with/without <= 1.2", ratio.toFixed(2), ratio <= 1.2 ? "met" : "NOT met"],
      ["node RSS after unload / before <= 1.1 (worst node)", rss.toFixed(2), rss <= 1.1 ? "met" : "NOT met"],
      [
        "0 lost, duplicated, misordered",
        clean(fresh) && clean(withIdle) ? "0" : "some",
        clean(fresh) && clean(withIdle) ? "met" : "NOT met",
      ],
    ],
  );
  console.log("");
  console.log(
    "Absolute times on a shared machine are noisy: the ratio of the two drills in one run is the figure to compare.",
  );
}

/**
 * BENCH_IDLE_SQL=1, for digging only: the idle lobbies' rows are written
 * straight into Postgres (owned by their ring owner, last changed 5 minutes
 * ago), in seconds instead of minutes. What a failover reads is there; what
 * the nodes' memory went through is not (the RSS figures then mean nothing).
 */
async function insertIdleRows(url: string, schema: string, count: number, nodes: NodeSample[]): Promise<IdleSetup> {
  const ring = new Ring(nodes.map((n) => ({ id: n.id, weight: 1 })));
  const codes = new Set<string>();
  while (codes.size < count) codes.add(generateLobbyCode());
  const owners = [...codes].map((c) => ring.owner(c) as string);
  const pool = createPool(url, schema, 1);
  const started = Date.now();
  await pool.query(
    `INSERT INTO lobbies (code, owner_node, game_id, game_version, last_seq, host_name, player_count, updated_at, owner_since)
     SELECT c, o, 'connect-four', 1, 0, 'idle host', 1, now() - interval '5 minutes', now() - interval '5 minutes'
     FROM unnest($1::text[], $2::text[]) AS t(c, o)`,
    [[...codes], owners],
  );
  await pool.end();
  progress(`inserted ${count} idle lobby rows in ${Date.now() - started} ms`);
  return { lobbies: count, createMs: Date.now() - started, unloadWaitMs: 0, before: nodes, after: nodes };
}

/**
 * Both drills start on a settled database: vacuumed, analyzed and checkpointed. Otherwise the second drill
 * meets what making 50,000 lobbies left behind in Postgres (autovacuum of the new rows, a checkpoint due
 * from their WAL, full-page writes after it), which is the database's housekeeping, not failover work.
 */
async function settleDatabase(url: string, schema: string): Promise<void> {
  const pool = createPool(url, schema, 1);
  try {
    for (const table of ["lobbies", "lobby_events", "presence", "nodes"]) await pool.query(`VACUUM (ANALYZE) ${table}`);
    await pool.query("CHECKPOINT").catch((err: Error) => progress(`no CHECKPOINT before the drill: ${err.message}`));
  } finally {
    await pool.end();
  }
}

/** BENCH_DEBUG=1: what the survivors and the balancer logged around the second kill. */
function printLogsSince(processes: RingsideProcess[], from: number): void {
  for (const p of processes.filter((x) => x.running)) {
    for (const line of p.lines) {
      const at = Date.parse((/"time":"([^"]+)"/.exec(line) ?? [])[1] ?? "");
      if (at >= from && !line.includes("unreachable"))
        progress(`${p.env.NODE_ID ?? "b1"} +${at - from - 500} ${line.slice(0, 240)}`);
    }
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
