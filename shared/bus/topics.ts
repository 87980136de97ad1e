/**
 * Topics on the cluster event bus and the messages they carry. Keep messages
 * small: the Postgres bus sends anything over ~7,900 bytes through a table.
 */

export const Topic = {
  /** A node's state changed (joined, active, draining, dead). */
  Membership: "membership",
  /** A lobby's owner or epoch changed (claim after a death, handoff). */
  Ownership: "ownership",
  /** An admin announcement for every connected player on every node. */
  Announce: "announce",
  /** A direct message for one player, wherever they are connected. */
  DirectMessage: "dm",
  /** The public lobby directory changed. */
  Directory: "directory",
  /** An operator asked every node to hand lobbies off to their ring owners. */
  Rebalance: "rebalance",
} as const;

export type MembershipMessage = { nodeId: string; state: "joining" | "active" | "draining" | "dead"; reason?: string };
export type OwnershipMessage = {
  code: string;
  owner: string | null;
  epoch: number;
  /** Set by a graceful handoff: the new owner loads the lobby at once, before its players come back. */
  handoff?: boolean;
};
export type AnnounceMessage = { text: string; at: string };
export type DirectMessage = {
  id: string;
  to: string;
  from: { playerId: string; name: string; lobby: string };
  text: string;
  at: string;
};
export type DirectoryMessage = {
  code: string;
  /** The game's id. */
  game: string;
  status: string;
  /** The game's one-line status (never hidden information). */
  statusText: string;
  players: number;
  host: string;
  /** Players connected right now (from presence). */
  online: number;
};

export type RebalanceMessage = { requestedBy: string; at: string };
