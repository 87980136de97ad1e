import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import pg from "pg";

/**
 * What a process costs, read from /proc (Linux only): CPU time (utime +
 * stime, in clock ticks), resident memory, and which Postgres backends serve
 * its connections (matched by the client port of each TCP socket it holds).
 */

/** Clock ticks per second (`getconf CLK_TCK`); 100 on every Linux we run on. */
const TICKS_PER_SECOND = 100;
const PAGE_KB = 4;

/** CPU seconds the process has used so far, or null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces: the fields we want come after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/**
 * CPU seconds of every postgres process on the machine, including backends
 * that have exited: their time is in the postmaster's reaped-children
 * counters (cutime, cstime). Summing only the live processes went negative
 * when a SIGKILLed node's backends exited between two samples.
 */
export function postgresCpuSeconds(): number {
  const found = spawnSync("pgrep", ["-x", "postgres"], { encoding: "utf8" }).stdout ?? "";
  const pids = new Set(found.split("\n").filter(Boolean).map(Number));
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
      // The postmaster (its parent is not a postgres): add its reaped children's time.
      if (!pids.has(Number(fields[1]))) total += (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
    } catch {
      // gone meanwhile: its time is in the postmaster's counters from now on
    }
  }
  return total;
}

/** Resident set size in KiB, or null when the process is gone. */
export function rssKb(pid: number): number | null {
  try {
    const statm = readFileSync(`/proc/${pid}/statm`, "utf8").split(" ");
    return Number(statm[1]) * PAGE_KB;
  } catch {
    return null;
  }
}

/** The open file descriptors of a process and its limit (for the fd-limit warning). */
export function openFiles(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** Local ports of the TCP connections this process holds to `remotePort`. */
function localPortsTo(pid: number, remotePort: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (link.startsWith("socket:[")) inodes.add(link.slice(8, -1));
      } catch {
        // closed while we looked
      }
    }
  } catch {
    return [];
  }
  const ports: number[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || !inodes.has(cols[9] as string)) continue;
      const local = Number.parseInt((cols[1] as string).split(":")[1] as string, 16);
      const remote = Number.parseInt((cols[2] as string).split(":")[1] as string, 16);
      if (remote === remotePort) ports.push(local);
    }
  }
  return ports;
}

/**
 * Samples the CPU of a set of processes and of the Postgres backends serving
 * them, once a second: connections come and go (pools shrink when idle), so
 * backends are matched again at every sample and each one's CPU counted from
 * when it was first seen.
 */
export class CpuSampler {
  private readonly start = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readonly backendTicks = new Map<number, number>();
  private readonly backendOwner = new Map<number, number>();
  private readonly backendLast = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private began = 0;
  private ended = 0;
  private client: pg.Client | null = null;

  constructor(
    private readonly pids: number[],
    private readonly databaseUrl: string,
    private readonly postgresPort: number,
  ) {}

  async begin(): Promise<void> {
    this.client = new pg.Client({ connectionString: this.databaseUrl });
    await this.client.connect().catch(() => {
      this.client = null;
    });
    for (const pid of this.pids) {
      const now = cpuSeconds(pid) ?? 0;
      this.start.set(pid, now);
      this.last.set(pid, now);
    }
    await this.sampleBackends();
    this.began = performance.now();
    this.timer = setInterval(() => void this.sampleBackends(), 1000);
  }

  async end(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sampleBackends();
    for (const pid of this.pids) this.last.set(pid, cpuSeconds(pid) ?? this.last.get(pid) ?? 0);
    this.ended = performance.now();
    await this.client?.end().catch(() => {});
  }

  /** Share of one core the process used over the window, in percent. */
  processPercent(pid: number): number {
    return this.percentOf((this.last.get(pid) ?? 0) - (this.start.get(pid) ?? 0));
  }

  /** Share of one core the Postgres backends serving this process used, in percent (null: not attributable). */
  backendPercent(pid: number): number | null {
    if (!this.client) return null;
    let seconds = 0;
    for (const [backend, owner] of this.backendOwner) if (owner === pid) seconds += this.backendTicks.get(backend) ?? 0;
    return this.percentOf(seconds);
  }

  private percentOf(seconds: number): number {
    const window = (this.ended - this.began) / 1000;
    return window > 0 ? (100 * seconds) / window : Number.NaN;
  }

  private sampling = false;

  /** One sample at a time: a slow one (a busy machine) must not overlap the next on the same client. */
  private async sampleBackends(): Promise<void> {
    if (!this.client || this.sampling) return;
    this.sampling = true;
    try {
      await this.sampleBackendsOnce();
    } finally {
      this.sampling = false;
    }
  }

  private async sampleBackendsOnce(): Promise<void> {
    if (!this.client) return;
    const portOwner = new Map<number, number>();
    for (const pid of this.pids) for (const port of localPortsTo(pid, this.postgresPort)) portOwner.set(port, pid);
    const { rows } = await this.client
      .query<{ pid: number; client_port: number }>(
        "SELECT pid, client_port FROM pg_stat_activity WHERE client_port = ANY($1::int[])",
        [[...portOwner.keys()]],
      )
      .catch(() => ({ rows: [] as { pid: number; client_port: number }[] }));
    for (const row of rows) {
      const cpu = cpuSeconds(row.pid);
      if (cpu === null) continue;
      const before = this.backendLast.get(row.pid);
      if (before !== undefined) this.backendTicks.set(row.pid, (this.backendTicks.get(row.pid) ?? 0) + cpu - before);
      this.backendLast.set(row.pid, cpu);
      this.backendOwner.set(row.pid, portOwner.get(row.client_port) ?? -1);
    }
  }
}
