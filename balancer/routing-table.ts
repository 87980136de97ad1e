import type { NodeRow } from "../shared/db/membership.js";
import { Ring } from "../shared/ring.js";

/**
 * What one balancer knows about where lobbies live: the node rows last read
 * from Postgres, the ring they make, and the exceptions (lobbies whose
 * recorded owner is not today's ring owner). Pure and synchronous: a lobby
 * request never waits on the database, it asks this table.
 */

export type Target = { id: string; url: string };

export type OwnershipRow = { code: string; owner: string | null };

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
  private roundRobin = 0;

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
    this.ring = new Ring(members, this.vnodes);
    for (const [code, owner] of this.exceptions) if (owner === this.ring.owner(code)) this.exceptions.delete(code);
    return true;
  }

  /** Applies one ownership fact (a row, a bus message or a node's 421 answer). */
  applyOwnership(row: OwnershipRow): void {
    if (row.owner === null || row.owner === this.ring.owner(row.code)) this.exceptions.delete(row.code);
    else this.exceptions.set(row.code, row.owner);
  }

  /** A full re-read: the rows are every owned lobby, so anything not among them is no exception. */
  replaceOwnership(rows: readonly OwnershipRow[]): void {
    this.exceptions.clear();
    for (const row of rows) this.applyOwnership(row);
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
