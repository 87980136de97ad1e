import type { EventBus } from "../shared/bus/event-bus.js";
import { type MembershipMessage, Topic } from "../shared/bus/topics.js";
import { listActiveOrphans, releaseInactiveOrphans } from "../shared/db/lifecycle.js";
import { expireLeases, listNodes, type NodeRow } from "../shared/db/membership.js";
import type { Pool } from "../shared/db/pool.js";
import { removeNodePresence } from "../shared/db/presence.js";
import type { Logger } from "../shared/log.js";
import { activeFingerprint, type Ring, ringOfActiveNodes } from "../shared/ring.js";
import type { LobbyRegistry } from "./lobby-registry.js";
import { runLimited } from "./run-limited.js";

export type TakeoverOptions = {
  pool: Pool;
  bus: EventBus;
  nodeId: string;
  registry: LobbyRegistry;
  log: Logger;
  /** The shortest gap between two periodic passes (bus messages and lease deadlines run one sooner). */
  intervalMs: number;
  /** The longest gap between two periodic passes, with no lease due to expire before (a backstop). */
  maxIntervalMs: number;
  /** The database clock (DbClock.now): lease deadlines are Postgres times. */
  now: () => number;
  canServe: () => boolean;
  /** Whether this node has a lobby's game at its version (a node never claims what it cannot replay). */
  canRun: (gameId: string, gameVersion: number) => boolean;
  /** Orphans that committed within this window (or have a timer, or players) are claimed at once. */
  activeWindowMs: number;
  onReleased?: (count: number) => void;
};

/**
 * Orphans claimed per statement (one claim statement and one read of their logs per batch), and batches
 * running at once: a survivor of a node with thousands of active lobbies takes them in a second or two.
 */
const CLAIM_BATCH = 100;
const PARALLEL_BATCHES = 2;
/** Inactive orphans released per statement. */
const RELEASE_BATCH = 2000;
/** A pass is run this long after the earliest lease deadline, so that the lease has surely run out. */
const EXPIRY_SLACK_MS = 20;
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
 *
 * When to run: an idle cluster must cost next to nothing, and failure
 * detection must stay as fast as the lease allows. So the periodic pass is
 * timed by the leases themselves: the next one runs just after the earliest
 * lease of another node would run out (renewed leases push it back), or at
 * the backstop interval, and right away on any membership message (a node
 * joined, drains, or was declared dead) and after a bus resync. While a dead
 * node still has orphans this node could not finish, passes keep the short
 * interval.
 */
export class Takeover {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private rerun = false;
  private stopped = false;
  ring: Ring | null = null;
  /** The next periodic pass, as a time on performance.now(). */
  private nextAt = 0;
  /** The last pass left work (orphans it could not claim yet): keep the short interval. */
  private unfinished = false;
  /**
   * Dead node incarnations whose orphans this node has dealt with (claimed its own, released the inactive,
   * removed their presence): nothing more of theirs can fall to it until membership changes.
   */
  private readonly settled = new Set<string>();
  /** When this node first saw each dead node dead (performance.now()). */
  private readonly deadSince = new Map<string, number>();

  constructor(private readonly opts: TakeoverOptions) {}

  async start(): Promise<void> {
    // Any membership change may change the ring (joins, drains, weights), a death the orphans, and
    // with a new ring the orphans of a node handled before may be placed here now.
    const changed = () => {
      this.settled.clear();
      void this.runSoon();
    };
    await this.opts.bus.subscribe(Topic.Membership, changed);
    this.opts.bus.onResync(changed);
    await this.runSoon();
  }

  /** Arms the periodic pass for `delayMs` from now (an earlier one already armed is kept). */
  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const at = performance.now() + delayMs;
    if (this.timer && this.nextAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.nextAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runSoon();
    }, delayMs);
    this.timer.unref();
  }

  /** After a pass: just past the earliest lease deadline of another live node, within the bounds. */
  private scheduleAfter(nodes: NodeRow[]): void {
    const { intervalMs, maxIntervalMs, nodeId, now } = this.opts;
    const dbNow = now();
    let delay = this.unfinished ? intervalMs : maxIntervalMs;
    for (const n of nodes) {
      if (n.id === nodeId || n.state === "dead") continue;
      delay = Math.min(delay, n.leaseExpires.getTime() - dbNow + EXPIRY_SLACK_MS);
    }
    this.schedule(Math.max(intervalMs, delay));
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
        // A failed pass retries soon; a successful one armed its own next pass.
        if (!this.timer) this.schedule(this.opts.intervalMs);
        if (this.rerun && !this.stopped) {
          this.rerun = false;
          void this.runSoon();
        }
      });
    return this.running;
  }

  private async pass(): Promise<void> {
    const { pool, nodeId } = this.opts;
    let nodes = await listNodes(pool);
    // The write only when a lease has run out (read-only passes otherwise); it re-checks in Postgres time.
    if (nodes.some((n) => n.state !== "dead" && !n.leaseValid)) {
      await this.expire(await expireLeases(pool));
      nodes = await listNodes(pool);
    }
    this.updateRing(nodes);
    this.unfinished = false;
    // Forget deaths of nodes that came back (a new incarnation starts its own clock).
    for (const id of this.deadSince.keys())
      if (!nodes.some((n) => n.id === id && (n.state === "dead" || !n.leaseValid))) this.deadSince.delete(id);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const dead = nodes.filter(
      (n) => n.id !== nodeId && (n.state === "dead" || !n.leaseValid) && !this.settled.has(incarnationOf(n)),
    );
    if (dead.length > 0) await this.adopt(dead.map((n) => n.id));
    if (!this.unfinished) for (const n of dead) this.settled.add(incarnationOf(n));
    this.scheduleAfter(nodes);
  }

  private async expire(ids: string[]): Promise<void> {
    for (const id of ids) {
      this.opts.log.warn({ node: id }, "node lease expired: declared dead");
      const message: MembershipMessage = { nodeId: id, state: "dead", reason: "lease expired" };
      await this.opts.bus.publish(Topic.Membership, message).catch(() => {});
    }
  }

  /** Rebuilt only when the members change: hashing 160 points per node is the costly part. */
  private updateRing(nodes: NodeRow[]): void {
    if (this.ring?.fingerprint() !== activeFingerprint(nodes)) this.ring = ringOfActiveNodes(nodes);
  }

  /** Claims the active orphans of dead nodes placed here, releases the inactive ones, clears their presence. */
  private async adopt(dead: string[]): Promise<void> {
    const { pool, nodeId } = this.opts;
    if (!this.opts.canServe()) {
      this.unfinished = true;
      return;
    }
    const startedAt = performance.now();
    const orphans = await listActiveOrphans(pool, dead, this.opts.activeWindowMs);
    const queryMs = Math.round(performance.now() - startedAt);
    const mine = orphans.filter(
      (o) =>
        this.ring?.owner(o.code) === nodeId &&
        !this.opts.registry.get(o.code) &&
        this.opts.canRun(o.gameId, o.gameVersion),
    );
    if (mine.length > 0)
      this.opts.log.info({ dead, orphans: orphans.length, mine: mine.length, queryMs }, "claiming active orphans");
    const batches: string[][] = [];
    for (let i = 0; i < mine.length; i += CLAIM_BATCH) batches.push(mine.slice(i, i + CLAIM_BATCH).map((o) => o.code));
    await runLimited(batches, PARALLEL_BATCHES, (codes) => this.opts.registry.claimMany(codes, "takeover"));
    // Orphans placed elsewhere are their ring owners' to claim; one of ours still unclaimed is retried soon.
    this.unfinished = mine.some((o) => !this.opts.registry.get(o.code));
    const now = performance.now();
    for (const id of dead) if (!this.deadSince.has(id)) this.deadSince.set(id, now);
    const settled = dead.filter((id) => now - (this.deadSince.get(id) ?? now) >= RELEASE_AFTER_MS);
    // A dead node whose inactive lobbies are not released yet is not done with: keep passing.
    if (settled.length < dead.length) this.unfinished = true;
    if (settled.length > 0) {
      const released = await releaseInactiveOrphans(pool, settled, this.opts.activeWindowMs, RELEASE_BATCH);
      if (released > 0) this.opts.onReleased?.(released);
    }
    // After the claims: a lobby with players connected counts as active until then.
    for (const id of dead) await removeNodePresence(pool, id);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** A node's life: a restarted node (same id) is a new incarnation, with orphans of its own. */
function incarnationOf(node: NodeRow): string {
  return `${node.id}#${node.incarnation}`;
}
