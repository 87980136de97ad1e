import type { LoggedEvent, StoredLobbyRow } from "../shared/db/lobbies.js";
import type { AnyGame } from "../shared/game/define-game.js";
import { LiveLobby } from "./live-lobby.js";
import { LobbyState, type StoredLobby } from "./lobby/lobby-state.js";
import type { StoredEntry } from "./lobby/log-entry.js";

/**
 * A lobby comes back from Postgres as its row (with the latest snapshot) plus
 * the log entries after that snapshot. One lobby reads its entries on its
 * own; a takeover reads many lobbies' entries in one query: both build the
 * lobby here.
 */

/** The lobby's state as of its snapshot (or empty): the entries after `state.seq` are still to be applied. */
export function stateFromRow(row: StoredLobbyRow, game: AnyGame): LobbyState {
  return row.snapshot ? LobbyState.fromStored(row.snapshot as StoredLobby, game) : LobbyState.empty(row.code, game);
}

/** The live lobby after replaying the entries onto the state; throws when the log ends elsewhere than the row says. */
export function liveFromLog(row: StoredLobbyRow, game: AnyGame, state: LobbyState, events: LoggedEvent[]): LiveLobby {
  for (const e of events) state.apply(e.seq, e.event as StoredEntry, e.actionId ?? undefined);
  if (state.seq !== row.lastSeq) {
    throw new Error(`lobby ${row.code}: log ends at ${state.seq}, lobby row says ${row.lastSeq}`);
  }
  return new LiveLobby(row.code, row.epoch, game, state.toStored());
}
