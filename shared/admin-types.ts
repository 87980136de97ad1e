/**
 * The balancer's admin API answers (/admin/*) as JSON on the wire: dates are
 * ISO strings. Shared by the ops CLI and the ops dashboard.
 */

export type AdminNode = {
  id: string;
  url: string;
  state: "joining" | "active" | "draining" | "dead";
  weight: number;
  incarnation: number;
  leaseValid: boolean;
  leaseExpires: string;
  startedAt: string;
  /** This balancer's probes saw the node refuse connections. */
  suspect: boolean;
  probeFailures: number;
  /** Lobbies recorded as owned by the node. */
  lobbies: number;
};

export type AdminRing = {
  balancer: string;
  fingerprint: string;
  members: { id: string; weight: number }[];
  nodes: AdminNode[];
  /** Lobbies whose live owner is not their ring owner. */
  exceptions: { code: string; owner: string; ownerAlive: boolean }[];
};

export type HistoryEntry = {
  id: number;
  at: string;
  kind: string;
  nodeId: string | null;
  code: string | null;
  detail: unknown;
};
