import type { EventBus } from "../shared/bus/event-bus.js";
import { type MembershipMessage, Topic } from "../shared/bus/topics.js";
import { type NodeState, registerNode, renewLease, setNodeState } from "../shared/db/membership.js";
import type { Pool } from "../shared/db/pool.js";
import type { Logger } from "../shared/log.js";

export type MembershipOptions = {
  pool: Pool;
  bus: EventBus;
  id: string;
  url: string;
  weight: number;
  leaseMs: number;
  heartbeatMs: number;
  log: Logger;
  /** The lease is lost (declared dead, or not renewed in time): stop serving every lobby now. */
  onFenced: (reason: string) => void;
  /** An operator set this node to draining: hand every lobby off, then stop. */
  onDrain: () => void;
};

/** Renewals may take this long before the lease is treated as lost locally. */
const SAFETY_MARGIN_MS = 150;

/**
 * This node's row in `nodes`: registration, the lease and its renewal, and
 * self-fencing. The local deadline is counted from when a renewal was SENT,
 * so it always ends before the lease Postgres granted (which starts later).
 */
export class Membership {
  state: NodeState | "fenced" | "stopped" = "joining";
  private incarnation = 0;
  private leaseDeadline = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: MembershipOptions) {}

  /** Whether this node may load, create or commit for lobbies right now. */
  canServe(): boolean {
    return this.state === "active" && this.leaseHeld();
  }

  leaseHeld(): boolean {
    return performance.now() < this.leaseDeadline - SAFETY_MARGIN_MS;
  }

  async join(): Promise<void> {
    const { pool, id, url, weight, leaseMs } = this.opts;
    const sent = performance.now();
    const row = await registerNode(pool, { id, url, weight, leaseMs });
    this.incarnation = row.incarnation;
    this.leaseDeadline = sent + leaseMs;
    await setNodeState(pool, id, ["joining"], "active");
    this.state = "active";
    await this.announce("active");
    this.opts.log.info({ node: id, incarnation: row.incarnation }, "node active");
    this.schedule();
  }

  private schedule(): void {
    if (this.state === "stopped") return;
    this.timer = setTimeout(() => void this.renew(), this.opts.heartbeatMs);
  }

  private async renew(): Promise<void> {
    const { pool, id, leaseMs, log } = this.opts;
    const sent = performance.now();
    try {
      const row = await renewLease(pool, id, this.incarnation, leaseMs);
      if (this.state === "stopped") return;
      if (!row) return await this.rejoin("lease lost: declared dead or expired");
      this.leaseDeadline = sent + leaseMs;
      if (row.state === "draining" && this.state === "active") {
        this.state = "draining";
        this.opts.onDrain();
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, "lease renewal failed");
      if (!this.leaseHeld() && this.state !== "fenced") this.fence("lease renewal failing");
    } finally {
      this.schedule();
    }
  }

  private fence(reason: string): void {
    this.opts.log.warn({ reason }, "self-fencing: no longer serving any lobby");
    this.state = "fenced";
    this.opts.onFenced(reason);
  }

  /** After losing the lease: drop everything, then come back as a new incarnation. */
  private async rejoin(reason: string): Promise<void> {
    if (this.state !== "fenced") this.fence(reason);
    if (this.timer) clearTimeout(this.timer);
    await this.join();
  }

  /** Records a state change (draining, dead) and tells every process. */
  async setState(to: NodeState, from: NodeState[]): Promise<void> {
    await setNodeState(this.opts.pool, this.opts.id, from, to);
    await this.announce(to);
  }

  private async announce(state: NodeState): Promise<void> {
    const message: MembershipMessage = { nodeId: this.opts.id, state };
    await this.opts.bus.publish(Topic.Membership, message).catch(() => {});
  }

  stop(): void {
    this.state = "stopped";
    if (this.timer) clearTimeout(this.timer);
  }
}
