import type { EventBus } from "../shared/bus/event-bus.js";
import { type MembershipMessage, Topic } from "../shared/bus/topics.js";
import { type NodeState, registerNode, renewLease, setNodeState } from "../shared/db/membership.js";
import type { Pool } from "../shared/db/pool.js";
import type { Logger } from "../shared/log.js";
import { Pause } from "../shared/pause.js";

export type MembershipOptions = {
  /** The lease's own pool: its client-side deadline must be shorter than the lease. */
  pool: Pool;
  bus: EventBus;
  id: string;
  url: string;
  weight: number;
  leaseMs: number;
  heartbeatMs: number;
  log: Logger;
  /** The lease is lost or cannot be confirmed in time: stop serving every lobby now. */
  onFenced: (reason: string) => void;
  /** The node serves again after a fence (lease confirmed, or a new incarnation). */
  onServing?: () => void;
  /** An operator set this node to draining: hand every lobby off, then stop. */
  onDrain: () => void;
  /** Each renewal attempt and how it ended (a metric). */
  onRenewal?: (result: "ok" | "lost" | "failed") => void;
};

export type Readiness = { ready: boolean; reason?: string };

/** Renewals may take this long before the lease is treated as lost locally. */
const SAFETY_MARGIN_MS = 150;

/**
 * This node's row in `nodes`: registration, the lease and its renewal, and
 * self-fencing. The local deadline is counted from when a renewal was SENT,
 * so it always ends before the lease Postgres granted (which starts later).
 * A timer fences the node at that deadline whatever the renewal is doing (a
 * renewal may hang on a black-holed connection). One loop renews, for the
 * node's whole life; after a lost lease the same loop registers a new
 * incarnation, and after a renewal that confirms the lease again the node
 * serves again.
 */
export class Membership {
  private phase: "starting" | "active" | "draining" | "stopped" = "starting";
  /** Why this node stopped serving on its own; null while it holds its lease. */
  private fencedBecause: string | null = null;
  /** Postgres no longer has this incarnation alive: only a new registration can serve again. */
  private mustRejoin = false;
  private incarnation = 0;
  private leaseDeadline = 0;
  private lastError: string | null = null;
  private fenceTimer: NodeJS.Timeout | null = null;
  private loop: Promise<void> | null = null;
  private readonly pause = new Pause();

  constructor(private readonly opts: MembershipOptions) {}

  /** Whether this node may load, create or commit for lobbies right now. */
  canServe(): boolean {
    return this.phase === "active" && this.fencedBecause === null && this.leaseHeld();
  }

  leaseHeld(): boolean {
    return performance.now() < this.leaseDeadline - SAFETY_MARGIN_MS;
  }

  /** For /readyz: whether this node serves, and if not, why. */
  readiness(): Readiness {
    const database = this.lastError ? `; postgres: ${this.lastError}` : "";
    if (this.phase === "stopped") return { ready: false, reason: "stopping" };
    if (this.phase === "starting") return { ready: false, reason: "joining the cluster" };
    if (this.phase === "draining") return { ready: false, reason: "draining: handing every lobby off" };
    if (this.fencedBecause !== null) return { ready: false, reason: `self-fenced: ${this.fencedBecause}${database}` };
    if (!this.leaseHeld()) return { ready: false, reason: `lease not confirmed in time${database}` };
    return { ready: true };
  }

  /** Registers this node and starts the one renewal loop. */
  async join(): Promise<void> {
    await this.register();
    this.loop ??= this.run();
  }

  /** Registers a new incarnation, active, with a fresh lease (one statement). */
  private async register(): Promise<void> {
    const { pool, id, url, weight, leaseMs, log } = this.opts;
    const sent = performance.now();
    const row = await registerNode(pool, { id, url, weight, leaseMs });
    this.incarnation = row.incarnation;
    this.mustRejoin = false;
    this.confirmLease(sent);
    if (this.phase === "starting") this.phase = "active";
    // Re-registered in the middle of a drain: the drain goes on, so say so again.
    if (this.phase === "draining") await setNodeState(pool, id, ["active"], "draining").catch(() => {});
    this.serveAgain();
    await this.announce(this.phase === "draining" ? "draining" : "active");
    log.info({ node: id, incarnation: row.incarnation }, "node active");
  }

  /**
   * Renews every heartbeat, counted from the start of the previous attempt
   * (one that hung until its deadline is followed at once by the next), and
   * twice as often while fenced: a node comes back soon after Postgres does.
   */
  private async run(): Promise<void> {
    let started = performance.now();
    while (!this.stopped) {
      const interval = this.fencedBecause === null ? this.opts.heartbeatMs : this.opts.heartbeatMs / 2;
      await this.pause.sleep(Math.max(0, interval - (performance.now() - started)));
      started = performance.now();
      if (!this.stopped) await this.renew();
    }
  }

  private async renew(): Promise<void> {
    const { pool, id, leaseMs, log } = this.opts;
    const sent = performance.now();
    try {
      if (this.mustRejoin) return await this.register();
      const row = await renewLease(pool, id, this.incarnation, leaseMs);
      if (this.stopped) return;
      this.opts.onRenewal?.(row ? "ok" : "lost");
      this.lastError = null;
      if (!row) {
        this.mustRejoin = true;
        this.fence("lease lost: declared dead or expired");
        return await this.register();
      }
      this.confirmLease(sent);
      if (row.state === "draining" && this.phase === "active") {
        this.phase = "draining";
        this.opts.onDrain();
      }
      this.serveAgain();
    } catch (err) {
      this.opts.onRenewal?.("failed");
      this.lastError = (err as Error).message;
      log.warn({ err: this.lastError }, this.mustRejoin ? "re-registering failed" : "lease renewal failed");
      if (!this.leaseHeld()) this.fence("lease renewal failing");
    }
  }

  /** Postgres granted the lease from at least `sent` on: arm the local deadline again. */
  private confirmLease(sent: number): void {
    this.leaseDeadline = sent + this.opts.leaseMs;
    if (this.fenceTimer) clearTimeout(this.fenceTimer);
    const left = this.leaseDeadline - SAFETY_MARGIN_MS - performance.now();
    this.fenceTimer = setTimeout(() => this.fence("lease not confirmed in time"), Math.max(0, left));
    this.fenceTimer.unref();
  }

  private fence(reason: string): void {
    if (this.fencedBecause !== null || this.phase === "stopped" || this.phase === "starting") return;
    this.opts.log.warn({ reason }, "self-fencing: no longer serving any lobby");
    this.fencedBecause = reason;
    this.opts.onFenced(reason);
  }

  private serveAgain(): void {
    if (this.fencedBecause === null) return;
    this.opts.log.info({ after: this.fencedBecause }, "serving again");
    this.fencedBecause = null;
    this.opts.onServing?.();
  }

  /** SIGTERM: take no more lobbies and say so; false when a drain had already begun. */
  async beginDrain(): Promise<boolean> {
    if (this.phase !== "active" && this.phase !== "starting") return false;
    this.phase = "draining";
    await this.setState("draining", ["active"]).catch((err: Error) =>
      this.opts.log.warn({ err: err.message }, "could not record the drain"),
    );
    return true;
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

  private get stopped(): boolean {
    return this.phase === "stopped";
  }

  stop(): void {
    this.phase = "stopped";
    if (this.fenceTimer) clearTimeout(this.fenceTimer);
    this.pause.interrupt();
  }
}
