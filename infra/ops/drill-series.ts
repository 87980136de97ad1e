import type { AdminClient, AdminNode } from "./admin-client.js";
import { readClusterState } from "./cluster-state.js";
import { describeNodes, waitForHealthy } from "./cluster-wait.js";
import { type DrillOptions, runDrill } from "./drill.js";
import { ms } from "./drill-console.js";
import type { DrillResult } from "./drill-summary.js";
import { probeLogSource } from "./log-check.js";

/**
 * `drill --repeat n`: drills in a row. Before each one the cluster must be
 * whole again (the previous victim restarted, as many active nodes as at the
 * start), so every drill starts from the same state.
 */

export type SeriesOptions = Omit<DrillOptions, "drill"> & { repeat: number; recoverTimeoutMs: number };

export async function runDrillSeries(admin: AdminClient, opts: SeriesOptions): Promise<DrillResult[]> {
  const { progress } = opts;
  await probeLogSource(opts.logSource);
  const activeNodes = await expectedActiveNodes(admin.nodes());
  if (activeNodes < 2) {
    throw new Error(`a drill needs at least 2 active nodes (one to kill, one to take over); found ${activeNodes}`);
  }
  const healthy = await waitForHealthy(admin, { activeNodes }, { timeoutMs: opts.recoverTimeoutMs });
  progress.phase(`cluster: ${describeNodes(healthy)}`);
  const results: DrillResult[] = [];
  for (let drill = 1; drill <= opts.repeat; drill++) {
    const before = await admin.nodes();
    const result = await runDrill({ ...opts, drill });
    results.push(result);
    progress.phase(
      `drill ${drill}: ${result.summary.recovered}/${result.summary.affected} lobbies recovered, ` +
        `p99 ${ms(result.summary.p99Ms)}, lost ${result.summary.durability.lost}: ${result.summary.passed ? "PASS" : "FAIL"}`,
    );
    if (drill < opts.repeat) await waitForRestart(admin, result, before, { ...opts, activeNodes });
  }
  return results;
}

/** The victim back (a higher incarnation) and every node active again, so the next drill starts like the first. */
async function waitForRestart(
  admin: AdminClient,
  result: DrillResult,
  before: AdminNode[],
  opts: SeriesOptions & { activeNodes: number },
): Promise<void> {
  const victim = result.summary.victim;
  const afterIncarnation = before.find((n) => n.id === victim)?.incarnation ?? 0;
  opts.progress.phase(`waiting for ${victim} to restart and ${opts.activeNodes} nodes to be active`);
  const started = Date.now();
  const want = { activeNodes: opts.activeNodes, restarted: { node: victim, afterIncarnation } };
  await waitForHealthy(admin, want, { timeoutMs: opts.recoverTimeoutMs });
  opts.progress.phase(`cluster whole again after ${Date.now() - started} ms`);
}

/**
 * How many nodes a whole cluster has: the nodes active now, or more when the
 * launcher's state file lists more live node processes (one killed by an
 * earlier drill may be restarting). Drained nodes exit for good, so a node
 * whose process is gone does not count.
 */
async function expectedActiveNodes(nodes: Promise<AdminNode[]>): Promise<number> {
  const members = (await readClusterState())?.members ?? [];
  const running = members.filter((m) => m.kind === "node" && m.pid !== null && isAlive(m.pid)).length;
  const active = (await nodes).filter((n) => n.state === "active" && n.leaseValid).length;
  return Math.max(running, active);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
