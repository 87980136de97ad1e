import type { EventBus } from "../shared/bus/index.js";
import { type MembershipMessage, type OwnershipMessage, Topic } from "../shared/bus/topics.js";
import { listOwnedLobbiesPage, listOwnershipChanges, type Ownership } from "../shared/db/lobbies.js";
import { listNodes, type NodeRow } from "../shared/db/membership.js";
import type { Queryable } from "../shared/db/pool.js";
import type { Logger } from "../shared/log.js";
import type { RoutingTable } from "./routing-table.js";

/**
 * Keeps a RoutingTable fresh from Postgres, the single source of truth, so
 * that every balancer routes alike. Bus messages only make a refresh happen
 * sooner (membership) or apply a fact at once (ownership); the periodic reads
 * repair whatever the bus lost.
 */

export type SyncIntervals = { membershipMs: number; ownershipMs: number; fullOwnershipMs: number };

/**
 * The periodic reads only repair what the bus lost (a death is acted on at
 * once: the probe that saw it, or the bus message of the node that expired
 * the lease, re-reads membership), so they can be slow: an idle balancer
 * costs little.
 */
export const DEFAULT_INTERVALS: SyncIntervals = { membershipMs: 5000, ownershipMs: 5000, fullOwnershipMs: 30_000 };

// owner_since is the time a transaction started, so a claim that commits late
// carries a time before the cursor: re-read a little of the past every time.
const CURSOR_SLACK_MS = 2000;
/** Rows per query of a full ownership read. */
const FULL_READ_PAGE = 5000;

/** Runs `work` now, or once more right after the run in flight: never two at a time, never a lost request. */
class Coalesced {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(private readonly work: () => Promise<void>) {}

  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      await this.work();
    } while (this.again);
  }
}

export class RoutingSync {
  /** True once node rows were read at least once (readiness). */
  loaded = false;
  private cursor: Date | null = null;
  private lastFull = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubscribes: (() => Promise<void> | void)[] = [];
  private readonly membership = new Coalesced(() => this.readMembership());
  private readonly ownership = new Coalesced(() => this.readOwnership());
  private fullWanted = true;

  constructor(
    private readonly db: Queryable,
    private readonly table: RoutingTable,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly intervals: SyncIntervals = DEFAULT_INTERVALS,
    /** Sees every successful read of the node rows (the health probe follows them). */
    private readonly onNodes: (rows: NodeRow[]) => void = () => {},
  ) {}

  /** Subscribes, reads once (errors are logged, the timers retry), and starts the timers. */
  async start(): Promise<void> {
    this.unsubscribes.push(
      await this.bus.subscribe(Topic.Membership, (m) => this.onMembership(m as MembershipMessage)),
      await this.bus.subscribe(Topic.Ownership, (m) => this.onOwnership(m as OwnershipMessage)),
      this.bus.onResync(() => this.resync()),
    );
    await this.refreshMembership();
    await this.refreshOwnership();
    this.timers.push(
      setInterval(() => void this.refreshMembership(), this.intervals.membershipMs),
      setInterval(() => void this.refreshOwnership(), this.intervals.ownershipMs),
    );
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    await Promise.allSettled(this.unsubscribes.map((u) => u()));
    this.unsubscribes.length = 0;
  }

  /** Re-reads the node rows now (after a bus message, or after this balancer marked a node dead). */
  refreshMembership(): Promise<void> {
    return this.membership.run();
  }

  refreshOwnership(full = false): Promise<void> {
    if (full) this.fullWanted = true;
    return this.ownership.run();
  }

  private resync(): void {
    void this.refreshMembership();
    void this.refreshOwnership(true);
  }

  private onMembership(message: MembershipMessage): void {
    this.logger.debug({ message }, "membership message");
    void this.refreshMembership();
  }

  private onOwnership(message: OwnershipMessage): void {
    if (typeof message?.code !== "string") return;
    const owner = typeof message.owner === "string" ? message.owner : null;
    const epoch = typeof message.epoch === "number" ? message.epoch : undefined;
    // A message older than what this table knows (a late one, or one overtaken by a read) changes nothing.
    if (!this.table.applyOwnership({ code: message.code, owner, epoch })) {
      this.logger.debug({ message }, "stale ownership message ignored");
    }
  }

  private async readMembership(): Promise<void> {
    try {
      const rows = await listNodes(this.db);
      const ringChanged = this.table.setNodes(rows);
      this.loaded = true;
      this.onNodes(rows);
      if (ringChanged) {
        this.logger.info({ ring: this.table.snapshot().fingerprint }, "ring changed");
        void this.refreshOwnership(this.table.changeNeedsFullRead);
      }
    } catch (err) {
      this.logger.warn({ err }, "membership read failed");
    }
  }

  /** Every owned lobby, read a page at a time so no one result holds the event loop. */
  private async readAllOwned(): Promise<{ rows: Ownership[]; cursor: Date | null }> {
    const rows: Ownership[] = [];
    let cursor: Date | null = null;
    for (;;) {
      const page = await listOwnedLobbiesPage(this.db, rows.at(-1)?.code ?? null, FULL_READ_PAGE);
      rows.push(...page.rows);
      if (page.cursor && (!cursor || page.cursor > cursor)) cursor = page.cursor;
      if (page.rows.length < FULL_READ_PAGE) return { rows, cursor };
    }
  }

  private async readOwnership(): Promise<void> {
    const full = this.fullWanted || Date.now() - this.lastFull >= this.intervals.fullOwnershipMs;
    try {
      if (full) {
        this.fullWanted = false;
        const { rows, cursor } = await this.readAllOwned();
        await this.table.replaceOwnership(rows);
        this.cursor = cursor;
        this.lastFull = Date.now();
        return;
      }
      // No cursor yet (nothing was owned at the last full read): every change so far.
      const since = new Date(this.cursor ? this.cursor.getTime() - CURSOR_SLACK_MS : 0);
      const { rows, cursor } = await listOwnershipChanges(this.db, since);
      await this.table.applyOwnershipRows(rows);
      if (!this.cursor || cursor > this.cursor) this.cursor = cursor;
    } catch (err) {
      if (full) this.fullWanted = true;
      this.logger.warn({ err, full }, "ownership read failed");
    }
  }
}
