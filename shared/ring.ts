import HashRing from "hashring";

/**
 * Placement of lobby codes on nodes: a consistent-hash ring (hashring) over
 * the ids of the active nodes, weighted. Keys are always `lobby:CODE`:
 * hashring's cache is a plain object, and a bare key such as `__proto__`
 * would corrupt it.
 */

export type RingMember = { id: string; weight: number };

/** Points per member before weighting; more points, more even spread. */
export const DEFAULT_VNODES = 160;

export class Ring {
  readonly members: readonly RingMember[];
  private readonly ring: HashRing | null;

  constructor(members: readonly RingMember[], vnodes = DEFAULT_VNODES) {
    // Sorted so that every process builds the identical ring from the same rows.
    this.members = members.filter((m) => m.weight > 0).sort((a, b) => a.id.localeCompare(b.id));
    if (this.members.length === 0) {
      this.ring = null;
      return;
    }
    const servers: Record<string, { weight: number }> = {};
    for (const m of this.members) servers[m.id] = { weight: m.weight };
    this.ring = new HashRing(servers, "md5", { "vnode count": vnodes, "max cache size": 10_000 });
  }

  get size(): number {
    return this.members.length;
  }

  /** The node id that owns a lobby code, or null on an empty ring. */
  owner(code: string): string | null {
    return this.ring ? this.ring.get(`lobby:${code}`) : null;
  }

  /** A stable fingerprint, to tell whether two rings would place codes alike. */
  fingerprint(): string {
    return this.members.map((m) => `${m.id}*${m.weight}`).join(",");
  }
}

type NodeRowLike = { id: string; state: string; weight: number; leaseValid: boolean };

/** The ring every process derives from the same `nodes` rows: active nodes whose lease is valid. */
export function ringOfActiveNodes(rows: readonly NodeRowLike[], vnodes = DEFAULT_VNODES): Ring {
  return new Ring(
    rows.filter((r) => r.state === "active" && r.leaseValid).map((r) => ({ id: r.id, weight: r.weight })),
    vnodes,
  );
}

/** What ringOfActiveNodes(rows).fingerprint() would be, without hashing any point (to skip rebuilding an unchanged ring). */
export function activeFingerprint(rows: readonly NodeRowLike[]): string {
  return rows
    .filter((r) => r.state === "active" && r.leaseValid && r.weight > 0)
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((r) => `${r.id}*${r.weight}`)
    .join(",");
}
