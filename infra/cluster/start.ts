import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { DEV_ADMIN_TOKEN, DEV_TOKEN_SECRET, DEVELOPMENT_ENV } from "../../shared/config.js";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "../../shared/db/embedded.js";
import { migrate } from "../../shared/db/migrate.js";
import { formatLogLine } from "./log-format.js";

/**
 * `npm start`: the whole cluster on one machine. Embedded Postgres when
 * DATABASE_URL is unset (data kept in .data/pg), migrations, three nodes and
 * one balancer as separate processes, one URL printed. A node that dies (the
 * failover drill SIGKILLs them) is started again after a second, as an
 * orchestrator would. Ctrl-C stops everything and leaves no process behind.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const STATE_FILE = `${ROOT}.data/cluster.json`;
const NODE_COUNT = Number(process.env.RINGSIDE_NODES ?? 3);
const BALANCER_PORT = Number(process.env.PORT ?? 4000);
const RESTART_DELAY_MS = 1000;
/**
 * Zero configuration on one machine: the parts get development secrets and
 * limits no local load reaches (shared/config.ts), unless NODE_ENV=production,
 * where every part insists on real secrets from the environment.
 */
const PRODUCTION = process.env.NODE_ENV === "production";
const DEFAULTS: Record<string, string> = PRODUCTION ? {} : { ...DEVELOPMENT_ENV };
/** A member that dies this many times in a row before it ever listens is broken: give up. */
const MAX_FAILED_STARTS = 3;

type Member = {
  name: string;
  kind: "node" | "balancer";
  port: number;
  child: ChildProcess | null;
  restarts: number;
  failedStarts: number;
};

const members: Member[] = [];
let database: EmbeddedDatabase | null = null;
let stopping = false;
/** Written into cluster.json so the drill can read the log without being told where it is. */
let runningDatabaseUrl = "";

function step(text: string): void {
  process.stdout.write(`\x1b[36m▸\x1b[0m ${text}\n`);
}

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

/** Starts one member; resolves once it listens. A member that dies is started again, as an orchestrator would. */
function launch(member: Member, env: Record<string, string>): Promise<void> {
  const entry = member.kind === "node" ? "node/main.ts" : "balancer/main.ts";
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    cwd: ROOT,
    env: { ...DEFAULTS, ...process.env, ...env, PORT: String(member.port), RINGSIDE_EXIT_WITH_PARENT: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  member.child = child;
  let listening = false;
  return new Promise((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => {
        console.log(formatLogLine(member.name, line));
        if (listening || !line.includes('"msg":"listening"')) return;
        listening = true;
        member.failedStarts = 0;
        void writeState();
        resolve();
      });
    }
    child.once("exit", (code, signal) => {
      member.child = null;
      void writeState();
      // Exit code 0 is a drained node leaving on purpose: only crashes and kills are restarted.
      if (stopping || code === 0) {
        if (!stopping) step(`${member.name} left the cluster (drained)`);
        return resolve();
      }
      if (!listening && ++member.failedStarts >= MAX_FAILED_STARTS) {
        return reject(new Error(`${member.name} failed to start ${MAX_FAILED_STARTS} times in a row`));
      }
      step(`${member.name} exited (${signal ?? code}); starting it again in ${RESTART_DELAY_MS} ms`);
      member.restarts++;
      setTimeout(() => {
        if (stopping) return resolve();
        launch(member, env).then(resolve, reject);
      }, RESTART_DELAY_MS);
    });
  });
}

/** .data/cluster.json: what the ops CLI and the drill need to find (and kill) the processes. */
async function writeState(): Promise<void> {
  if (stopping) return;
  const state = {
    balancer: `http://127.0.0.1:${BALANCER_PORT}`,
    schema: process.env.RINGSIDE_SCHEMA ?? "ringside",
    databaseUrl: runningDatabaseUrl,
    members: members.map((m) => ({ name: m.name, kind: m.kind, port: m.port, pid: m.child?.pid ?? null })),
  };
  await writeFile(STATE_FILE, JSON.stringify(state, null, 2)).catch((err) =>
    step(`could not write ${STATE_FILE}: ${err}`),
  );
}

async function stopAll(exitCode = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  step("stopping the cluster ...");
  await Promise.all(
    members.map(
      (m) =>
        new Promise<void>((resolve) => {
          if (!m.child) return resolve();
          const child = m.child;
          const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          // SIGINT: the whole local cluster stops, so no node hands lobbies to another (SIGTERM would drain).
          child.kill("SIGINT");
        }),
    ),
  );
  if (database) await database.stop();
  await rm(STATE_FILE, { force: true });
  step("stopped");
  process.exit(exitCode);
}

async function main(): Promise<void> {
  await mkdir(`${ROOT}.data`, { recursive: true });
  process.on("SIGINT", () => void stopAll());
  process.on("SIGTERM", () => void stopAll());
  const databaseUrl = await startDatabase();
  runningDatabaseUrl = databaseUrl;
  const schema = process.env.RINGSIDE_SCHEMA ?? "ringside";
  step(`migrating schema "${schema}" ...`);
  await migrate(databaseUrl, schema);
  const env = { DATABASE_URL: databaseUrl, RINGSIDE_SCHEMA: schema };
  for (let i = 1; i <= NODE_COUNT; i++) {
    members.push({
      name: `node-${i}`,
      kind: "node",
      port: BALANCER_PORT + i,
      child: null,
      restarts: 0,
      failedStarts: 0,
    });
  }
  step(`starting ${NODE_COUNT} nodes ...`);
  await Promise.all(members.map((m) => launch(m, { ...env, NODE_ID: m.name })));
  const balancer: Member = {
    name: "balancer",
    kind: "balancer",
    port: BALANCER_PORT,
    child: null,
    restarts: 0,
    failedStarts: 0,
  };
  members.push(balancer);
  step("starting the balancer ...");
  await launch(balancer, env);
  printBanner();
}

function printBanner(): void {
  const admin = process.env.RINGSIDE_ADMIN_TOKEN ?? DEV_ADMIN_TOKEN;
  const url = `http://127.0.0.1:${BALANCER_PORT}`;
  const mode = PRODUCTION
    ? "NODE_ENV=production: secrets from the environment, production limits"
    : "development (RINGSIDE_DEV=1): development secrets unless set, per-client limits raised";
  console.log(`
\x1b[1mRingside is up\x1b[0m: ${NODE_COUNT} nodes behind one balancer.

  Mode          ${mode}
  URL           ${url}
  Ops dashboard ${url}/ops   (admin token below)
  Admin token   ${admin}${process.env.RINGSIDE_ADMIN_TOKEN ? "" : "   (development default: set RINGSIDE_ADMIN_TOKEN in production)"}
  Token secret  ${process.env.RINGSIDE_TOKEN_SECRET ? "(from RINGSIDE_TOKEN_SECRET)" : `${DEV_TOKEN_SECRET}   (development default: set RINGSIDE_TOKEN_SECRET)`}

  Try: curl -X POST ${url}/api/lobbies -H 'content-type: application/json' -d '{"name":"alice"}'
  Drill: npm run drill      Ring: npm run ops -- ring      Ctrl-C stops everything.
`);
}

main().catch(async (err) => {
  console.error(`\x1b[31m✗\x1b[0m ${err instanceof Error ? err.message : String(err)}`);
  await stopAll(1);
});
