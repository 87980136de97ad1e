import { type AdminClient, AdminError, type AdminNode } from "./admin-client.js";
import type { Progress } from "./progress.js";

/**
 * `drain --wait` and `rebalance --wait`: the admin API answers 202 as soon as
 * the work is requested; these poll the balancer until it is done (Postgres
 * says so: owned lobbies and node states, as /admin/nodes and /admin/ring
 * report them), printing progress, and give up after a timeout. The
 * Kubernetes preStop hook runs `drain --wait` so a pod stops only once its
 * lobbies are elsewhere.
 */

export type WaitOptions = { timeoutMs: number; pollMs?: number; progress: Progress };

export type DrainOutcome = {
  id: string;
  /** moved: it owns no lobby any more; exited: its process stopped; restarted: stopped and started again. */
  outcome: "moved" | "exited" | "restarted";
  state: AdminNode["state"] | "gone";
  lobbiesLeft: number;
  waitedMs: number;
};

export type RebalanceOutcome = { remaining: number; waitedMs: number };

export class WaitTimeout extends Error {
  override readonly name = "WaitTimeout";
}

/** Requests the drain, or joins one already under way (a preStop hook after an operator's drain). */
export async function drainAndWait(admin: AdminClient, id: string, opts: WaitOptions): Promise<DrainOutcome> {
  const find = async () => (await admin.nodes()).find((n) => n.id === id);
  const before = await find();
  try {
    await admin.drain(id);
    opts.progress.phase(`${id}: draining (${before?.lobbies ?? 0} lobbies to hand off)`);
  } catch (err) {
    if (!(err instanceof AdminError && err.status === 409) || (await find())?.state !== "draining") throw err;
    opts.progress.phase(`${id}: already draining; waiting for it`);
  }
  return waitForDrain(admin, id, before?.incarnation ?? 0, opts);
}

export async function waitForDrain(
  admin: AdminClient,
  id: string,
  incarnation: number,
  opts: WaitOptions,
): Promise<DrainOutcome> {
  const started = Date.now();
  let lastLine = "";
  for (;;) {
    const node = (await admin.nodes()).find((n) => n.id === id);
    const outcome = drainOutcome(node, incarnation);
    if (outcome) return { id, ...outcome, waitedMs: Date.now() - started };
    const line = `${id}: ${node?.state}, ${node?.lobbies} lobbies left`;
    if (line !== lastLine) opts.progress.phase(line);
    lastLine = line;
    if (Date.now() - started > opts.timeoutMs) {
      throw new WaitTimeout(
        `${id} is still ${node?.state} after ${opts.timeoutMs} ms with ${node?.lobbies} lobbies left`,
      );
    }
    await sleep(opts.pollMs ?? 250);
  }
}

/** Done when the node owns nothing any more or its process is gone; null while the drain is under way. */
export function drainOutcome(
  node: AdminNode | undefined,
  incarnation: number,
): Omit<DrainOutcome, "id" | "waitedMs"> | null {
  if (!node) return { outcome: "exited", state: "gone", lobbiesLeft: 0 };
  if (node.incarnation > incarnation) return { outcome: "restarted", state: node.state, lobbiesLeft: 0 };
  if (node.state === "dead") return { outcome: "exited", state: node.state, lobbiesLeft: node.lobbies };
  if (node.lobbies === 0 && node.state === "draining") return { outcome: "moved", state: node.state, lobbiesLeft: 0 };
  return null;
}

/** Requests a rebalance, then waits until no lobby with a live owner is off its ring owner (the balancer's view). */
export async function rebalanceAndWait(
  admin: AdminClient,
  opts: WaitOptions,
): Promise<RebalanceOutcome & { requested: number }> {
  const { exceptions } = await admin.rebalance();
  opts.progress.phase(`rebalance requested: ${exceptions} lobbies off their ring owner`);
  const started = Date.now();
  let last = -1;
  for (;;) {
    const ring = await admin.ring();
    // A dead owner's lobbies are failover's work, not rebalancing's.
    const remaining = ring.exceptions.filter((e) => e.ownerAlive).length;
    if (remaining === 0) return { requested: exceptions, remaining, waitedMs: Date.now() - started };
    if (remaining !== last) opts.progress.phase(`${remaining} lobbies still off their ring owner`);
    last = remaining;
    if (Date.now() - started > opts.timeoutMs) {
      throw new WaitTimeout(`${remaining} lobbies are still off their ring owner after ${opts.timeoutMs} ms`);
    }
    await sleep(opts.pollMs ?? 250);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
