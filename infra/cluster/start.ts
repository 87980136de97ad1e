import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { DEV_ADMIN_TOKEN, DEV_TOKEN_SECRET } from "../../shared/config.js";
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

type Member = { name: string; kind: "node" | "balancer"; port: number; child: ChildProcess | null; restarts: number };

const members: Member[] = [];
let database: EmbeddedDatabase | null = null;
let stopping = false;

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

function launch(member: Member, env: Record<string, string>): Promise<void> {
  const entry = member.kind === "node" ? "node/main.ts" : "balancer/main.ts";
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(member.port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  member.child = child;
  return new Promise((resolve) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => {
        console.log(formatLogLine(member.name, line));
        if (line.includes('"msg":"listening"')) resolve();
      });
    }
    child.once("exit", (code, signal) => {
      resolve();
      member.child = null;
      // Exit code 0 is a drained node leaving on purpose: only crashes and kills are restarted.
      if (stopping || code === 0) {
        if (!stopping) step(`${member.name} left the cluster (drained)`);
        return;
      }
      step(`${member.name} exited (${signal ?? code}); starting it again in ${RESTART_DELAY_MS} ms`);
      member.restarts++;
      setTimeout(() => {
        if (!stopping) void launch(member, env).then(writeState);
      }, RESTART_DELAY_MS);
    });
  });
}

async function writeState(): Promise<void> {
  const state = members.map((m) => ({ name: m.name, kind: m.kind, port: m.port, pid: m.child?.pid ?? null }));
  await writeFile(
    STATE_FILE,
    JSON.stringify({ balancer: `http://127.0.0.1:${BALANCER_PORT}`, members: state }, null, 2),
  );
}

async function stopAll(): Promise<void> {
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
          child.kill("SIGTERM");
        }),
    ),
  );
  if (database) await database.stop();
  await rm(STATE_FILE, { force: true });
  step("stopped");
  process.exit(0);
}

async function main(): Promise<void> {
  await mkdir(`${ROOT}.data`, { recursive: true });
  process.on("SIGINT", () => void stopAll());
  process.on("SIGTERM", () => void stopAll());
  const databaseUrl = await startDatabase();
  const schema = process.env.RINGSIDE_SCHEMA ?? "ringside";
  step(`migrating schema "${schema}" ...`);
  await migrate(databaseUrl, schema);
  const env = { DATABASE_URL: databaseUrl, RINGSIDE_SCHEMA: schema };
  for (let i = 1; i <= NODE_COUNT; i++) {
    members.push({ name: `node-${i}`, kind: "node", port: BALANCER_PORT + i, child: null, restarts: 0 });
  }
  step(`starting ${NODE_COUNT} nodes ...`);
  await Promise.all(members.map((m) => launch(m, { ...env, NODE_ID: m.name })));
  const balancer: Member = { name: "balancer", kind: "balancer", port: BALANCER_PORT, child: null, restarts: 0 };
  members.push(balancer);
  step("starting the balancer ...");
  await launch(balancer, env);
  await writeState();
  printBanner();
}

function printBanner(): void {
  const admin = process.env.RINGSIDE_ADMIN_TOKEN ?? DEV_ADMIN_TOKEN;
  const url = `http://127.0.0.1:${BALANCER_PORT}`;
  console.log(`
\x1b[1mRingside is up\x1b[0m: ${NODE_COUNT} nodes behind one balancer.

  URL           ${url}
  Ops dashboard ${url}/ops   (admin token below)
  Admin token   ${admin}${process.env.RINGSIDE_ADMIN_TOKEN ? "" : "   (development default: set RINGSIDE_ADMIN_TOKEN in production)"}
  Token secret  ${process.env.RINGSIDE_TOKEN_SECRET ? "(from RINGSIDE_TOKEN_SECRET)" : `${DEV_TOKEN_SECRET}   (development default: set RINGSIDE_TOKEN_SECRET)`}

  Try: curl -X POST ${url}/api/lobbies -H 'content-type: application/json' -d '{"name":"alice"}'
  Drill: npm run drill      Ring: npm run ops -- ring      Ctrl-C stops everything.
`);
}

main().catch(async (err) => {
  console.error(err);
  await stopAll();
});
