import { cpus, loadavg } from "node:os";
import { benchDatabase, cpuMsOf, printTable, progress, summarize, verdict } from "./bench-kit.js";
import { type BenchCluster, CommitProbe, NODES, startBenchCluster } from "./chat-cluster.js";
import { ChatSocket, createPlayers, creations, roundTrips, throughput } from "./chat-load.js";

/**
 * `npm run bench:chat`: what durability costs a chat, through the balancer
 * in front of 3 nodes. Two clusters run side by side on the same Postgres,
 * one durable and one with RINGSIDE_DURABLE=0 (acks from memory), and take
 * turns, round after round, in alternating order. Each turn measures
 * sequential round trips (send a chat, wait for its broadcast), the loaded
 * rate (LOBBIES sockets with IN_FLIGHT chats each outstanding) and lobby
 * creation (CREATORS concurrent clients). A single-row INSERT + commit on
 * the same Postgres, sampled every round, says what one fsync costs here.
 */

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LOBBIES = Number(process.env.BENCH_LOBBIES ?? 50);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 16);
const LOAD_MS = Number(process.env.BENCH_PHASE_MS ?? 10_000);
const ROUND_TRIPS = Number(process.env.BENCH_ROUND_TRIPS ?? 500);
const CREATORS = 16;
const CREATE_MS = Number(process.env.BENCH_CREATE_MS ?? 3000);
const PROBES = 200;

type Tally = {
  rtt: number[];
  done: number;
  loadSeconds: number;
  /** CPU the 3 nodes and the balancer used during the loaded phases (ms). */
  nodeCpuMs: number;
  balancerCpuMs: number;
  creates: number;
  createSeconds: number;
  failed: number;
};

async function measure(cluster: BenchCluster, tally: Tally): Promise<void> {
  const base = cluster.balancer.url;
  const wsBase = cluster.balancer.wsUrl;
  const [rttPlayer, ...loadPlayers] = await createPlayers(base, LOBBIES + 1);
  const rttSocket = await ChatSocket.open(wsBase, rttPlayer as NonNullable<typeof rttPlayer>);
  progress(`${cluster.label}: ${ROUND_TRIPS} sequential round trips ...`);
  tally.rtt.push(...(await roundTrips(rttSocket, ROUND_TRIPS)));
  await rttSocket.close();
  const sockets = await Promise.all(loadPlayers.map((p) => ChatSocket.open(wsBase, p)));
  progress(`${cluster.label}: ${LOBBIES} lobbies x ${IN_FLIGHT} in flight for ${LOAD_MS / 1000} s ...`);
  const cpu = () => cluster.nodes.reduce((sum, n) => sum + cpuMsOf(n.pid), 0);
  const [nodesBefore, balancerBefore] = [cpu(), cpuMsOf(cluster.balancer.pid)];
  const rate = await throughput(sockets, IN_FLIGHT, LOAD_MS);
  tally.nodeCpuMs += cpu() - nodesBefore;
  tally.balancerCpuMs += cpuMsOf(cluster.balancer.pid) - balancerBefore;
  tally.done += rate * (LOAD_MS / 1000);
  tally.loadSeconds += LOAD_MS / 1000;
  await Promise.all(sockets.map((s) => s.close()));
  progress(`${cluster.label}: ${Math.round(rate)} msgs/s; creating lobbies, ${CREATORS} at a time ...`);
  const created = await creations(base, CREATORS, CREATE_MS);
  tally.creates += created.rate * (CREATE_MS / 1000);
  tally.createSeconds += CREATE_MS / 1000;
  tally.failed += created.failed;
}

function emptyTally(): Tally {
  return { rtt: [], done: 0, loadSeconds: 0, nodeCpuMs: 0, balancerCpuMs: 0, creates: 0, createSeconds: 0, failed: 0 };
}

async function main(): Promise<void> {
  const started = Date.now();
  const db = await benchDatabase();
  const clusters: BenchCluster[] = [];
  let probe: CommitProbe | null = null;
  const cleanup = async () => {
    await Promise.all(clusters.map((c) => c.stop()));
    await probe?.close().catch(() => {});
    await db.stop();
  };
  process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));
  try {
    progress(`starting two clusters (durable and RINGSIDE_DURABLE=0), each a balancer + ${NODES} nodes ...`);
    clusters.push(await startBenchCluster(db.url, true));
    clusters.push(await startBenchCluster(db.url, false));
    probe = await CommitProbe.open(db.url);
    const tallies = new Map(clusters.map((c) => [c.label, emptyTally()]));
    const commits: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      progress(`round ${round + 1}/${ROUNDS}: commit probe (${PROBES} single-row INSERTs) ...`);
      commits.push(...(await probe.sample(PROBES)));
      const order = round % 2 === 0 ? clusters : [...clusters].reverse();
      for (const cluster of order) await measure(cluster, tallies.get(cluster.label) as Tally);
    }
    report(tallies.get("durable") as Tally, tallies.get("in-memory") as Tally, commits);
    for (const cluster of clusters) {
      // A node that lost its lease on an overloaded machine skews its cluster's figures: say so.
      const events = cluster.nodes.flatMap((n) =>
        n.lines.filter((l) => /self-fencing|declared dead|commit failed/.test(l)),
      );
      if (events.length)
        console.log(`\n${cluster.label}: ${events.length} fencing or failed-commit events during the run`);
    }
    console.log(
      `\n(total ${((Date.now() - started) / 1000).toFixed(0)} s on ${cpus().length} cores, load average ` +
        `${loadavg()[0]?.toFixed(1)}; load generator, 8 Ringside processes and Postgres share them: compare rows of one run)`,
    );
  } finally {
    await cleanup();
  }
}

function report(durable: Tally, memory: Tally, commits: number[]): void {
  const commit = summarize(commits);
  const row = (name: string, t: Tally) => {
    const rtt = summarize(t.rtt);
    // CPU over the whole phase (warm-up and drain included) per message counted: an upper bound, alike for both.
    const perMsg = (ms: number) => String(Math.round((ms * 1000) / t.done));
    return [
      name,
      rtt.p50.toFixed(3),
      rtt.p99.toFixed(3),
      t.done / t.loadSeconds,
      perMsg(t.nodeCpuMs),
      perMsg(t.balancerCpuMs),
      t.creates / t.createSeconds,
      String(t.failed),
    ];
  };
  console.log(
    `\nbench:chat — balancer + ${NODES} nodes, ${ROUNDS} rounds alternating; round trip = chat sent -> its broadcast back; ` +
      `load = ${LOBBIES} lobbies x ${IN_FLIGHT} in flight, ${LOAD_MS / 1000} s per round; creates: ${CREATORS} concurrent\n`,
  );
  printTable(
    [
      "mode",
      "round trip p50 ms",
      "p99 ms",
      "msgs/s",
      "nodes CPU us/msg",
      "balancer CPU us/msg",
      "creates/s",
      "create errors",
    ],
    [row("in-memory (RINGSIDE_DURABLE=0)", memory), row("durable (Postgres)", durable)],
  );
  console.log(
    `\nsingle-row INSERT + commit on the same Postgres: p50 ${commit.p50.toFixed(3)} ms, p99 ${commit.p99.toFixed(3)} ms`,
  );
  const ratio = durable.done / durable.loadSeconds / (memory.done / memory.loadSeconds);
  const dP50 = summarize(durable.rtt).p50;
  const bound = summarize(memory.rtt).p50 + 1.5 * commit.p50;
  const createRate = durable.creates / durable.createSeconds;
  console.log("\nTargets");
  printTable(
    ["target", "measured", "verdict"],
    [
      ["durable msgs/s >= 0.8 x in-memory", `${ratio.toFixed(2)} x`, verdict(ratio >= 0.8)],
      [
        "durable p50 <= in-memory p50 + 1.5 x commit p50",
        `${dP50.toFixed(3)} vs ${bound.toFixed(3)} ms`,
        verdict(dP50 <= bound),
      ],
      ["durable creates/s through the balancer >= 1,000", `${Math.round(createRate)}/s`, verdict(createRate >= 1000)],
    ],
  );
}

await main();
