import type { LobbyCommit } from "../shared/db/lobby-commit.js";
import type { PendingEntry } from "./commit-queue.js";
import type { LiveLobby } from "./live-lobby.js";
import { entryJson } from "./lobby/log-entry.js";

/** How the commit queue turns queued entries into one commit per lobby, and how it reads Postgres' refusals. */

export type LobbyGroup = { lobby: LiveLobby; commit: LobbyCommit; entries: PendingEntry[] };

export function rowKey(row: LobbyCommit["row"]): string {
  return `${row.status}\u0000${row.statusText}\u0000${row.playerCount}\u0000${row.nextTimerAt}`;
}

export function groupByLobby(batch: PendingEntry[]): LobbyGroup[] {
  const byLobby = new Map<LiveLobby, LobbyGroup>();
  for (const p of batch) {
    let group = byLobby.get(p.lobby);
    if (!group) {
      group = { lobby: p.lobby, commit: emptyCommit(p), entries: [] };
      byLobby.set(p.lobby, group);
    }
    const { commit } = group;
    group.entries.push(p);
    commit.lastSeq = p.seq;
    commit.row = p.row;
    commit.events.push({
      seq: p.seq,
      playerId: p.playerId,
      actionId: p.actionId ?? null,
      event: p.entry,
      json: entryJson(p.entry),
    });
    if (p.newPlayer) commit.newPlayers.push(p.newPlayer);
    if (p.snapshot) {
      commit.snapshot = p.snapshot;
      commit.snapshotSeq = p.seq;
    }
  }
  return [...byLobby.values()];
}

function emptyCommit(p: PendingEntry): LobbyCommit {
  return {
    code: p.lobby.code,
    epoch: p.lobby.epoch,
    gameId: p.lobby.game.id,
    gameVersion: p.lobby.game.version,
    create: p.create,
    firstSeq: p.seq,
    lastSeq: p.seq,
    row: p.row,
    rowChanged: true,
    snapshot: null,
    snapshotSeq: null,
    events: [],
    newPlayers: [],
  };
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity constraint): the data is at fault, not the connection. */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("23"));
}

/** Postgres unique_violation on the (code, player_id, action_id) index: an old action id sent again. */
export function isDuplicateAction(error: Error): boolean {
  const { code, constraint } = error as Error & { code?: string; constraint?: string };
  return code === "23505" && constraint === "lobby_events_action_idx";
}
