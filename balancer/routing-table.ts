import type { NodeRow } from "../shared/db/membership.js";
import { Ring } from "../shared/ring.js";

/** Ownership rows applied per turn of the event loop (about 6 ms of work). */
const OWNERSHIP_SLICE = 1000;

/** Runs `apply` on every row, yielding to the event loop after each OWNERSHIP_SLICE of them. */
async function applySliced<T>(rows: readonly T[], apply: (row: T) => void): Promise<void> {
  for (let i = 0; i < rows.length; i++) {
    apply(rows[i] as T);
    if ((i + 1) % OWNERSHIP_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * What one balancer knows about where lobbies live: the node rows last read
 * from Postgres, the ring they make, and the exceptions (lobbies whose
 * recorded owner is not today's ring owner). No I/O: a lobby request never
 * waits on the database, it asks this table (large reads are applied to it a
 * slice at a time).
 */

export type Target = { id: string; url: string };

/** An ownership fact; `epoch` (the lobby's fencing epoch) orders facts about one lobby, newest wins. */
export type OwnershipRow = { code: string; owner: string | null; epoch?: number };

/** Ownership epochs of lobbies on their ring owner are kept this long, against late, older messages. */
const RECENT_MS = 60_000;

export type RoutingSnapshot = {
  fingerprint: string;
  members: { id: string; weight: number }[];
  nodes: NodeRow[];
  exceptions: { code: string; owner: string; ownerAlive: boolean }[];
};

/** The nodes that take lobbies: active in Postgres, lease still valid (Postgres time). */
export function ringMembers(nodes: Iterable<NodeRow>): { id: string; weight: number }[] {
  const members: { id: string; weight: number }[] = [];
  for (const n of nodes) if (n.state === "active" && n.leaseValid) members.push({ id: n.id, weight: n.weight });
  return members;
}

/** The same string as Ring.fingerprint(), without building the ring. */
function fingerprint(members: readonly { id: string; weight: number }[]): string {
  return [...members]
    .filter((m) => m.weight > 0)
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((m) => `${m.id}*${m.weight}`)
    .join(",");
}

/** A recorded owner still serves its lobbies while it runs, draining included. */
function isAlive(node: NodeRow | undefined): node is NodeRow {
  return node !== undefined && node.state !== "dead" && node.leaseValid;
}

export class RoutingTable {
  private nodes = new Map<string, NodeRow>();
  private ring: Ring;
  private readonly exceptions = new Map<string, string>();
  /**
   * The lowest epoch a fact about a lobby must carry to be applied: the epoch
   * of the newest fact seen (a repeat of it is harmless), one more after a
   * node's correction (newer than anything seen, epoch unknown). Kept for the
   * exceptions, and for RECENT_MS for the rest (insertion order is age order).
   */
  private readonly floors = new Map<string, number>();
  private readonly recent = new Map<string, { floor: number; at: number }>();
  private roundRobin = 0;

  /**
   * Whether the last ring change may have made ordinary lobbies exceptions (a node joined, one
   * drains or changed weight): then only a full ownership read finds them. When dead nodes merely
   * left, every lobby of a live node stays on its ring owner, and route() already sends a dead
   * owner's lobbies to their new ring owner: reading every owned lobby (tens of thousands, while
   * players reconnect through this balancer) would only cost time in a failover.
   */
  changeNeedsFullRead = true;

  constructor(private readonly vnodes?: number) {
    this.ring = new Ring([], vnodes);
  }

  /**
   * Replaces the node rows. Returns true when the ring changed: exceptions are
   * then pruned, and the caller must re-read ownership in full, because a
   * lobby on its old ring owner was not kept and may be an exception now.
   */
  setNodes(rows: readonly NodeRow[]): boolean {
    this.nodes = new Map(rows.map((r) => [r.id, r]));
    const members = ringMembers(rows);
    // Building a ring hashes every virtual node: only when the members changed.
    if (fingerprint(members) === this.ring.fingerprint()) return false;
    this.changeNeedsFullRead = !onlyDeadLeft(this.ring.members, members, this.nodes);
    this.ring = new Ring(members, this.vnodes);
    for (const [code, owner] of this.exceptions) if (owner === this.ring.owner(code)) this.dropException(code);
    return true;
  }

  /**
   * Applies one ownership fact (a row, a bus message or a node's 421 answer),
   * unless it is older than one already applied (messages and reads may
   * arrive out of order). Returns whether it was applied.
   */
  applyOwnership(row: OwnershipRow): boolean {
    return this.apply(row, true);
  }

  /**
   * A full re-read: the rows are every owned lobby, so anything not among them
   * is no exception. Applied a slice at a time, yielding to the event loop in
   * between: 50,000 rows took ~350 ms of one turn (a ring lookup per row),
   * during which every request and reconnect through this balancer waited.
   */
  async replaceOwnership(rows: readonly OwnershipRow[]): Promise<void> {
    const listed = new Set<string>();
    await applySliced(rows, (row) => {
      listed.add(row.code);
      // Epochs of lobbies on their ring owner are not kept from a full read: that would be every lobby.
      this.apply(row, false);
    });
    for (const code of this.exceptions.keys()) if (!listed.has(code)) this.dropException(code);
  }

  /** Rows of an incremental read, applied a slice at a time like a full read. */
  async applyOwnershipRows(rows: readonly OwnershipRow[]): Promise<void> {
    await applySliced(rows, (row) => this.applyOwnership(row));
  }

  private apply(row: OwnershipRow, keepFloor: boolean): boolean {
    // A correction (no epoch) naming the owner this table already routes to is no news: it must not raise
    // the floor again. Every client of a moved lobby meets the same 421; a floor raised once per client
    // would outgrow the real epochs, and the next real move (and every full read) would be refused as stale.
    if (row.epoch === undefined && this.routesTo(row.code, row.owner)) return true;
    const floor = this.floors.get(row.code) ?? this.recentFloor(row.code);
    if (row.epoch !== undefined && floor !== undefined && row.epoch < floor) return false;
    const newFloor = row.epoch ?? (floor === undefined ? undefined : floor + 1);
    if (row.owner === null || row.owner === this.ring.owner(row.code)) {
      this.exceptions.delete(row.code);
      this.floors.delete(row.code);
      if (newFloor !== undefined && (keepFloor || this.recent.has(row.code))) this.remember(row.code, newFloor);
    } else {
      this.exceptions.set(row.code, row.owner);
      if (newFloor === undefined) this.floors.delete(row.code);
      else this.floors.set(row.code, newFloor);
      this.recent.delete(row.code);
    }
    return true;
  }

  private dropException(code: string): void {
    const floor = this.floors.get(code);
    this.exceptions.delete(code);
    this.floors.delete(code);
    if (floor !== undefined) this.remember(code, floor);
  }

  /** Whether this table already sends the lobby to `owner` (null: released, so the ring owner). */
  private routesTo(code: string, owner: string | null): boolean {
    const exception = this.exceptions.get(code);
    if (exception !== undefined) return exception === owner;
    return owner === null || owner === this.ring.owner(code);
  }

  private remember(code: string, floor: number): void {
    const now = Date.now();
    this.recent.delete(code);
    this.recent.set(code, { floor, at: now });
    for (const [old, { at }] of this.recent) {
      if (now - at < RECENT_MS) break;
      this.recent.delete(old);
    }
  }

  private recentFloor(code: string): number | undefined {
    const entry = this.recent.get(code);
    return entry && Date.now() - entry.at < RECENT_MS ? entry.floor : undefined;
  }

  /**
   * A node said who owns the lobby (HTTP 421). Returns false when that owner
   * is a node this table has not read yet (it joined since): the caller
   * should re-read membership.
   */
  correct(code: string, owner: string | null): boolean {
    this.applyOwnership({ code, owner });
    return owner === null || this.nodes.has(owner);
  }

  /** The recorded owner while it is alive, else the ring owner; null on an empty ring. */
  route(code: string): Target | null {
    const recorded = this.nodes.get(this.exceptions.get(code) ?? "");
    if (isAlive(recorded)) return { id: recorded.id, url: recorded.url };
    return this.target(this.ring.owner(code));
  }

  /** Any node of the ring, in turn: for requests that are not about one lobby. */
  anyActive(): Target | null {
    const members = this.ring.members;
    if (members.length === 0) return null;
    this.roundRobin = (this.roundRobin + 1) % members.length;
    return this.target(members[this.roundRobin]?.id ?? null);
  }

  node(id: string): NodeRow | undefined {
    return this.nodes.get(id);
  }

  allNodes(): NodeRow[] {
    return [...this.nodes.values()];
  }

  get ringSize(): number {
    return this.ring.size;
  }

  get exceptionCount(): number {
    return this.exceptions.size;
  }

  snapshot(): RoutingSnapshot {
    return {
      fingerprint: this.ring.fingerprint(),
      members: this.ring.members.map((m) => ({ id: m.id, weight: m.weight })),
      nodes: this.allNodes(),
      exceptions: [...this.exceptions].map(([code, owner]) => ({
        code,
        owner,
        ownerAlive: isAlive(this.nodes.get(owner)),
      })),
    };
  }

  private target(id: string | null): Target | null {
    const node = id === null ? undefined : this.nodes.get(id);
    return node ? { id: node.id, url: node.url } : null;
  }
}

/** The new members are old members with their old weights, and every member gone is dead. */
function onlyDeadLeft(
  before: readonly { id: string; weight: number }[],
  after: readonly { id: string; weight: number }[],
  nodes: ReadonlyMap<string, NodeRow>,
): boolean {
  const old = new Map(before.map((m) => [m.id, m.weight]));
  if (after.some((m) => old.get(m.id) !== m.weight)) return false;
  const kept = new Set(after.map((m) => m.id));
  return before.every((m) => kept.has(m.id) || (nodes.get(m.id)?.state ?? "dead") === "dead");
}
