import type { AdminClient } from "../ops/admin-client.js";
import { waitForHealthy } from "../ops/cluster-wait.js";
import type { Progress } from "../ops/progress.js";
import { drainAndWait, rebalanceAndWait } from "../ops/work-wait.js";
import type { ControlClient } from "./control-client.js";
import type { FaultKind, FaultRecord } from "./recovery.js";
import type { Rng } from "./rng.js";

/**
 * The faults, each injected through the launcher's control API or the
 * balancer's admin API, undone when the runner must undo it (SIGCONT,
 * unstall, starting a drained node again), then awaited until the cluster
 * is healthy and every lobby is served again. A fault that does not recover
 * within the bound is recorded with its error: a violation, not a crash.
 */

export type FaultContext = {
  control: ControlClient;
  admin: AdminClient;
  rng: Rng;
  progress: Progress;
  nodes: number;
  /** Longest SIGSTOP or Postgres stall (each is random between half this and this). */
  holdMs: number;
  recoverTimeoutMs: number;
  /** Nodes serving the soak's lobbies now: victims are picked among them, so a fault hits players. */
  servingNodes(): string[];
  /** Resolves once every lobby got an event after `at`; rejects after the timeout. */
  lobbiesServedAfter(at: number, timeoutMs: number): Promise<void>;
};

type Injected = { target: string; injectedAt: number; healedAt: number | null; detail: string; restarted?: Restart };
type Restart = { node: string; afterIncarnation: number };

const INJECT: Record<FaultKind, (ctx: FaultContext) => Promise<Injected>> = {
  "node-kill": killNode,
  "node-stop": stopNode,
  "balancer-kill": killBalancer,
  "pg-stall": stallPostgres,
  drain: drainNode,
  rebalance,
};

export async function runFault(kind: FaultKind, index: number, ctx: FaultContext): Promise<FaultRecord> {
  const startedAt = Date.now();
  let injected: Injected | null = null;
  try {
    injected = await INJECT[kind](ctx);
    const healthy = await waitForHealthy(
      ctx.admin,
      { activeNodes: ctx.nodes, restarted: injected.restarted },
      { timeoutMs: ctx.recoverTimeoutMs },
    );
    const healthyAt = Date.now();
    ctx.progress.phase(`  cluster healthy: ${healthy.filter((n) => n.state === "active").length} active nodes`);
    await ctx.lobbiesServedAfter(healthyAt, ctx.recoverTimeoutMs);
    return { index, kind, ...withoutRestart(injected), healthyAt, settledAt: Date.now(), error: null };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    ctx.progress.phase(`  ✗ ${kind}: ${error}`);
    const base = injected ?? { target: "?", injectedAt: startedAt, healedAt: null, detail: "" };
    return { index, kind, ...withoutRestart(base), healthyAt: null, settledAt: Date.now(), error };
  }
}

function withoutRestart(i: Injected): Omit<Injected, "restarted"> {
  const { restarted: _, ...rest } = i;
  return rest;
}

async function pickNode(ctx: FaultContext): Promise<{ node: string; incarnation: number }> {
  const running = (await ctx.control.state()).members
    .filter((m) => m.kind === "node" && m.state === "running")
    .map((m) => m.name);
  const serving = running.filter((n) => ctx.servingNodes().includes(n));
  const node = ctx.rng.pick(serving.length > 0 ? serving : running);
  const incarnation = (await ctx.admin.nodes()).find((n) => n.id === node)?.incarnation ?? 0;
  return { node, incarnation };
}

async function killNode(ctx: FaultContext): Promise<Injected> {
  const { node, incarnation } = await pickNode(ctx);
  ctx.progress.phase(`  SIGKILL ${node} (the launcher starts it again after a second)`);
  const injectedAt = Date.now();
  await ctx.control.signal(node, "SIGKILL");
  return {
    target: node,
    injectedAt,
    healedAt: null,
    detail: "SIGKILL",
    restarted: { node, afterIncarnation: incarnation },
  };
}

async function stopNode(ctx: FaultContext): Promise<Injected> {
  const { node } = await pickNode(ctx);
  const holdMs = ctx.rng.between(Math.round(ctx.holdMs / 2), ctx.holdMs);
  ctx.progress.phase(`  SIGSTOP ${node} for ${holdMs} ms, then SIGCONT`);
  const injectedAt = Date.now();
  await ctx.control.signal(node, "SIGSTOP");
  try {
    await sleep(holdMs);
  } finally {
    await ctx.control.signal(node, "SIGCONT");
  }
  return { target: node, injectedAt, healedAt: Date.now(), detail: `stopped ${holdMs} ms` };
}

async function killBalancer(ctx: FaultContext): Promise<Injected> {
  ctx.progress.phase("  SIGKILL the balancer (the launcher starts it again after a second)");
  const injectedAt = Date.now();
  await ctx.control.signal("balancer", "SIGKILL");
  return { target: "balancer", injectedAt, healedAt: null, detail: "SIGKILL" };
}

async function stallPostgres(ctx: FaultContext): Promise<Injected> {
  const holdMs = ctx.rng.between(Math.round(ctx.holdMs / 2), ctx.holdMs);
  ctx.progress.phase(`  stalling Postgres (black hole) for ${holdMs} ms`);
  const injectedAt = Date.now();
  await ctx.control.stallPostgres(true);
  try {
    await sleep(holdMs);
  } finally {
    await ctx.control.stallPostgres(false);
  }
  return { target: "postgres", injectedAt, healedAt: Date.now(), detail: `stalled ${holdMs} ms` };
}

/** Drain hands every lobby off and the node exits 0; the launcher leaves it down, so the runner starts it again. */
async function drainNode(ctx: FaultContext): Promise<Injected> {
  const { node, incarnation } = await pickNode(ctx);
  const lobbies = (await ctx.admin.nodes()).find((n) => n.id === node)?.lobbies ?? 0;
  const injectedAt = Date.now();
  const outcome = await drainAndWait(ctx.admin, node, { timeoutMs: ctx.recoverTimeoutMs, progress: ctx.progress });
  await waitUntilLeft(ctx, node);
  ctx.progress.phase(`  ${node} drained (${outcome.outcome} after ${outcome.waitedMs} ms) and left; starting it again`);
  await ctx.control.start(node);
  const detail = `${lobbies} lobbies handed off in ${outcome.waitedMs} ms`;
  return { target: node, injectedAt, healedAt: Date.now(), detail, restarted: { node, afterIncarnation: incarnation } };
}

async function waitUntilLeft(ctx: FaultContext, node: string): Promise<void> {
  const deadline = Date.now() + ctx.recoverTimeoutMs;
  for (;;) {
    const member = (await ctx.control.state()).members.find((m) => m.name === node);
    if (member?.state === "left") return;
    if (member?.state !== "running" && member?.state !== "stopped") {
      throw new Error(`${node} did not leave after its drain: it is ${member?.state ?? "unknown"}`);
    }
    if (Date.now() > deadline) throw new Error(`${node} did not exit within ${ctx.recoverTimeoutMs} ms of its drain`);
    await sleep(200);
  }
}

async function rebalance(ctx: FaultContext): Promise<Injected> {
  const injectedAt = Date.now();
  const done = await rebalanceAndWait(ctx.admin, { timeoutMs: ctx.recoverTimeoutMs, progress: ctx.progress });
  const detail = `${done.requested} lobbies off their ring owner, moved in ${done.waitedMs} ms`;
  return { target: "cluster", injectedAt, healedAt: null, detail };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
