import type { AdminClient, AdminNode, AdminRing } from "./admin-client.js";

/**
 * Waiting on the cluster's real state rather than on fixed sleeps (a restart
 * takes one second or ten, depending on the machine): the balancer's
 * /admin/ring, i.e. the nodes as Postgres records them and the ring the
 * balancer routes by.
 */

export type HealthyCondition = {
  /** Active nodes with a valid lease needed. */
  activeNodes: number;
  /** This node must be active again with an incarnation above this one (it restarted). */
  restarted?: { node: string; afterIncarnation: number };
};

/** Enough active nodes in Postgres, each also on the balancer's ring (so it routes to them), and the restart seen. */
export function isHealthy(ring: Pick<AdminRing, "nodes" | "members">, want: HealthyCondition): boolean {
  const onRing = new Set(ring.members.map((m) => m.id));
  const active = ring.nodes.filter((n) => n.state === "active" && n.leaseValid && !n.suspect && onRing.has(n.id));
  if (active.length < want.activeNodes) return false;
  const r = want.restarted;
  return !r || active.some((n) => n.id === r.node && n.incarnation > r.afterIncarnation);
}

export function describeNodes(nodes: readonly AdminNode[]): string {
  return nodes.map((n) => `${n.id} ${n.state}${n.leaseValid ? "" : " (lease expired)"} #${n.incarnation}`).join(", ");
}

export async function waitForHealthy(
  admin: AdminClient,
  want: HealthyCondition,
  opts: { timeoutMs: number; pollMs?: number },
): Promise<AdminNode[]> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: AdminNode[] = [];
  let lastError = "";
  while (Date.now() < deadline) {
    try {
      if (await admin.ready()) {
        const ring = await admin.ring();
        last = ring.nodes;
        if (isHealthy(ring, want)) return last;
      } else lastError = "balancer /readyz is not 200";
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 250));
  }
  const seen = last.length > 0 ? describeNodes(last) : lastError || "nothing";
  const restarted = want.restarted ? ` and ${want.restarted.node} restarted` : "";
  throw new Error(
    `the cluster did not get back to ${want.activeNodes} active nodes${restarted} within ${opts.timeoutMs} ms (last seen: ${seen})`,
  );
}
