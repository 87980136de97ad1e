import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ControlError, type ControlSignal, type MemberState, type MemberView } from "./control-api.js";
import { formatLogLine } from "./log-format.js";

/**
 * The launcher's processes, supervised as an orchestrator would: a member
 * that dies is started again after a second; one that exits 0 (a drained
 * node) has left on purpose and stays down until asked to start again
 * (the control API). A member started with port 0 reports its port in its
 * "listening" line.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RESTART_DELAY_MS = 1000;
/** Failed restarts back off up to this (Postgres out of connections, say), as an orchestrator's would. */
const MAX_RESTART_DELAY_MS = 10_000;
/** A member that dies this many times in a row before it ever listened is broken: give up. */
const MAX_FAILED_STARTS = 3;

export type Member = {
  name: string;
  kind: "node" | "balancer";
  port: number;
  env: Record<string, string>;
  child: ChildProcess | null;
  state: MemberState;
  restarts: number;
  failedStarts: number;
  /** It listened once: a start that fails later is the environment's doing, so it is retried for good. */
  everListened: boolean;
  /** Resolves the pending start() of this member when it listens (or gives up). */
  onListening: ((err?: Error) => void)[];
};

export type SupervisorHooks = {
  /** Environment every member gets under its own. */
  baseEnv: Record<string, string>;
  step(text: string): void;
  /** Something about a member changed (pid, port, state): the launcher rewrites its state file. */
  changed(): void;
};

export class Supervisor {
  readonly members: Member[] = [];
  private stopping = false;

  constructor(private readonly hooks: SupervisorHooks) {}

  add(name: string, kind: Member["kind"], port: number, env: Record<string, string>): Member {
    const member: Member = {
      name,
      kind,
      port,
      env,
      child: null,
      state: "left",
      restarts: 0,
      failedStarts: 0,
      everListened: false,
      onListening: [],
    };
    this.members.push(member);
    return member;
  }

  get(name: string): Member {
    const member = this.members.find((m) => m.name === name);
    if (!member) throw new ControlError(404, "unknown_member", `no member ${name}`);
    return member;
  }

  view(m: Member): MemberView {
    return {
      name: m.name,
      kind: m.kind,
      port: m.port,
      pid: m.child?.pid ?? null,
      state: m.state,
      restarts: m.restarts,
    };
  }

  /** Starts a member that is not running; resolves once it listens. */
  start(member: Member): Promise<void> {
    if (member.child || member.state === "restarting") {
      return Promise.reject(new ControlError(409, "running", `${member.name} is ${member.state}`));
    }
    const listening = new Promise<void>((resolve, reject) =>
      member.onListening.push((err) => (err ? reject(err) : resolve())),
    );
    this.spawn(member);
    return listening;
  }

  signal(member: Member, signal: ControlSignal): void {
    if (!member.child) throw new ControlError(409, "not_running", `${member.name} is ${member.state}`);
    member.child.kill(signal);
    if (signal === "SIGSTOP") member.state = "stopped";
    if (signal === "SIGCONT" && member.state === "stopped") member.state = "running";
    this.hooks.changed();
  }

  /** SIGINT to every member (the whole cluster stops, so no node hands lobbies to another), SIGKILL after 5 s. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.members.map((m) => stopChild(m.child)));
  }

  private spawn(member: Member): void {
    const entry = member.kind === "node" ? "node/main.ts" : "balancer/main.ts";
    // The port it listened on before: a restarted balancer must come back where its clients reconnect.
    const env = { ...this.hooks.baseEnv, ...member.env, PORT: String(member.port), RINGSIDE_EXIT_WITH_PARENT: "1" };
    const child = spawn(process.execPath, ["--import", "tsx", entry], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    member.child = child;
    member.state = "starting";
    let listening = false;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => {
        console.log(formatLogLine(member.name, line));
        if (listening || !line.includes('"msg":"listening"')) return;
        listening = true;
        member.port = listeningPort(line) ?? member.port;
        member.failedStarts = 0;
        member.everListened = true;
        if (member.state === "starting") member.state = "running";
        this.hooks.changed();
        settle(member);
      });
    }
    child.once("exit", (code, signal) => this.exited(member, listening, code, signal));
  }

  private exited(member: Member, listened: boolean, code: number | null, signal: NodeJS.Signals | null): void {
    member.child = null;
    if (!listened && code !== 0) member.failedStarts++;
    const failed = !member.everListened && member.failedStarts >= MAX_FAILED_STARTS;
    // Exit code 0 is a drained node leaving on purpose: only crashes and kills are restarted.
    if (this.stopping || code === 0 || failed) {
      if (!this.stopping) member.state = "left";
      if (code === 0 && !this.stopping) this.hooks.step(`${member.name} left the cluster (drained)`);
      this.hooks.changed();
      settle(
        member,
        failed ? new Error(`${member.name} failed to start ${MAX_FAILED_STARTS} times in a row`) : undefined,
      );
      return;
    }
    const delayMs = Math.min(MAX_RESTART_DELAY_MS, RESTART_DELAY_MS * 2 ** member.failedStarts);
    this.hooks.step(`${member.name} exited (${signal ?? code}); starting it again in ${delayMs} ms`);
    member.state = "restarting";
    member.restarts++;
    this.hooks.changed();
    setTimeout(() => {
      if (this.stopping) settle(member);
      else this.spawn(member);
    }, delayMs);
  }
}

function settle(member: Member, err?: Error): void {
  for (const done of member.onListening.splice(0)) done(err);
}

function listeningPort(line: string): number | null {
  try {
    const port = (JSON.parse(line) as { port?: unknown }).port;
    return typeof port === "number" ? port : null;
  } catch {
    return null;
  }
}

function stopChild(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGINT");
    // A member stopped by the chaos soak would hold SIGINT until it runs again.
    child.kill("SIGCONT");
  });
}
