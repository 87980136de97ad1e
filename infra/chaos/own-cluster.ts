import { type ChildProcess, spawn } from "node:child_process";
import { openSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Progress } from "../ops/progress.js";

/**
 * The cluster the soak runs against: `npm start`'s, found through its state
 * file (.data/cluster.json), or with --start one of its own: the same
 * launcher on free ports, its Postgres behind the stallable proxy, its
 * state file in a temporary folder, its log in a file there, kept after the
 * soak (the soak's terminal shows the soak; the log explains a violation). Stopped with SIGINT, as Ctrl-C stops npm start.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DEFAULT_STATE_FILE = join(ROOT, ".data/cluster.json");
const START_TIMEOUT_MS = 120_000;

export type ClusterHandle = {
  balancer: string;
  control: string | null;
  databaseUrl: string | null;
  schema: string;
  /** Where the launcher's own log went (--start only). */
  logFile: string | null;
  stop(): Promise<void>;
};

type StateFile = { balancer?: string; control?: string | null; databaseUrl?: string; schema?: string };

export async function attachCluster(file = DEFAULT_STATE_FILE): Promise<ClusterHandle> {
  const state = await readState(file);
  if (!state?.balancer) {
    throw new Error(`no running cluster: ${file} is missing (run \`npm start\`, or pass --start to start one)`);
  }
  if (!state.control) {
    throw new Error(`${file} names no control API: restart \`npm start\` with this version (or pass --start)`);
  }
  return {
    balancer: state.balancer,
    control: state.control,
    databaseUrl: state.databaseUrl || null,
    schema: state.schema || "ringside",
    logFile: null,
    stop: async () => {},
  };
}

export async function startOwnCluster(env: Record<string, string>, progress: Progress): Promise<ClusterHandle> {
  const dir = await mkdtemp(join(tmpdir(), "ringside-chaos-"));
  const stateFile = join(dir, "cluster.json");
  const logFile = join(dir, "cluster.log");
  progress.phase(`starting a cluster of its own (log: ${logFile})`);
  const out = openSync(logFile, "a");
  const child = spawn(process.execPath, ["--import", "tsx", "infra/cluster/start.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: "0",
      RINGSIDE_PG_PROXY: "1",
      RINGSIDE_CLUSTER_FILE: stateFile,
      RINGSIDE_EXIT_WITH_PARENT: "1",
      ...env,
    },
    stdio: ["ignore", out, out],
  });
  // The log stays (a violation is explained there); only the state file goes.
  const stop = () => stopLauncher(child).then(() => rm(stateFile, { force: true }));
  try {
    const state = await waitForState(stateFile, child, logFile);
    return { ...state, logFile, stop };
  } catch (err) {
    await stopLauncher(child);
    throw err;
  }
}

/** Ready once the banner is printed: the state file then names the balancer with every member running. */
async function waitForState(
  file: string,
  child: ChildProcess,
  logFile: string,
): Promise<Omit<ClusterHandle, "logFile" | "stop">> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the launcher exited (${child.exitCode}); see ${logFile}`);
    const log = await readFile(logFile, "utf8").catch(() => "");
    const state = await readState(file);
    if (log.includes("Ringside is up") && state?.balancer && state.control) {
      return {
        balancer: state.balancer,
        control: state.control,
        databaseUrl: state.databaseUrl || null,
        schema: state.schema || "ringside",
      };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the cluster did not start within ${START_TIMEOUT_MS} ms; see ${logFile}`);
}

async function readState(file: string): Promise<StateFile | null> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as StateFile;
  } catch {
    return null;
  }
}

function stopLauncher(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGINT");
  });
}
