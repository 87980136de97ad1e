import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * A process started from a studio's folder with plain `node` (no loader):
 * an installed bin or a script. Ready when it logs its "listening" line, as
 * Ringside's own processes do (test/helpers/processes.ts starts the sources).
 */
export class StudioProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private port: number | null = null;
  private readonly waiters: ((port: number) => void)[] = [];

  constructor(
    readonly name: string,
    args: string[],
    cwd: string,
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, args, {
      cwd,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream) createInterface({ input: stream }).on("line", (line) => this.onLine(line));
    }
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  /** Resolves with the port once the process said it listens; rejects if it exits first. */
  ready(timeoutMs = 30_000): Promise<number> {
    if (this.port !== null) return Promise.resolve(this.port);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: not listening after ${timeoutMs} ms\n${this.tail()}`)),
        timeoutMs,
      );
      this.waiters.push((port) => {
        clearTimeout(timer);
        resolve(port);
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code}) before it listened:\n${this.tail()}`));
      });
    });
  }

  tail(n = 30): string {
    return this.lines.slice(-n).join("\n");
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  private onLine(line: string): void {
    this.lines.push(line);
    if (this.lines.length > 400) this.lines.shift();
    if (this.port !== null || !line.includes('"listening"')) return;
    try {
      const parsed = JSON.parse(line) as { msg?: string; port?: number };
      if (parsed.msg !== "listening" || typeof parsed.port !== "number") return;
      this.port = parsed.port;
      for (const waiter of this.waiters.splice(0)) waiter(parsed.port);
    } catch {
      // not a JSON line
    }
  }
}
