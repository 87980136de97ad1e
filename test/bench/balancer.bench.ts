import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net, { type AddressInfo } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { dropSchema, migrate } from "../../shared/db/migrate.js";
import { generateLobbyCode } from "../../shared/lobby-code.js";
import { RingsideProcess } from "../helpers/processes.js";
import { httpLoad, type Lobby, type Tally, type Way, wsLoad } from "./balancer-load.js";
import { ringQuality } from "./balancer-ring.js";
import { benchDatabase, printTable, progress, summarize, verdict } from "./bench-kit.js";

/**
 * `npm run bench:balancer`: what the balancer costs. The same load runs three
 * ways against the same two game nodes and the same lobbies: straight to the
 * owning node (the floor), through the Ringside balancer, and through HAProxy
 * hashing on the lobby code (infra/haproxy). WebSocket: every player keeps
 * one chat action in flight (round trip = send -> durable ack). HTTP:
 * GET /api/lobbies/:code on keep-alive connections, 50 at a time. Then the
 * ring's quality, from shared/ring.ts alone.
 */

const NODES = 2;
const LOBBIES = Number(process.env.BENCH_LOBBIES ?? 50);
const PLAYERS = 2;
// Each way runs ROUNDS times, in a rotated order, so that no way always
// comes first or last (the machine warms up and drifts during a run).
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WS_MS = Number(process.env.BENCH_PHASE_MS ?? 2000);
const HTTP_MS = Number(process.env.BENCH_HTTP_MS ?? 1500);
const HTTP_CONCURRENCY = 50;
/** Lobby GETs per second through the balancer when issue 11 was filed (same machine): the target is 5 x that. */
const ISSUE_11_GET_RATE = 1100;
const TEMPLATE = new URL("../../infra/haproxy/haproxy.cfg.template", import.meta.url);

type WsResult = { rate: number; p50: number; p99: number };
type HttpResult = { rate: number; errors: number; cpuUsPerRequest: number };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The fields this bench reads from node and balancer answers. */
type Answer = {
  status: number;
  node: string | null;
  body: { code?: string; token?: string; members?: unknown[] } | null;
};

async function json(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, node: res.headers.get("x-ringside-node"), body: text ? JSON.parse(text) : null };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function startHaproxy(
  nodes: Map<string, string>,
): Promise<{ proc: ChildProcess; url: string; dir: string } | null> {
  try {
    execFileSync("which", ["haproxy"], { stdio: "ignore" });
  } catch {
    return null;
  }
  const dir = await mkdtemp(join(tmpdir(), "ringside-haproxy-"));
  const port = await freePort();
  const servers = [...nodes].map(([id, url]) => `  server ${id} ${new URL(url).host} check`).join("\n");
  const cfg = (await readFile(TEMPLATE, "utf8"))
    .replace("{{BIND}}", `127.0.0.1:${port}`)
    .replace("{{SERVERS}}", servers);
  await writeFile(join(dir, "haproxy.cfg"), cfg);
  const proc = spawn("haproxy", ["-f", join(dir, "haproxy.cfg"), "-db"], { stdio: ["ignore", "ignore", "pipe"] });
  const url = `http://127.0.0.1:${port}`;
  // Up when every backend passed its health checks: each answers a round of directory requests.
  for (let i = 0; i < 100; i++) {
    const seen = new Set<string>();
    for (let j = 0; j < 4 * NODES; j++)
      seen.add((await json(`${url}/api/lobbies`).catch(() => ({ node: null }))).node ?? "");
    if ([...nodes.keys()].every((id) => seen.has(id))) return { proc, url, dir };
    await sleep(100);
  }
  throw new Error("haproxy did not come up");
}

/** Lobbies on the node HAProxy picks for their code (or the ring owner without HAProxy), 2 players each. */
async function createLobbies(nodes: Map<string, string>, balancer: string, haproxy: string | null): Promise<Lobby[]> {
  const lobbies: Lobby[] = [];
  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    json(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  while (lobbies.length < LOBBIES) {
    let code = generateLobbyCode();
    let owner: string;
    let tokens: string[];
    if (haproxy) {
      // An unknown code through HAProxy: the node that answers is where HAProxy sends this code.
      owner = (await json(`${haproxy}/api/lobbies/${code}`)).node ?? "";
      const base = nodes.get(owner);
      if (!base) throw new Error(`haproxy answered from unknown node ${owner}`);
      const host = await post(`${base}/api/lobbies`, { name: "host" }, { "x-ringside-code": code });
      if (host.status !== 201) continue;
      tokens = [host.body?.token ?? ""];
    } else {
      const host = await post(`${balancer}/api/lobbies`, { name: "host" });
      code = host.body?.code ?? "";
      owner = host.node ?? "";
      tokens = [host.body?.token ?? ""];
    }
    for (let p = 1; p < PLAYERS; p++)
      tokens.push((await post(`${nodes.get(owner)}/api/lobbies/${code}/join`, { name: `p${p}` })).body?.token ?? "");
    lobbies.push({ code, owner, tokens });
  }
  return lobbies;
}

/** Waits until the balancer sends every lobby to its owner (it learns exceptions within about a second). */
async function awaitBalancerRoutes(balancer: string, lobbies: Lobby[]): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const answers = await Promise.all(lobbies.map((l) => json(`${balancer}/api/lobbies/${l.code}`)));
    if (answers.every((a, i) => a.status === 200 && a.node === lobbies[i]?.owner)) return;
    await sleep(200);
  }
  throw new Error("the balancer does not route every lobby to its owner");
}

async function main(): Promise<void> {
  const started = Date.now();
  const db = await benchDatabase();
  const schema = `bench_balancer_${randomBytes(3).toString("hex")}`;
  await migrate(db.url, schema);
  const env = { DATABASE_URL: db.url, RINGSIDE_SCHEMA: schema, RINGSIDE_BUS: "postgres", PORT: "0" };
  const procs: RingsideProcess[] = [];
  let haproxy: Awaited<ReturnType<typeof startHaproxy>> = null;
  const cleanup = async () => {
    haproxy?.proc.kill("SIGTERM");
    await Promise.all(procs.map((p) => p.stop()));
    if (haproxy) await rm(haproxy.dir, { recursive: true, force: true });
    await dropSchema(db.url, schema).catch(() => {});
    await db.stop();
  };
  process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));
  try {
    progress(`starting ${NODES} game nodes and a balancer ...`);
    const nodes = new Map<string, string>();
    for (let i = 1; i <= NODES; i++) {
      const id = `bench-n${i}`;
      const node = new RingsideProcess("node", {
        ...env,
        NODE_ID: id,
        RINGSIDE_RATE_PER_SECOND: "100000",
        RINGSIDE_RATE_BURST: "100000",
      });
      procs.push(node);
      await node.ready();
      nodes.set(id, node.url);
    }
    const balancer = new RingsideProcess("balancer", { ...env, LOG_LEVEL: "warn" });
    procs.push(balancer);
    await balancer.ready();
    for (
      let i = 0;
      i < 100 && (await json(`${balancer.url}/admin/ring`, adminAuth())).body?.members?.length !== NODES;
      i++
    )
      await sleep(100);
    haproxy = await startHaproxy(nodes);
    if (!haproxy) console.log("HAProxy: not installed (apt-get install haproxy) — skipped");
    progress(`creating ${LOBBIES} lobbies x ${PLAYERS} players${haproxy ? " where HAProxy places them" : ""} ...`);
    const lobbies = await createLobbies(nodes, balancer.url, haproxy?.url ?? null);
    await awaitBalancerRoutes(balancer.url, lobbies);

    const ways: Way[] = [
      { name: "direct to node", base: (owner) => nodes.get(owner) ?? "" },
      { name: "Ringside balancer", base: () => balancer.url, proxyPid: balancer.pid },
    ];
    if (haproxy) ways.push({ name: "HAProxy", base: () => haproxy?.url ?? "", proxyPid: haproxy.proc.pid });
    const tallies = new Map<string, Tally>(
      ways.map((w) => [w.name, { samples: [], wsSeconds: 0, ok: 0, errors: 0, httpSeconds: 0, proxyCpuMs: 0 }]),
    );
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < ways.length; i++) {
        const way = ways[(round + i) % ways.length] as Way;
        const tally = tallies.get(way.name) as Tally;
        progress(`round ${round + 1}/${ROUNDS}, ${way.name}: WebSocket chat, then HTTP GET ...`);
        await wsLoad(way, lobbies, tally, WS_MS);
        await httpLoad(way, lobbies, tally, HTTP_MS, HTTP_CONCURRENCY);
      }
    }
    const results = new Map<string, { ws: WsResult; http: HttpResult }>();
    for (const [name, t] of tallies) {
      const { p50, p99 } = summarize(t.samples);
      results.set(name, {
        ws: { rate: t.samples.length / t.wsSeconds, p50, p99 },
        http: { rate: t.ok / t.httpSeconds, errors: t.errors, cpuUsPerRequest: (t.proxyCpuMs * 1000) / t.ok },
      });
    }
    printLoad(results);
    progress("ring quality (100,000 random codes) ...");
    ringQuality();
    const load = loadavg()[0]?.toFixed(1);
    console.log(
      `\n(total ${((Date.now() - started) / 1000).toFixed(0)} s on ${cpus().length} cores, load average ${load}; ` +
        "nodes, Postgres, balancer, HAProxy and the load generator share them: compare rows of one run, not runs)",
    );
  } finally {
    await cleanup();
  }
}

function adminAuth(): RequestInit {
  return { headers: { authorization: `Bearer ${process.env.RINGSIDE_ADMIN_TOKEN ?? "dev-admin-token"}` } };
}

function printLoad(results: Map<string, { ws: WsResult; http: HttpResult }>): void {
  console.log(
    `\nLoad: same lobbies, same clients, three ways (${ROUNDS} rounds in rotated order; ` +
      `per round ${WS_MS / 1000} s WebSocket with ${LOBBIES * PLAYERS} players, ${HTTP_MS / 1000} s HTTP with ${HTTP_CONCURRENCY} concurrent)`,
  );
  printTable(
    ["path", "WS msgs/s", "WS p50 ms", "WS p99 ms", "HTTP req/s", "HTTP errors", "proxy CPU us/req"],
    [...results].map(([name, r]) => [
      name,
      r.ws.rate,
      r.ws.p50.toFixed(3),
      r.ws.p99.toFixed(3),
      r.http.rate,
      String(r.http.errors),
      Number.isFinite(r.http.cpuUsPerRequest) && r.http.cpuUsPerRequest > 0 ? Math.round(r.http.cpuUsPerRequest) : "-",
    ]),
  );
  const direct = results.get("direct to node");
  const ours = results.get("Ringside balancer");
  const hap = results.get("HAProxy");
  if (!direct || !ours) return;
  const rows: (string | number)[][] = [
    [
      `lobby GET via balancer >= 5 x ${ISSUE_11_GET_RATE}/s`,
      `${Math.round(ours.http.rate)}/s (${(ours.http.rate / ISSUE_11_GET_RATE).toFixed(2)} x)`,
      verdict(ours.http.rate >= 5 * ISSUE_11_GET_RATE),
    ],
    [
      "WS p50 <= direct + 0.2 ms",
      `${ours.ws.p50.toFixed(3)} vs ${(direct.ws.p50 + 0.2).toFixed(3)}`,
      verdict(ours.ws.p50 <= direct.ws.p50 + 0.2),
    ],
  ];
  if (hap) {
    rows.unshift([
      "WS msgs/s >= 0.9 x HAProxy",
      `${(ours.ws.rate / hap.ws.rate).toFixed(2)} x`,
      verdict(ours.ws.rate >= 0.9 * hap.ws.rate),
    ]);
    rows.push([
      "HTTP req/s >= 0.5 x HAProxy",
      `${(ours.http.rate / hap.http.rate).toFixed(2)} x`,
      verdict(ours.http.rate >= 0.5 * hap.http.rate),
    ]);
  } else {
    rows.unshift(["WS msgs/s >= 0.9 x HAProxy", "HAProxy skipped", "n/a"]);
    rows.push(["HTTP req/s >= 0.5 x HAProxy", "HAProxy skipped", "n/a"]);
  }
  console.log("\nTargets (load)");
  printTable(["target", "measured", "verdict"], rows);
}

await main();
