import { randomBytes } from "node:crypto";
import WebSocket from "ws";
import { dropSchema, migrate } from "../../shared/db/migrate.js";
import { RingsideProcess } from "../helpers/processes.js";
import { benchDatabase, printTable, progress, summarize, verdict } from "./bench-kit.js";

/**
 * `npm run bench:node`: the cost of durability on one node. The same load,
 * 200 lobbies x 4 players sending chat actions, runs against a node with
 * durability off (acks straight from memory: the baseline) and on (acks
 * after the group commit). Two phases each: closed loop (every player keeps
 * one action in flight: the highest ack rate) and open loop at a fixed
 * 2,000 actions/s (ack latency at a realistic load).
 */

const LOBBIES = Number(process.env.BENCH_LOBBIES ?? 200);
const PLAYERS = 4;
const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 5000);
const FIXED_RATE = 2000;

type Client = { ws: WebSocket; sent: Map<string, number>; onAck?: () => void };
type PhaseResult = { rate: number; p50: number; p99: number; acks: number };

async function setUpLobbies(base: string): Promise<{ code: string; token: string }[]> {
  const tokens: { code: string; token: string }[] = [];
  const post = async (path: string, name: string) => {
    const res = await fetch(base + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name }),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { code: string; token: string };
  };
  let next = 0;
  const worker = async () => {
    while (next < LOBBIES) {
      next++;
      const host = await post("/api/lobbies", "host");
      tokens.push(host);
      for (let p = 1; p < PLAYERS; p++)
        tokens.push({ token: (await post(`/api/lobbies/${host.code}/join`, `p${p}`)).token, code: host.code });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return tokens;
}

async function connect(
  wsBase: string,
  players: { code: string; token: string }[],
  latencies: { on: number[] | null },
): Promise<Client[]> {
  return Promise.all(
    players.map(
      (p) =>
        new Promise<Client>((resolve, reject) => {
          const ws = new WebSocket(`${wsBase}/ws/${p.code}?token=${encodeURIComponent(p.token)}`);
          const client: Client = { ws, sent: new Map() };
          ws.on("message", (data) => {
            const text = data.toString();
            if (text.startsWith('{"type":"welcome"')) return resolve(client);
            if (!text.startsWith('{"type":"ack"')) return;
            const { id } = JSON.parse(text) as { id: string };
            const sentAt = client.sent.get(id);
            if (sentAt === undefined) return;
            client.sent.delete(id);
            latencies.on?.push(performance.now() - sentAt);
            client.onAck?.();
          });
          ws.on("error", reject);
        }),
    ),
  );
}

let counter = 0;
function sendChat(client: Client): void {
  const id = (counter++).toString(36);
  client.sent.set(id, performance.now());
  client.ws.send(JSON.stringify({ type: "chat", id, text: "gg" }));
}

/** Every client keeps one action in flight: the highest sustained ack rate. */
async function closedLoop(clients: Client[], latencies: { on: number[] | null }): Promise<PhaseResult> {
  let running = true;
  for (const c of clients) {
    c.onAck = () => {
      if (running) sendChat(c);
    };
  }
  for (const c of clients) sendChat(c);
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  const samples: number[] = [];
  latencies.on = samples;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, PHASE_MS));
  latencies.on = null;
  const seconds = (performance.now() - started) / 1000;
  running = false;
  await drain(clients);
  return { rate: samples.length / seconds, ...summarize(samples), acks: samples.length };
}

/** A fixed rate spread over all clients, whatever the acks do: latency at a given load. */
async function openLoop(clients: Client[], latencies: { on: number[] | null }, rate: number): Promise<PhaseResult> {
  for (const c of clients) c.onAck = undefined;
  const samples: number[] = [];
  latencies.on = samples;
  const tickMs = 5;
  const perTick = (rate * tickMs) / 1000;
  let next = 0;
  let owed = 0;
  const started = performance.now();
  const timer = setInterval(() => {
    const due = ((performance.now() - started) / 1000) * rate;
    owed = due - next;
    for (let i = 0; i < Math.min(owed, perTick * 4); i++, next++) sendChat(clients[next % clients.length] as Client);
  }, tickMs);
  await new Promise((r) => setTimeout(r, PHASE_MS));
  clearInterval(timer);
  await drain(clients);
  latencies.on = null;
  const seconds = (performance.now() - started) / 1000;
  return { rate: samples.length / seconds, ...summarize(samples), acks: samples.length };
}

/** With BENCH_METRICS: how the group commit behaved during the fixed-rate phase alone. */
function printHistogramDelta(before: string, after: string): void {
  const values = (text: string) =>
    new Map(
      text
        .split("\n")
        .filter((l) => (l.startsWith("ringside_commit_") || l.startsWith("nodejs_eventloop_lag")) && !l.startsWith("#"))
        .map((l) => [l.slice(0, l.lastIndexOf(" ")), Number(l.slice(l.lastIndexOf(" ") + 1))] as const),
    );
  const a = values(before);
  for (const [name, value] of values(after)) console.log(`${name} ${value - (a.get(name) ?? 0)}`);
}

async function drain(clients: Client[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (clients.some((c) => c.sent.size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

async function runMode(databaseUrl: string, durable: boolean): Promise<{ closed: PhaseResult; fixed: PhaseResult }> {
  const schema = `bench_node_${randomBytes(3).toString("hex")}`;
  await migrate(databaseUrl, schema);
  const node = new RingsideProcess("node", {
    DATABASE_URL: databaseUrl,
    RINGSIDE_SCHEMA: schema,
    PORT: "0",
    NODE_ID: "bench",
    RINGSIDE_DURABLE: durable ? "1" : "0",
    RINGSIDE_RATE_PER_SECOND: "100000",
    RINGSIDE_RATE_BURST: "100000",
    LOG_LEVEL: "info",
  });
  try {
    await node.ready();
    const label = durable ? "durable" : "in-memory";
    progress(`${label}: creating ${LOBBIES} lobbies x ${PLAYERS} players ...`);
    const players = await setUpLobbies(node.url);
    const latencies: { on: number[] | null } = { on: null };
    const clients = await connect(node.wsUrl, players, latencies);
    progress(`${label}: closed loop, ${clients.length} players, ${PHASE_MS} ms ...`);
    const beforeClosed = process.env.BENCH_METRICS ? await (await fetch(`${node.url}/metrics`)).text() : "";
    const closed = await closedLoop(clients, latencies);
    if (beforeClosed) printHistogramDelta(beforeClosed, await (await fetch(`${node.url}/metrics`)).text());
    progress(`${label}: ${Math.round(closed.rate)} acks/s; open loop at ${FIXED_RATE}/s ...`);
    const before = process.env.BENCH_METRICS ? await (await fetch(`${node.url}/metrics`)).text() : "";
    const fixed = await openLoop(clients, latencies, FIXED_RATE);
    if (before) printHistogramDelta(before, await (await fetch(`${node.url}/metrics`)).text());
    if (process.env.BENCH_METRICS) {
      const text = await (await fetch(`${node.url}/metrics`)).text();
      console.log(
        text
          .split("\n")
          .filter((l) => l.startsWith("ringside_commit"))
          .join("\n"),
      );
    }
    if (process.env.BENCH_DEBUG)
      console.log(
        node.lines
          .filter((l) => !l.includes('"level":30'))
          .slice(-20)
          .join("\n"),
      );
    for (const c of clients) c.ws.terminate();
    return { closed, fixed };
  } finally {
    await node.stop();
    await dropSchema(databaseUrl, schema).catch(() => {});
  }
}

function emptyResult(): { closed: PhaseResult; fixed: PhaseResult } {
  const none = { rate: Number.NaN, p50: Number.NaN, p99: Number.NaN, acks: 0 };
  return { closed: none, fixed: none };
}

async function main(): Promise<void> {
  const db = await benchDatabase();
  try {
    const only = process.env.BENCH_ONLY;
    const memory = only === "durable" ? emptyResult() : await runMode(db.url, false);
    const durable = only === "memory" ? emptyResult() : await runMode(db.url, true);
    console.log(`\nbench:node — ${LOBBIES} lobbies x ${PLAYERS} players, chat actions, one node\n`);
    const row = (name: string, r: { closed: PhaseResult; fixed: PhaseResult }) => [
      name,
      r.closed.rate,
      r.closed.p50,
      r.closed.p99,
      r.fixed.rate,
      r.fixed.p50,
      r.fixed.p99,
    ];
    printTable(
      ["mode", "max acks/s", "p50 ms", "p99 ms", `acks/s @${FIXED_RATE}/s`, "p50 ms", "p99 ms"],
      [row("in-memory (baseline)", memory), row("durable (Postgres)", durable)],
    );
    const ratio = durable.closed.rate / memory.closed.rate;
    console.log(`\ndurable / in-memory throughput: ${ratio.toFixed(2)}  (target >= 0.5: ${verdict(ratio >= 0.5)})`);
    console.log(
      `durable ack p99 at ${FIXED_RATE} actions/s: ${durable.fixed.p99.toFixed(2)} ms  (target < 10 ms: ${verdict(durable.fixed.p99 < 10)})`,
    );
  } finally {
    await db.stop();
  }
}

await main();
