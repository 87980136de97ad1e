import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { RingsideApi } from "../../shared/client/index.js";
import { createPool } from "../../shared/db/pool.js";
import { progress } from "./bench-kit.js";
import type { Player, WorkerCommand, WorkerReply } from "./connections-worker.js";

/** The pieces of `bench:connections` around the run: the fd budget, lobbies, load processes, ownership. */

/** File descriptors a process keeps for itself beyond its connections (Postgres, listeners, stdio). */
const FD_RESERVE = 400;
const WORKER = fileURLToPath(new URL("./connections-worker.ts", import.meta.url));

export function hardFdLimit(): number {
  try {
    return Number(execFileSync("sh", ["-c", "ulimit -Hn"], { encoding: "utf8" }).trim()) || 1024;
  } catch {
    return 1024;
  }
}

/** How many lobbies fit the fd limit, and how many balancers are needed for them. */
export function plan(
  wanted: number,
  limit: number,
  players: number,
): { lobbies: number; balancers: number; capped: boolean } {
  const perNode = Math.floor((limit - FD_RESERVE) / players);
  const lobbies = Math.min(wanted, perNode);
  const balancers = Math.max(1, Math.ceil((2 * lobbies * players) / (limit - FD_RESERVE)));
  return { lobbies, balancers, capped: lobbies < wanted };
}

export class Worker {
  private readonly child: ChildProcess;
  private waiting: ((r: WorkerReply) => void) | null = null;
  readonly ready: Promise<void>;

  constructor() {
    this.child = spawn(process.execPath, ["--import", "tsx", WORKER], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.ready = new Promise((resolve) => {
      this.waiting = () => resolve();
    });
    this.child.on("message", (r: WorkerReply) => this.waiting?.(r));
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  ask<T extends WorkerReply>(command: WorkerCommand): Promise<T> {
    return new Promise((resolve) => {
      this.waiting = (r) => resolve(r as T);
      this.child.send(command);
    });
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }
}

export async function createLobbies(api: RingsideApi, count: number, players: number): Promise<Player[][]> {
  const lobbies: Player[][] = [];
  let done = 0;
  const lane = async () => {
    while (lobbies.length + done < count) {
      done++;
      const host = await api.createLobby("host");
      const lobby = [{ code: host.code, token: host.token, base: "" }];
      for (let p = 1; p < players; p++) {
        const joined = await api.joinLobby(host.code, `p${p}`);
        lobby.push({ code: host.code, token: joined.token, base: "" });
      }
      lobbies.push(lobby);
      done--;
      if (lobbies.length % 250 === 0) progress(`${lobbies.length} lobbies created`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
  return lobbies;
}

/** Which node owns how many lobbies (all should be n1's: the figures per connection assume it). */
export async function ownersOf(url: string, schema: string): Promise<Record<string, number>> {
  const pool = createPool(url, schema, 1);
  try {
    const { rows } = await pool.query<{ owner: string | null; n: number }>(
      "SELECT owner_node AS owner, count(*)::int AS n FROM lobbies GROUP BY 1",
    );
    return Object.fromEntries(rows.map((r) => [r.owner ?? "none", r.n]));
  } finally {
    await pool.end();
  }
}
