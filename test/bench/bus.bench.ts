import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createEventBus, type EventBus } from "../../shared/bus/index.js";
import { startEmbeddedPostgres } from "../../shared/db/embedded.js";
import { dropSchema, migrate } from "../../shared/db/migrate.js";
import { createLogger } from "../../shared/log.js";

/**
 * Event-bus benchmark: publish -> receive latency across processes, and the
 * highest rate each bus sustains. Subscribers live in forked processes (this
 * same file, started with --subscriber) and report latencies over IPC; the
 * publisher stamps each message with its send time (same machine, one clock).
 */

type Kind = "postgres" | "redis";
type Target = { kind: Kind; databaseUrl: string; redisUrl?: string; schema: string };
type Command = ({ type: "open"; buses: number } & Target) | { type: "count" } | { type: "collect" } | { type: "exit" };
type Reply = { type: "ready" } | { type: "count"; count: number } | { type: "latencies"; values: Float64Array };
type Percentiles = { p50: number; p90: number; p99: number };
type Window = Percentiles & { subscribers: number; rate: number; sent: number; delivered: number; keptUp: boolean };

const TOPIC = "bench";
const PROCESSES = 10;
const RATE = 1_000;
const WINDOW_S = 3;
const RAMP = [2_000, 5_000, 10_000, 20_000, 40_000, 80_000];
const RAMP_WINDOW_S = 2;
const WARMUP_S = 0.5;
const RAMP_SUBSCRIBERS = 10;
const P99_LIMIT_MS = 50;
const DELIVERY_GRACE_MS = 1_000;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const logger = createLogger("bus-bench", "warn");
/** Printed at start and end: other work on the machine shows in the tails. */
const loadAverage = () => `load average ${loadavg().map((l) => l.toFixed(1))}`;
const progress = (line: string) => console.log(`[bus bench] ${line}`);

// ---- subscriber process -------------------------------------------------

async function runSubscriber(): Promise<void> {
  let buses: EventBus[] = [];
  let latencies: number[] = [];
  const reply = (message: Reply) => process.send?.(message);
  process.on("message", async (command: Command) => {
    if (command.type === "open") {
      await Promise.all(buses.map((bus) => bus.close()));
      buses = Array.from({ length: command.buses }, () => createEventBus({ ...command, logger }));
      const record = (message: unknown) => latencies.push(now() - (message as { t: number }).t);
      await Promise.all(buses.map((bus) => bus.subscribe(TOPIC, record)));
      reply({ type: "ready" });
    } else if (command.type === "count") {
      reply({ type: "count", count: latencies.length });
    } else if (command.type === "collect") {
      reply({ type: "latencies", values: Float64Array.from(latencies) });
      latencies = [];
    } else {
      await Promise.all(buses.map((bus) => bus.close()));
      process.exit(0);
    }
  });
}

// ---- publisher side ------------------------------------------------------

function request<R extends Reply>(child: ChildProcess, command: Command): Promise<R> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`subscriber did not answer ${command.type}`)), 30_000);
    child.once("message", (reply) => {
      clearTimeout(timer);
      resolve(reply as R);
    });
    child.send(command);
  });
}

function startSubscribers(): ChildProcess[] {
  const file = fileURLToPath(import.meta.url);
  return Array.from({ length: PROCESSES }, () =>
    fork(file, ["--subscriber"], { execArgv: ["--import", "tsx"], serialization: "advanced" }),
  );
}

function stopSubscriber(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()).send({ type: "exit" }));
}

/** 1 to 10 subscribers: one process each; 100: ten processes with ten buses (100 processes would swamp 2 cores). */
function layoutFor(subscribers: number): { perProcess: number[]; label: string } {
  if (subscribers <= PROCESSES) {
    return {
      perProcess: Array.from({ length: PROCESSES }, (_, i) => (i < subscribers ? 1 : 0)),
      label: `${subscribers} x 1`,
    };
  }
  const each = Math.ceil(subscribers / PROCESSES);
  return { perProcess: Array.from({ length: PROCESSES }, () => each), label: `${PROCESSES} x ${each}` };
}

async function countDelivered(children: ChildProcess[]): Promise<number> {
  const replies = await Promise.all(
    children.map((c) => request<{ type: "count"; count: number }>(c, { type: "count" })),
  );
  return replies.reduce((sum, r) => sum + r.count, 0);
}

/** Polls until everything arrived or the grace ran out: a bus that falls behind shows as missing messages. */
async function waitForDelivery(children: ChildProcess[], expected: number, graceMs: number): Promise<number> {
  const deadline = now() + graceMs;
  for (;;) {
    const delivered = await countDelivered(children);
    if (delivered >= expected || now() > deadline) return delivered;
    await sleep(20);
  }
}

async function collect(children: ChildProcess[]): Promise<Float64Array> {
  const replies = await Promise.all(
    children.map((c) => request<{ type: "latencies"; values: Float64Array }>(c, { type: "collect" })),
  );
  const all = new Float64Array(replies.reduce((sum, r) => sum + r.values.length, 0));
  let offset = 0;
  for (const { values } of replies) {
    all.set(values, offset);
    offset += values.length;
  }
  return all.sort();
}

function percentiles(sorted: Float64Array): Percentiles {
  const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

/** Fire-and-forget at a fixed rate, as the nodes do; returns how many were sent and whether the pace held. */
async function publishAtRate(bus: EventBus, rate: number, seconds: number): Promise<{ sent: number; keptUp: boolean }> {
  const total = Math.round(rate * seconds);
  const start = now();
  const inFlight: Promise<void>[] = [];
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - start) * rate) / 1000) + 1);
    for (; sent < due; sent++) inFlight.push(bus.publish(TOPIC, { t: now(), i: sent }).catch(() => {}));
    await sleep(1);
  }
  await Promise.all(inFlight);
  return { sent, keptUp: now() - start < seconds * 1000 * 1.1 };
}

async function measure(
  children: ChildProcess[],
  publisher: EventBus,
  target: Target,
  subscribers: number,
  rate: number,
  seconds: number,
): Promise<Window> {
  const { perProcess } = layoutFor(subscribers);
  await Promise.all(children.map((c, i) => request(c, { type: "open", buses: perProcess[i] ?? 0, ...target })));
  // Warm-up at the same rate, not counted: connections open and code JIT-compiled before the clock matters.
  const warmup = await publishAtRate(publisher, rate, WARMUP_S);
  await waitForDelivery(children, warmup.sent * subscribers, 5_000);
  await collect(children);
  const { sent, keptUp } = await publishAtRate(publisher, rate, seconds);
  const delivered = await waitForDelivery(children, sent * subscribers, DELIVERY_GRACE_MS);
  const latencies = await collect(children);
  return { subscribers, rate, sent, delivered, keptUp, ...percentiles(latencies) };
}

const sustained = (w: Window) => w.keptUp && w.delivered >= w.sent * w.subscribers && w.p99 <= P99_LIMIT_MS;
const ms = (value: number) => (Number.isNaN(value) ? "-" : value < 10 ? value.toFixed(2) : value.toFixed(0));
const describeWindow = (w: Window) =>
  `p50 ${ms(w.p50)} ms, p90 ${ms(w.p90)} ms, p99 ${ms(w.p99)} ms, delivered ${w.delivered}/${w.sent * w.subscribers}${w.keptUp ? "" : ", publisher fell behind"}`;

type BusResult = { fixed: Map<number, Window | string>; maxRate: Window | null; stoppedAt: string };

/** A failed step runs once more: on a shared 2-core machine one noisy neighbour can spoil a window. */
async function rampStep(children: ChildProcess[], publisher: EventBus, target: Target, rate: number): Promise<Window> {
  let w: Window | undefined;
  for (let attempt = 1; attempt <= 2 && !(w && sustained(w)); attempt++) {
    const again = attempt > 1 ? " (again)" : "";
    progress(`${target.kind}: ramp, ${RAMP_SUBSCRIBERS} subscribers at ${rate} ev/s for ${RAMP_WINDOW_S} s${again}...`);
    w = await measure(children, publisher, target, RAMP_SUBSCRIBERS, rate, RAMP_WINDOW_S);
    progress(`  ${describeWindow(w)}`);
  }
  return w as Window;
}

async function benchBus(children: ChildProcess[], target: Target, freeConnections: number): Promise<BusResult> {
  const publisher = createEventBus({ ...target, logger });
  const fixed = new Map<number, Window | string>();
  try {
    for (const subscribers of [1, 10, 100]) {
      if (target.kind === "postgres" && subscribers + 10 > freeConnections) {
        fixed.set(subscribers, `skipped: ${freeConnections} free connections`);
        progress(
          `${target.kind}: ${subscribers} subscribers skipped (only ${freeConnections} free Postgres connections)`,
        );
        continue;
      }
      const label = layoutFor(subscribers).label;
      progress(
        `${target.kind}: ${subscribers} subscribers (${label} processes x buses) at ${RATE} ev/s for ${WINDOW_S} s...`,
      );
      const w = await measure(children, publisher, target, subscribers, RATE, WINDOW_S);
      fixed.set(subscribers, w);
      progress(`  ${describeWindow(w)}`);
    }
    let maxRate: Window | null = null;
    let stoppedAt = `not reached up to ${RAMP.at(-1)} ev/s`;
    for (const rate of RAMP) {
      const w = await rampStep(children, publisher, target, rate);
      if (!sustained(w)) {
        stoppedAt = `${rate} ev/s: ${describeWindow(w)}`;
        break;
      }
      maxRate = w;
    }
    return { fixed, maxRate, stoppedAt };
  } finally {
    await publisher.close();
  }
}

async function startDatabase(): Promise<{ url: string; label: string; stop: () => Promise<void> }> {
  const given = process.env.DATABASE_URL;
  if (given) return { url: given, label: "DATABASE_URL", stop: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), "ringside-bench-pg-"));
  // mkdtemp makes the folder 0700; Postgres runs as its own user and must reach it.
  await chmod(dir, 0o755);
  const db = await startEmbeddedPostgres({ dataDir: join(dir, "data"), persistent: false });
  const stop = async () => {
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  };
  return { url: db.url, label: "embedded Postgres (DATABASE_URL unset)", stop };
}

async function freeConnections(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ free: number }>(
      "SELECT current_setting('max_connections')::int - count(*)::int AS free FROM pg_stat_activity",
    );
    return rows[0]?.free ?? 0;
  } finally {
    await client.end();
  }
}

function cell(result: BusResult | undefined, subscribers: number): string {
  const w = result?.fixed.get(subscribers);
  if (w === undefined || typeof w === "string") return w ?? "skipped: REDIS_URL is not set";
  const lost = w.sent * w.subscribers - w.delivered;
  return `${ms(w.p50)} / ${ms(w.p90)} / ${ms(w.p99)}${lost > 0 ? ` (${lost} late or lost)` : ""}`;
}

function maxCell(result: BusResult | undefined): string {
  if (!result) return "skipped: REDIS_URL is not set";
  const best = result.maxRate ? `${result.maxRate.rate} ev/s (p99 ${ms(result.maxRate.p99)} ms)` : "none";
  return `${best}; failed at ${result.stoppedAt}`;
}

function printTable(results: Partial<Record<Kind, BusResult>>): void {
  console.log("\n| scenario (processes x buses) | Postgres LISTEN/NOTIFY | Redis pub/sub |\n|---|---|---|");
  for (const n of [1, 10, 100]) {
    const scenario = `p50 / p90 / p99 ms, ${n} subscribers (${layoutFor(n).label}) @ ${RATE} ev/s`;
    console.log(`| ${scenario} | ${cell(results.postgres, n)} | ${cell(results.redis, n)} |`);
  }
  const ramp = `highest sustained rate, ${RAMP_SUBSCRIBERS} subscribers`;
  console.log(`| ${ramp} | ${maxCell(results.postgres)} | ${maxCell(results.redis)} |`);
  const pg10 = results.postgres?.fixed.get(10);
  const met = typeof pg10 === "object" && pg10.p99 < 5 && sustained(pg10);
  console.log(`\nTarget "Postgres p99 < 5 ms at 1,000 events/s with 10 subscribers": ${met ? "met" : "not met"}`);
  console.log(
    `Sustained: all delivered within ${DELIVERY_GRACE_MS} ms of the window's end, p99 <= ${P99_LIMIT_MS} ms.`,
  );
}

async function main(): Promise<void> {
  const started = now();
  const database = await startDatabase();
  const schema = `bench_bus_${randomBytes(4).toString("hex")}`;
  progress(`Postgres: ${database.label}; schema ${schema}; ${cpus().length} CPUs, ${loadAverage()}`);
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) progress("Redis: skipped, REDIS_URL is not set (set it to compare Postgres with Redis)");
  await migrate(database.url, schema);
  progress(`starting ${PROCESSES} subscriber processes`);
  const children = startSubscribers();
  const results: Partial<Record<Kind, BusResult>> = {};
  try {
    const free = await freeConnections(database.url);
    results.postgres = await benchBus(children, { kind: "postgres", databaseUrl: database.url, schema }, free);
    if (redisUrl)
      results.redis = await benchBus(children, { kind: "redis", databaseUrl: database.url, redisUrl, schema }, free);
    printTable(results);
  } finally {
    await Promise.all(children.map(stopSubscriber));
    await dropSchema(database.url, schema);
    await database.stop();
  }
  progress(`done in ${((now() - started) / 1000).toFixed(0)} s; ${loadAverage()}`);
}

if (process.argv.includes("--subscriber")) {
  await runSubscriber();
} else {
  await main();
}
