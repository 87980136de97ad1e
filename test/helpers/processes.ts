import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { DEVELOPMENT_ENV } from "../../shared/config.js";

/**
 * Real node and balancer processes for cluster tests. Each is started with
 * `node --import tsx <entry>` and is ready when it logs its "listening" line
 * (which also tells the port, so PORT=0 works). Every process started here is
 * killed by stopAll(), which test files call in afterAll.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export type ProcessKind = "node" | "balancer";

export class RingsideProcess {
  port = 0;
  /** The last lines the process wrote, for failure messages. */
  readonly lines: string[] = [];
  /** Lines matching this are also kept here, all of them (`lines` keeps only the last 400). */
  keepPattern: RegExp | null = null;
  readonly kept: string[] = [];
  exited: Promise<number | null>;
  private child: ChildProcess;

  constructor(
    readonly kind: ProcessKind,
    readonly env: Record<string, string>,
  ) {
    this.child = this.spawnChild();
    this.exited = this.watchExit();
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  private spawnChild(): ChildProcess {
    const entry = this.kind === "node" ? "node/main.ts" : "balancer/main.ts";
    const profile = process.env.RINGSIDE_CPU_PROF
      ? ["--cpu-prof", `--cpu-prof-dir=${process.env.RINGSIDE_CPU_PROF}`]
      : [];
    const child = spawn(process.execPath, [...profile, "--import", "tsx", entry], {
      cwd: ROOT,
      // Development secrets and limits, as npm start gives them; a test sets its own on top.
      // Small pools under vitest: two test files' clusters at once must fit a default max_connections
      // of 100. Benchmarks keep the production default.
      env: {
        ...DEVELOPMENT_ENV,
        ...(process.env.VITEST ? { RINGSIDE_DB_POOL_MAX: "4" } : {}),
        ...process.env,
        LOG_LEVEL: "info",
        RINGSIDE_EXIT_WITH_PARENT: "1",
        ...this.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on("line", (line) => {
        this.lines.push(line);
        if (this.lines.length > 400) this.lines.shift();
        if (this.keepPattern?.test(line)) this.kept.push(line);
      });
    }
    return child;
  }

  private watchExit(): Promise<number | null> {
    return new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  /** Resolves with the port once the process logged that it listens. */
  ready(timeoutMs = 60_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.kind} not ready after ${timeoutMs} ms:\n${this.tail()}`)),
        timeoutMs,
      );
      const onLine = (line: string) => {
        const port = listeningPort(line);
        if (port === null) return;
        clearTimeout(timer);
        this.port = port;
        resolve(port);
      };
      for (const line of this.lines) onLine(line);
      if (this.port) return;
      for (const stream of [this.child.stdout, this.child.stderr]) {
        if (stream) createInterface({ input: stream }).on("line", onLine);
      }
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.kind} exited (${code}) before it was ready:\n${this.tail()}`));
      });
    });
  }

  tail(n = 30): string {
    return this.lines.slice(-n).join("\n");
  }

  /**
   * Resolves when a log line matching `pattern` appears (waits on the event,
   * never polls); with `onlyNew`, lines written before the call do not count.
   */
  waitForLine(pattern: RegExp, timeoutMs = 20_000, onlyNew = false): Promise<string> {
    const seen = onlyNew ? undefined : this.lines.find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no line ${pattern} after ${timeoutMs} ms:\n${this.tail()}`)),
        timeoutMs,
      );
      for (const stream of [this.child.stdout, this.child.stderr]) {
        if (!stream) continue;
        createInterface({ input: stream }).on("line", (line) => {
          if (!pattern.test(line)) return;
          clearTimeout(timer);
          resolve(line);
        });
      }
    });
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Stops it now: SIGINT (a node releases its lobbies at once; SIGTERM would drain them first). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.kill("SIGINT");
    const timer = setTimeout(() => this.kill("SIGKILL"), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The port of a process's "listening" log line, or null for any other line. */
export function listeningPort(line: string): number | null {
  if (!line.includes('"listening"')) return null;
  try {
    const parsed = JSON.parse(line) as { msg?: string; port?: number };
    return parsed.msg === "listening" && typeof parsed.port === "number" ? parsed.port : null;
  } catch {
    return null;
  }
}

/** Starts and tracks processes for one test file. */
export class ProcessGroup {
  readonly all: RingsideProcess[] = [];

  constructor(private readonly baseEnv: Record<string, string>) {}

  async start(kind: ProcessKind, env: Record<string, string> = {}): Promise<RingsideProcess> {
    const proc = new RingsideProcess(kind, { ...this.baseEnv, ...env });
    this.all.push(proc);
    await proc.ready();
    return proc;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.all.map((p) => p.stop()));
  }
}
