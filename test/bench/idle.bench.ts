import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { parseArgs } from "node:util";
import { dropSchema, migrate } from "../../shared/db/migrate.js";
import { RingsideProcess } from "../helpers/processes.js";
import { benchDatabase, printTable, progress, verdict } from "./bench-kit.js";
import { CpuSampler, rssKb } from "./proc-stats.js";

/**
 * `npm run bench:idle [-- --seconds 60] [--cpu-prof <dir>]`: what a cluster
 * costs doing nothing. Three nodes and a balancer (as `npm start`, on ports
 * and a schema of their own), nobody connected; each process's CPU share
 * over the window from /proc/<pid>/stat, and the share of the Postgres
 * backends serving its connections. Target: <= 0.5% of a core per node and
 * per balancer. With --cpu-prof every process writes a V8 CPU profile there
 * when the bench stops it.
 */

const TARGET_PERCENT = 0.5;
/** Start-up work (migrations, first reads, JIT) is not idle cost: wait this long before sampling. */
/**
 * From ready to the window. Long enough for V8's start-up housekeeping to be over: about 15-25 s after a
 * process starts, its "memory reducer" runs a few major collections (measured with --trace-gc: 3-4
 * Mark-Compacts of 3-13 ms each), once in the process's life. An idle cluster has been running for
 * longer than that; with a 5 s settle they fell in the window and were ~40% of its profile.
 */
const SETTLE_MS = 30_000;

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "60" }, "cpu-prof": { type: "string" } },
});
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds <= 0) throw new Error("--seconds must be a positive number");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const db = await benchDatabase();
  const schema = `bench_idle_${randomBytes(4).toString("hex")}`;
  await migrate(db.url, schema);
  if (values["cpu-prof"]) {
    await mkdir(values["cpu-prof"], { recursive: true });
    process.env.RINGSIDE_CPU_PROF = values["cpu-prof"];
  }
  const env = { DATABASE_URL: db.url, RINGSIDE_SCHEMA: schema, RINGSIDE_BUS: "postgres", PORT: "0" };
  const procs: RingsideProcess[] = [];
  try {
    progress("starting 3 nodes and a balancer ...");
    for (let i = 1; i <= 3; i++) procs.push(new RingsideProcess("node", { ...env, NODE_ID: `idle-n${i}` }));
    procs.push(new RingsideProcess("balancer", { ...env, BALANCER_ID: "idle-b1" }));
    await Promise.all(procs.map((p) => p.ready()));
    progress(`settling ${SETTLE_MS / 1000} s, then sampling ${seconds} s with nothing connected ...`);
    await sleep(SETTLE_MS);
    const pgPort = Number(new URL(db.url).port || 5432);
    const sampler = new CpuSampler(
      procs.map((p) => p.pid),
      db.url,
      pgPort,
    );
    await sampler.begin();
    for (let left = seconds; left > 0; left -= Math.min(10, left)) {
      await sleep(Math.min(10, left) * 1000);
      progress(`${Math.max(0, left - 10)} s left`);
    }
    await sampler.end();
    report(procs, sampler);
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await dropSchema(db.url, schema).catch(() => {});
    await db.stop();
  }
}

function report(procs: RingsideProcess[], sampler: CpuSampler): void {
  const rows = procs.map((p) => {
    const cpu = sampler.processPercent(p.pid);
    const backends = sampler.backendPercent(p.pid);
    return [
      p.env.NODE_ID ?? p.env.BALANCER_ID ?? p.kind,
      p.kind,
      cpu,
      backends ?? Number.NaN,
      Math.round((rssKb(p.pid) ?? 0) / 1024),
      verdict(cpu <= TARGET_PERCENT),
    ];
  });
  console.log(`\nIdle cost over ${seconds} s, nothing connected (% of one core)\n`);
  printTable(["process", "kind", "CPU %", "its Postgres backends %", "RSS MiB", `target <= ${TARGET_PERCENT}%`], rows);
  const total = rows.reduce((sum, r) => sum + (r[2] as number) + ((r[3] as number) || 0), 0);
  console.log(`\ncluster total (processes + their backends): ${total.toFixed(2)}% of a core`);
  if (rows.some((r) => Number.isNaN(r[3]))) console.log("Postgres backends: not attributable (no pg_stat_activity)");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
