import type { EventBus } from "../shared/bus/event-bus.js";
import { type MembershipMessage, Topic } from "../shared/bus/topics.js";
import { listActiveOrphans, releaseInactiveOrphans } from "../shared/db/lifecycle.js";
import { expireLeases, listNodes } from "../shared/db/membership.js";
import type { Pool } from "../shared/db/pool.js";
import { removeNodePresence } from "../shared/db/presence.js";
import type { Logger } from "../shared/log.js";
import { type Ring, ringOfActiveNodes } from "../shared/ring.js";
import type { LobbyRegistry } from "./lobby-registry.js";
import { runLimited } from "./run-limited.js";

export type TakeoverOptions = {
  pool: Pool;
  bus: EventBus;
  nodeId: string;
  registry: LobbyRegistry;
  log: Logger;
  intervalMs: number;
  canServe: () => boolean;
  /** Whether this node has a lobby's game at its version (a node never claims what it cannot replay). */
  canRun: (gameId: string, gameVersion: number) => boolean;
  /** Orphans that committed within this window (or have a timer, or players) are claimed at once. */
  activeWindowMs: number;
  onReleased?: (count: number) => void;
};

/** Claims running at once, so a node with many orphans restores them in parallel but not all at once. */
const PARALLEL_CLAIMS = 16;
/** Inactive orphans released per statement. */
const RELEASE_BATCH = 2000;
/**
 * How long after this node first saw a node dead its inactive lobbies are released: the release is
 * bookkeeping (balancers keep no exception for them; a request claims them either way), so it waits
 * until the active lobbies' players are back instead of competing with them for Postgres.
 */
const RELEASE_AFTER_MS = 3000;

/**
 * Takeover. Every tick (and at once when the bus says a node died) this node
 * declares dead any node whose lease ran out in Postgres time, then claims
 * each ACTIVE orphaned lobby (recent commits, a pending timer, or players)
 * whose ring owner among the live nodes is itself. Several nodes may try for
 * the same lobby; the epoch lets exactly one win. The inactive ones are
 * released (owner NULL, epoch + 1) and claimed lazily, by a request
 * (LobbyRegistry.load), so a failover's work follows the active lobbies, not
 * every lobby the dead node ever owned.
 */
export class Takeover {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private rerun = false;
  private stopped = false;
  ring: Ring | null = null;
  /** When this node first saw each dead node dead (performance.now()). */
  private readonly deadSince = new Map<string, number>();

  constructor(private readonly opts: TakeoverOptions) {}

  async start(): Promise<void> {
    await this.opts.bus.subscribe(Topic.Membership, (message) => {
      if ((message as MembershipMessage).state === "dead") this.runSoon();
    });
    this.opts.bus.onResync(() => this.runSoon());
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.runSoon();
      this.schedule();
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  /** Runs a pass now, or right after the one in progress. */
  runSoon(): Promise<void> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    this.running = this.pass()
      .catch((err) => this.opts.log.warn({ err: (err as Error).message }, "takeover pass failed"))
      .finally(() => {
        this.running = null;
        if (this.rerun && !this.stopped) {
          this.rerun = false;
          void this.runSoon();
        }
      });
    return this.running;
  }

  private async pass(): Promise<void> {
    const { pool, bus, nodeId } = this.opts;
    const expired = await expireLeases(pool);
    for (const id of expired) {
      this.opts.log.warn({ node: id }, "node lease expired: declared dead");
      const message: MembershipMessage = { nodeId: id, state: "dead", reason: "lease expired" };
      await bus.publish(Topic.Membership, message).catch(() => {});
    }
    const nodes = await listNodes(pool);
    this.ring = ringOfActiveNodes(nodes);
    const dead = nodes.filter((n) => n.id !== nodeId && (n.state === "dead" || !n.leaseValid)).map((n) => n.id);
    for (const id of this.deadSince.keys()) if (!dead.includes(id)) this.deadSince.delete(id); // back alive
    if (dead.length === 0 || !this.opts.canServe()) return;
    const orphans = await listActiveOrphans(pool, dead, this.opts.activeWindowMs);
    const mine = orphans.filter(
      (o) =>
        this.ring?.owner(o.code) === nodeId &&
        !this.opts.registry.get(o.code) &&
        this.opts.canRun(o.gameId, o.gameVersion),
    );
    await runLimited(mine, PARALLEL_CLAIMS, (o) => this.claim(o.code));
    const now = performance.now();
    for (const id of dead) if (!this.deadSince.has(id)) this.deadSince.set(id, now);
    const settled = dead.filter((id) => now - (this.deadSince.get(id) ?? now) >= RELEASE_AFTER_MS);
    if (settled.length > 0) {
      const released = await releaseInactiveOrphans(pool, settled, this.opts.activeWindowMs, RELEASE_BATCH);
      if (released > 0) this.opts.onReleased?.(released);
    }
    // After the claims: a lobby with players connected counts as active until then.
    for (const id of dead) await removeNodePresence(pool, id);
  }

  private async claim(code: string): Promise<void> {
    try {
      await this.opts.registry.load(code, "takeover");
    } catch (err) {
      // Another node won the claim, or the owner came back: both are fine.
      this.opts.log.debug({ code, err: (err as Error).message }, "claim not taken");
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
