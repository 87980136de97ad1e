import type { CommitQueue, Settled } from "./commit-queue.js";
import type { LiveLobby } from "./live-lobby.js";
import type { EntryRequest } from "./lobby/lobby-decisions.js";
import type { StoredEntry } from "./lobby/log-entry.js";

/**
 * How an entry decided by LobbyRegistry joins the group commit: applied to
 * the lobby's speculative state at once, then queued with what its commit
 * writes (the lobby row, and a snapshot every SNAPSHOT_EVERY entries). Apart
 * from the registry, which decides what goes in; this is only how it goes in.
 */

/** A snapshot every this many entries keeps a restore at one snapshot plus fewer entries. */
export const SNAPSHOT_EVERY = 100;

export type AppendMeta = {
  playerId: string | null;
  actionId: string | undefined;
  newPlayer: { id: string; name: string } | null;
  create: { hostName: string; isPublic: boolean } | null;
};

export function enqueueEntry(
  queue: CommitQueue,
  lobby: LiveLobby,
  entry: StoredEntry,
  request: EntryRequest,
  meta: AppendMeta,
  settle: (result: Settled) => void,
): void {
  const state = lobby.speculative;
  const seq = state.seq + 1;
  state.apply(seq, entry, meta.actionId);
  const { status, statusText } = state.status();
  queue.enqueue({
    lobby,
    seq,
    entry,
    request,
    playerId: meta.playerId,
    actionId: meta.actionId,
    newPlayer: meta.newPlayer,
    create: meta.create,
    snapshot: seq % SNAPSHOT_EVERY === 0 ? state.toStored() : null,
    row: { status, statusText, playerCount: state.playerCount, nextTimerAt: state.nextTimer()?.at ?? null },
    settle,
  });
}
