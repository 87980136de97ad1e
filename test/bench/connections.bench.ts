import { randomBytes } from "node:crypto";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { RingsideApi } from "../../shared/client/index.js";
import { dropSchema, migrate } from "../../shared/db/migrate.js";
import { RingsideProcess } from "../helpers/processes.js";
import { benchDatabase, percentile, printTable, progress, verdict } from "./bench-kit.js";
import { createLobbies, hardFdLimit, ownersOf, plan, Worker } from "./connections-setup.js";
import { cpuOf, loadSummary, upgradeOutcomes } from "./connections-storm.js";
import type { WorkerReply } from "./connections-worker.js";
import { CpuSampler, openFiles, rssKb } from "./proc-stats.js";

/**
 * `npm run bench:connections [-- --lobbies 2500 --players 8]`: many
 * WebSockets held on ONE node through the balancer. The lobbies are created
 * while that node is alone (so they are all its own), then two more nodes
 * join (a join moves no lobby). Measures: node and balancer memory per
 * connection, idle CPU at that count, broadcast latency, and the reconnect
 * storm: SIGKILL the node, time until every player is back on a survivor and
 * has one chat acked (the SDK's jittered backoff included).
 *
 * File descriptors: each process may hold at most `ulimit -Hn` of them. The
 * node needs one per connection, a balancer two; when one balancer cannot
 * hold its share the bench runs several (the balancer tier), and when the
 * node cannot hold them all it says so and runs as many as fit.
 */

const { values } = parseArgs({
  options: {
    lobbies: { type: "string", default: "2500" },
    players: { type: "string", default: "8" },
    workers: { type: "string", default: "4" },
    "idle-seconds": { type: "string", default: "20" },
    "chat-rate": { type: "string", default: "250" },
    "broadcast-seconds": { type: "string", default: "5" },
    "lease-ms": { type: "string", default: "30000" },
  },
});
const PLAYERS = Number(values.players);
const WORKERS = Number(values.workers);
const TARGETS = { nodeKb: 20, balancerKb: 16, p99Ms: 50, stormS: 10, idlePercent: 0.5 };

const NOTABLE =
  /declared dead|self-fencing|marked dead|renewal failed|suspect|could not mark|ring changed|lobby loaded/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const limit = hardFdLimit();
  const { lobbies: lobbyCount, balancers: balancerCount, capped } = plan(Number(values.lobbies), limit, PLAYERS);
  const wanted = Number(values.lobbies) * PLAYERS;
  const total = lobbyCount * PLAYERS;
  const notes: string[] = [];
  if (capped) {
    notes.push(
      `fd limit: ulimit -Hn is ${limit} here and cannot be raised (no CAP_SYS_RESOURCE): one node can hold ` +
        `${total} of the ${wanted} connections asked for`,
    );
  }
  notes.push(
    `client source addresses 127.0.0.2-127.0.0.${WORKERS + 1} (one per load process) against ephemeral-port ` +
      "exhaustion; balancer bN's tunnels to nodes leave from 127.0.N.1 and 127.0.N.2 (BALANCER_SOURCE_ADDRESSES)",
  );
  if (balancerCount > 1)
    notes.push(`${balancerCount} balancers share the clients (a balancer holds 2 fds per connection)`);
  for (const n of notes) progress(n);

  const db = await benchDatabase();
  const schema = `bench_conn_${randomBytes(4).toString("hex")}`;
  await migrate(db.url, schema);
  const env = {
    DATABASE_URL: db.url,
    RINGSIDE_SCHEMA: schema,
    RINGSIDE_BUS: "postgres",
    PORT: "0",
    RINGSIDE_WS_MAX: String(total * 2),
    // The machine is shared and the load generator runs on it: a lease long enough that an overloaded
    // n1 keeps its lobbies. SIGKILL detection does not wait for it (the balancers' probes see the death).
    RINGSIDE_LEASE_MS: values["lease-ms"],
  };
  const procs: RingsideProcess[] = [];
  const workers: Worker[] = [];
  cleanUp = async () => {
    cleanUp = async () => {};
    for (const w of workers) w.kill();
    await Promise.all(procs.map((p) => p.stop()));
    await dropSchema(db.url, schema).catch(() => {});
    await db.stop();
  };
  try {
    progress(`starting node n1 and ${balancerCount} balancer(s) ...`);
    const n1 = new RingsideProcess("node", { ...env, NODE_ID: "n1" });
    procs.push(n1);
    // Membership events, all of them: a storm logs thousands of lines, and `lines` keeps the last 400.
    const keep = (p: RingsideProcess) => {
      p.keepPattern = NOTABLE;
    };
    keep(n1);
    await n1.ready();
    const balancers = Array.from(
      { length: balancerCount },
      (_, i) =>
        new RingsideProcess("balancer", {
          ...env,
          BALANCER_ID: `b${i + 1}`,
          // Past ~14,000 tunnels from one address to one node, Linux's connect() scans for a free port.
          BALANCER_SOURCE_ADDRESSES: `127.0.${i + 1}.1,127.0.${i + 1}.2`,
        }),
    );
    procs.push(...balancers);
    balancers.forEach(keep);
    await Promise.all(balancers.map((b) => b.ready()));
    progress(`creating ${lobbyCount} lobbies x ${PLAYERS} players on n1 ...`);
    const lobbies = await createLobbies(new RingsideApi(balancers[0]?.url as string), lobbyCount, PLAYERS);
    progress("starting n2 and n3 (they take no existing lobby) ...");
    const others = [1, 2].map((i) => new RingsideProcess("node", { ...env, NODE_ID: `n${i + 1}` }));
    procs.push(...others);
    others.forEach(keep);
    await Promise.all(others.map((n) => n.ready()));
    await sleep(3000); // every balancer reads the new ring and n1's lobbies as exceptions to it

    const before = { node: rssKb(n1.pid) ?? 0, balancers: balancers.map((b) => rssKb(b.pid) ?? 0) };
    for (let w = 0; w < WORKERS; w++) workers.push(new Worker());
    await Promise.all(workers.map((w) => w.ready));
    progress(`connecting ${total} WebSockets through the balancer(s), ${WORKERS} load processes ...`);
    const started = performance.now();
    const results = await Promise.all(
      workers.map((worker, w) => {
        const players = lobbies
          .filter((_, i) => i % WORKERS === w)
          .flat()
          .map((p, i) => ({ ...p, base: balancers[i % balancerCount]?.url as string }));
        return worker.ask<Extract<WorkerReply, { type: "connected" }>>({
          type: "connect",
          players,
          sourceAddress: `127.0.0.${w + 2}`,
          concurrency: 64,
        });
      }),
    );
    const connected = results.reduce((s, r) => s + r.ok, 0);
    const connectSeconds = (performance.now() - started) / 1000;
    const failed = results.reduce((s, r) => s + r.failed, 0);
    progress(
      `${connected} connected in ${connectSeconds.toFixed(1)} s (${failed} failed${failed ? `: ${results.find((r) => r.firstError)?.firstError}` : ""})`,
    );
    await sleep(5000);
    const after = { node: rssKb(n1.pid) ?? 0, balancers: balancers.map((b) => rssKb(b.pid) ?? 0) };
    const onN1 = results.reduce((s, r) => s + (r.byNode.n1 ?? 0), 0);
    const nodeKb = (after.node - before.node) / Math.max(1, onN1);
    const balancerKb =
      after.balancers.reduce((s, kb, i) => s + kb - (before.balancers[i] ?? 0), 0) / Math.max(1, connected);
    const owners = await ownersOf(db.url, schema);
    progress(`lobbies by owner: ${JSON.stringify(owners)}`);
    if (onN1 < connected) {
      notes.push(
        `only ${onN1} of ${connected} connections are on n1 (lobbies by owner: ${JSON.stringify(owners)}): ` +
          "n1 lost its lease under load and others claimed its lobbies; memory per connection is n1's growth / its connections",
      );
    }
    progress(`node fds: ${openFiles(n1.pid)}; sampling idle CPU for ${values["idle-seconds"]} s ...`);

    const sampler = new CpuSampler(
      [n1.pid, ...balancers.map((b) => b.pid)],
      db.url,
      Number(new URL(db.url).port || 5432),
    );
    await sampler.begin();
    await sleep(Number(values["idle-seconds"]) * 1000);
    await sampler.end();
    const nodeIdle = sampler.processPercent(n1.pid);
    const balancerIdle = Math.max(...balancers.map((b) => sampler.processPercent(b.pid)));

    const rate = Number(values["chat-rate"]);
    progress(`broadcast: ${rate} chats/s for ${values["broadcast-seconds"]} s, each to ${PLAYERS} players ...`);
    const broadcasts = await Promise.all(
      workers.map((w) =>
        w.ask<Extract<WorkerReply, { type: "broadcast" }>>({
          type: "broadcast",
          chatsPerSecond: rate / WORKERS,
          seconds: Number(values["broadcast-seconds"]),
        }),
      ),
    );
    const latencies = broadcasts.flatMap((b) => b.latencies).sort((a, b) => a - b);

    progress("reconnect storm: SIGKILL n1 ...");
    const storms = workers.map((w) =>
      w.ask<Extract<WorkerReply, { type: "storm" }>>({ type: "storm", victim: "n1", timeoutMs: 120_000 }),
    );
    await sleep(200);
    const groups = {
      survivors: others.map((p) => p.pid),
      balancers: balancers.map((b) => b.pid),
      "load generator": workers.map((w) => w.pid),
      postgres: [],
    };
    const cpuBefore = cpuOf(groups);
    const killedAt = now();
    n1.kill("SIGKILL");
    const stormResults = await Promise.all(storms);
    const stormCpu = cpuOf(groups, cpuBefore);
    const stormWall = (now() - killedAt) / 1000;
    const backMs = stormResults.flatMap((s) => s.ackedAt.map((t) => t - killedAt)).sort((a, b) => a - b);
    const missing = stormResults.reduce((s, r) => s + r.missing, 0);
    const welcomeMs = stormResults.flatMap((s) => s.welcomedAt.map((t) => t - killedAt)).sort((a, b) => a - b);
    const retries = stormResults.reduce((s, r) => s + r.retries, 0);
    const closes = new Map<string, number>();
    for (const r of stormResults)
      for (const [k, n] of Object.entries(r.closes)) closes.set(k, (closes.get(k) ?? 0) + n);
    const closeLines = [...closes.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
    console.log(`\nstorm: why players' connections closed (code reason: count)`);
    for (const [k, n] of closeLines) console.log(`  ${k}: ${n}`);
    const cpuTotal = Object.values(stormCpu).reduce((a, b) => a + b, 0);
    console.log(
      `storm: CPU seconds used until the last player was back (${stormWall.toFixed(1)} s on ${cpus().length} cores): ` +
        `${Object.entries(stormCpu)
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(", ")}; total ${cpuTotal.toFixed(1)} = ${(cpuTotal / cpus().length).toFixed(1)} s of the whole machine`,
    );
    console.log("storm: what the balancers did with upgrades (their /metrics)");
    for (const b of balancers) console.log(`  ${b.env.BALANCER_ID}: ${await upgradeOutcomes(b.url)}`);
    const notable = procs.flatMap((p) =>
      p.kept.filter((l) => !l.includes("lobby loaded")).map((l) => `${p.env.NODE_ID ?? p.env.BALANCER_ID}: ${l}`),
    );
    console.log("storm: lobbies loaded by the survivors (ms: load time; at: after the kill)");
    for (const p of others) console.log(`  ${p.env.NODE_ID}: ${loadSummary(p.kept, killedAt)}`);
    if (notable.length) console.log(`\nmembership events:\n${notable.slice(0, 20).join("\n")}`);
    console.log(`n1 SIGKILLed at ${new Date(killedAt).toISOString()}`);
    const stormS = missing > 0 ? Number.POSITIVE_INFINITY : (backMs.at(-1) ?? 0) / 1000;

    console.log(`\nbench:connections: ${connected} WebSockets on one node (${lobbyCount} lobbies x ${PLAYERS})\n`);
    for (const n of notes) console.log(`note: ${n}`);
    printTable(
      ["measure", "value", "target", "verdict"],
      [
        ["connected / asked", `${connected} / ${wanted}`, `${wanted}`, verdict(connected >= wanted)],
        ["connect rate /s", connected / connectSeconds, "-", "-"],
        ["node RSS per connection KB", nodeKb, `<= ${TARGETS.nodeKb}`, verdict(nodeKb <= TARGETS.nodeKb)],
        [
          "balancer RSS per connection KB",
          balancerKb,
          `<= ${TARGETS.balancerKb}`,
          verdict(balancerKb <= TARGETS.balancerKb),
        ],
        ["node idle CPU %", nodeIdle, "-", "-"],
        ["balancer idle CPU % (busiest)", balancerIdle, "-", "-"],
        ["broadcast p50 ms", percentile(latencies, 50), "-", "-"],
        [
          "broadcast p99 ms",
          percentile(latencies, 99),
          `< ${TARGETS.p99Ms}`,
          verdict(percentile(latencies, 99) < TARGETS.p99Ms),
        ],
        ["broadcast deliveries", latencies.length, "-", "-"],
        ["storm: all back and acked s", stormS, `<= ${TARGETS.stormS}`, verdict(stormS <= TARGETS.stormS)],
        ["storm: p50 back and acked s", percentile(backMs, 50) / 1000, "-", "-"],
        [
          "storm: welcomed again p50 / max s",
          `${(percentile(welcomeMs, 50) / 1000).toFixed(2)} / ${((welcomeMs.at(-1) ?? 0) / 1000).toFixed(2)}`,
          "-",
          "-",
        ],
        ["storm: SDK retries (all players)", retries, "-", "-"],
        ["storm: players on n1 (affected)", backMs.length + missing, "-", "-"],
        ["storm: players not back", missing, "0", verdict(missing === 0)],
      ],
    );
  } finally {
    await cleanUp();
  }
}

let cleanUp = async () => {};

// Ctrl-C: stop every process and drop the schema, as the end of a run does.
process.once("SIGINT", () => {
  progress("interrupted: cleaning up ...");
  void cleanUp().finally(() => process.exit(130));
});

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
