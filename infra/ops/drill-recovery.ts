/**
 * Per-lobby failover timing, computed from what the players saw (welcomes
 * and events with their arrival times), so it measures the outage a player
 * lives through rather than what the servers believe.
 */

export type PlayerRecord = {
  welcomes: readonly { node: string; at: number }[];
  events: readonly { seq: number; at: number }[];
  acked: readonly { ackedAt: number }[];
  /** Actions that got neither an ack nor a rejection (timed out, or the connection gave up). */
  failed?: number;
};

export type LobbyRecord = { code: string; players: readonly PlayerRecord[] };

export type LobbyRecovery = {
  code: string;
  /** The node serving the lobby when the victim was killed. */
  node: string;
  /** Served by the victim at the kill. */
  affected: boolean;
  /** The first node other than the victim to welcome one of the lobby's players after the kill. */
  newNode: string | null;
  /** Kill -> that welcome (ms). */
  reconnectMs: number | null;
  /** Kill -> the first event from the new owner, received by any player (ms); null: not recovered. */
  recoveryMs: number | null;
  /** Welcomes the lobby's players got after the kill: each one is a reconnect. */
  welcomesAfterKill: number;
  /** The node serving the lobby when the window ended. */
  nodeAtEnd: string | null;
  /** Longest time with no event at any player, from the kill until the load stopped (ms). */
  longestSilenceMs: number;
  acksBefore: number;
  acksAfter: number;
  /** Actions of the lobby's players that were never acked nor rejected. */
  failed: number;
  /** Ack times relative to the kill (ms) inside the timeline window, for the report's marks. */
  ackOffsets: number[];
};

/**
 * The node serving a lobby at an instant: the node of the most recent welcome
 * any of its players got up to then (players of one lobby share a node, except
 * for a moment during a move).
 */
export function servingNode(lobby: LobbyRecord, at: number): string | null {
  let latest: { node: string; at: number } | null = null;
  for (const p of lobby.players) {
    for (const w of p.welcomes) if (w.at <= at && (!latest || w.at >= latest.at)) latest = w;
  }
  return latest?.node ?? null;
}

/** For one player: the first welcome from a node other than the victim after the kill, and the first event after it. */
function playerRecovery(
  p: PlayerRecord,
  victim: string,
  killAt: number,
): { node: string; welcomeAt: number; eventAt: number | null } | null {
  const welcome = p.welcomes.find((w) => w.at >= killAt && w.node !== victim);
  if (!welcome) return null;
  const event = p.events.find((e) => e.at >= welcome.at);
  return { node: welcome.node, welcomeAt: welcome.at, eventAt: event?.at ?? null };
}

export type RecoveryWindow = {
  killAt: number;
  victim: string;
  /** When the load stopped: silences are measured up to here (after it nobody sends, so all is quiet). */
  loadEndAt: number;
  /** When the last action in flight settled: acks and recoveries up to here count. */
  endAt: number;
  timelineFromMs: number;
};

export function lobbyRecovery(lobby: LobbyRecord, w: RecoveryWindow): LobbyRecovery {
  const node = servingNode(lobby, w.killAt) ?? "?";
  const affected = node === w.victim;
  const found = lobby.players
    .map((p) => playerRecovery(p, w.victim, w.killAt))
    .filter((r): r is NonNullable<typeof r> => r !== null);
  const firstWelcome = [...found].sort((a, b) => a.welcomeAt - b.welcomeAt)[0];
  const eventTimes = found.map((r) => r.eventAt).filter((t): t is number => t !== null);
  const ackTimes = lobby.players.flatMap((p) => p.acked.map((a) => a.ackedAt));
  return {
    code: lobby.code,
    node,
    affected,
    newNode: affected ? (firstWelcome?.node ?? null) : null,
    reconnectMs: affected && firstWelcome ? firstWelcome.welcomeAt - w.killAt : null,
    recoveryMs: affected && eventTimes.length > 0 ? Math.min(...eventTimes) - w.killAt : null,
    welcomesAfterKill: lobby.players.reduce((n, p) => n + p.welcomes.filter((x) => x.at >= w.killAt).length, 0),
    nodeAtEnd: servingNode(lobby, w.endAt),
    longestSilenceMs: longestSilence(lobby, w.killAt, w.loadEndAt),
    acksBefore: ackTimes.filter((t) => t < w.killAt).length,
    acksAfter: ackTimes.filter((t) => t >= w.killAt).length,
    failed: lobby.players.reduce((n, p) => n + (p.failed ?? 0), 0),
    ackOffsets: ackTimes
      .map((t) => t - w.killAt)
      .filter((o) => o >= w.timelineFromMs && o <= w.endAt - w.killAt)
      .sort((a, b) => a - b),
  };
}

/** The widest gap between events any player of the lobby received, in [from, to]. */
export function longestSilence(lobby: LobbyRecord, from: number, to: number): number {
  const times = lobby.players
    .flatMap((p) => p.events.map((e) => e.at))
    .filter((t) => t >= from && t <= to)
    .sort((a, b) => a - b);
  let longest = 0;
  let prev = from;
  for (const t of [...times, to]) {
    longest = Math.max(longest, t - prev);
    prev = t;
  }
  return longest;
}

/** Nodes by how many of these lobbies they serve at an instant, most first. */
export function lobbiesPerNode(lobbies: readonly LobbyRecord[], at: number): [string, number][] {
  const counts = new Map<string, number>();
  for (const l of lobbies) {
    const node = servingNode(l, at);
    if (node) counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
