import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { DEV_ADMIN_TOKEN, DEV_TOKEN_SECRET, DEVELOPMENT_ENV } from "../../shared/config.js";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "../../shared/db/embedded.js";
import { migrate } from "../../shared/db/migrate.js";
import { type ClusterControl, ControlError, type ControlServer, startControlApi } from "./control-api.js";
import { Supervisor } from "./members.js";
import { TcpProxy } from "./tcp-proxy.js";

/**
 * `npm start`: the whole cluster on one machine. Embedded Postgres when
 * DATABASE_URL is unset (data kept in .data/pg), migrations, three nodes and
 * one balancer as separate processes, one URL printed. A node that dies (the
 * failover drill SIGKILLs them) is started again after a second, as an
 * orchestrator would (members.ts). A control API on 127.0.0.1 (control-api.ts)
 * signals and restarts members and, with RINGSIDE_PG_PROXY=1, stalls the
 * nodes' Postgres through a TCP proxy: `npm run chaos` drives it. Ctrl-C
 * stops everything and leaves no process behind.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** RINGSIDE_CLUSTER_FILE: where to write the state (the chaos soak's own cluster keeps out of .data/cluster.json). */
const STATE_FILE = process.env.RINGSIDE_CLUSTER_FILE || `${ROOT}.data/cluster.json`;
const NODE_COUNT = Number(process.env.RINGSIDE_NODES ?? 3);
/** 0: every member (and the control API) on a free port, as the chaos test runs it. */
const BALANCER_PORT = Number(process.env.PORT ?? 4000);
const CONTROL_PORT = Number(process.env.RINGSIDE_CONTROL_PORT ?? (BALANCER_PORT ? BALANCER_PORT + 90 : 0));
/** Nodes reach Postgres through a TCP proxy the control API can stall (only for chaos: it costs a hop). */
const PG_PROXY = ["1", "true", "yes", "on"].includes(process.env.RINGSIDE_PG_PROXY ?? "");
/**
 * Zero configuration on one machine: the parts get development secrets and
 * limits no local load reaches (shared/config.ts), unless NODE_ENV=production,
 * where every part insists on real secrets from the environment.
 */
const PRODUCTION = process.env.NODE_ENV === "production";
const DEFAULTS: Record<string, string> = PRODUCTION ? {} : { ...DEVELOPMENT_ENV };
const ADMIN_TOKEN = process.env.RINGSIDE_ADMIN_TOKEN ?? (PRODUCTION ? "" : DEV_ADMIN_TOKEN);

let database: EmbeddedDatabase | null = null;
let proxy: TcpProxy | null = null;
let control: ControlServer | null = null;
let stopping = false;
/** Written into cluster.json so the drill can read the log without being told where it is. */
let runningDatabaseUrl = "";

function step(text: string): void {
  process.stdout.write(`\x1b[36m▸\x1b[0m ${text}\n`);
}

const supervisor = new Supervisor({
  baseEnv: { ...DEFAULTS, ...(process.env as Record<string, string>) },
  step,
  changed: () => void writeState(),
});

async function startDatabase(): Promise<string> {
  if (process.env.DATABASE_URL) {
    step("using DATABASE_URL");
    return process.env.DATABASE_URL;
  }
  step("DATABASE_URL is unset: starting embedded Postgres (data in .data/pg) ...");
  const started = Date.now();
  database = await startEmbeddedPostgres({ dataDir: `${ROOT}.data/pg`, port: 54329, persistent: true });
  step(`Postgres ready in ${Date.now() - started} ms at ${database.url}`);
  return database.url;
}

function balancerUrl(): string {
  const balancer = supervisor.members.find((m) => m.kind === "balancer");
  return `http://127.0.0.1:${balancer?.port ?? BALANCER_PORT}`;
}

let stateWritten: Promise<void> = Promise.resolve();

/** One write at a time, in order: a reader must never see an older state after a newer one. */
function writeState(): Promise<void> {
  stateWritten = stateWritten.then(writeStateNow);
  return stateWritten;
}

/** cluster.json: what the ops CLI, the drill and the chaos soak need to find (and kill) the processes. */
async function writeStateNow(): Promise<void> {
  if (stopping) return;
  const state = {
    balancer: balancerUrl(),
    schema: process.env.RINGSIDE_SCHEMA ?? "ringside",
    databaseUrl: runningDatabaseUrl,
    control: control?.url ?? null,
    members: supervisor.members.map((m) => ({ ...supervisor.view(m) })),
  };
  // Written aside, then renamed: a reader never sees half a file.
  await writeFile(`${STATE_FILE}.tmp`, JSON.stringify(state, null, 2))
    .then(() => rename(`${STATE_FILE}.tmp`, STATE_FILE))
    .catch((err) => step(`could not write ${STATE_FILE}: ${err}`));
}

async function stopAll(exitCode = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  step("stopping the cluster ...");
  await supervisor.stopAll();
  await control?.close();
  await proxy?.close();
  if (database) await database.stop();
  await rm(STATE_FILE, { force: true });
  step("stopped");
  process.exit(exitCode);
}

/** The nodes' Postgres URL: through the stallable proxy with RINGSIDE_PG_PROXY=1, else the database itself. */
async function nodesDatabaseUrl(url: string): Promise<string> {
  if (!PG_PROXY) return url;
  const proxied = await TcpProxy.forUrl(url);
  proxy = proxied.proxy;
  step(`nodes reach Postgres through a stallable TCP proxy on port ${proxy.port} (RINGSIDE_PG_PROXY=1)`);
  return proxied.url;
}

function clusterControl(): ClusterControl {
  return {
    members: () => supervisor.members.map((m) => supervisor.view(m)),
    start: async (name) => {
      const member = supervisor.get(name);
      await supervisor.start(member);
      return supervisor.view(member);
    },
    signal: (name, signal) => {
      const member = supervisor.get(name);
      supervisor.signal(member, signal);
      return supervisor.view(member);
    },
    postgres: () => ({ proxied: proxy !== null, stalled: proxyStalled }),
    setPostgresStalled: (stalled) => {
      if (!proxy) throw new ControlError(409, "no_proxy", "the launcher was started without RINGSIDE_PG_PROXY=1");
      if (stalled) proxy.pause();
      else proxy.resume();
      proxyStalled = stalled;
      step(stalled ? "Postgres stalled for the nodes (control API)" : "Postgres back for the nodes (control API)");
      return { proxied: true, stalled };
    },
  };
}

let proxyStalled = false;

/** Started by the chaos soak (RINGSIDE_EXIT_WITH_PARENT=1): a soak killed mid-run takes its cluster with it. */
function stopWithParent(): void {
  if (process.env.RINGSIDE_EXIT_WITH_PARENT !== "1") return;
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stopAll(1);
  }, 1000).unref();
}

async function main(): Promise<void> {
  stopWithParent();
  await mkdir(dirname(STATE_FILE), { recursive: true });
  process.on("SIGINT", () => void stopAll());
  process.on("SIGTERM", () => void stopAll());
  const databaseUrl = await startDatabase();
  runningDatabaseUrl = databaseUrl;
  const schema = process.env.RINGSIDE_SCHEMA ?? "ringside";
  step(`migrating schema "${schema}" ...`);
  await migrate(databaseUrl, schema);
  const nodeDb = await nodesDatabaseUrl(databaseUrl);
  if (ADMIN_TOKEN) control = await startControl();
  for (let i = 1; i <= NODE_COUNT; i++) {
    const env = { DATABASE_URL: nodeDb, RINGSIDE_SCHEMA: schema, NODE_ID: `node-${i}` };
    supervisor.add(`node-${i}`, "node", BALANCER_PORT ? BALANCER_PORT + i : 0, env);
  }
  step(`starting ${NODE_COUNT} nodes ...`);
  await Promise.all(supervisor.members.map((m) => startMember(m.name)));
  supervisor.add("balancer", "balancer", BALANCER_PORT, { DATABASE_URL: databaseUrl, RINGSIDE_SCHEMA: schema });
  step("starting the balancer ...");
  await startMember("balancer");
  await writeState();
  printBanner();
}

/** The cluster matters more than its remote control: a taken port costs the control API only. */
async function startControl(): Promise<ControlServer | null> {
  try {
    return await startControlApi(clusterControl(), { token: ADMIN_TOKEN, port: CONTROL_PORT });
  } catch (err) {
    step(`control API off: cannot listen on 127.0.0.1:${CONTROL_PORT} (${err}); set RINGSIDE_CONTROL_PORT`);
    return null;
  }
}

function startMember(name: string): Promise<void> {
  return supervisor.start(supervisor.get(name));
}

function printBanner(): void {
  const admin = process.env.RINGSIDE_ADMIN_TOKEN ?? DEV_ADMIN_TOKEN;
  const url = balancerUrl();
  const mode = PRODUCTION
    ? "NODE_ENV=production: secrets from the environment, production limits"
    : "development (RINGSIDE_DEV=1): development secrets unless set, per-client limits raised";
  console.log(`
\x1b[1mRingside is up\x1b[0m: ${NODE_COUNT} nodes behind one balancer.

  Mode          ${mode}
  URL           ${url}
  Ops dashboard ${url}/ops   (admin token below)
  Admin token   ${admin}${process.env.RINGSIDE_ADMIN_TOKEN ? "" : "   (development default: set RINGSIDE_ADMIN_TOKEN in production)"}
  Control API   ${control ? `${control.url}/control   (local only, admin token; npm run chaos uses it)` : "off (no admin token)"}
  Token secret  ${process.env.RINGSIDE_TOKEN_SECRET ? "(from RINGSIDE_TOKEN_SECRET)" : `${DEV_TOKEN_SECRET}   (development default: set RINGSIDE_TOKEN_SECRET)`}

  Try: curl -X POST ${url}/api/lobbies -H 'content-type: application/json' -d '{"name":"alice"}'
  Drill: npm run drill      Ring: npm run ops -- ring      Ctrl-C stops everything.
`);
}

main().catch(async (err) => {
  console.error(`\x1b[31m✗\x1b[0m ${err instanceof Error ? err.message : String(err)}`);
  await stopAll(1);
});
