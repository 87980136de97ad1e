import type { StoredEntry } from "../../node/lobby/log-entry.js";
import { type LoggedEvent, readEventsAfter, readLogOf } from "../../shared/db/lobbies.js";
import type { Pool } from "../../shared/db/pool.js";
import {
  applyBattleship,
  type BattleshipEvent,
  type BattleshipState,
  battleshipTimers,
} from "../../shared/games/battleship/rules.js";

/**
 * Battleship lobbies' durable logs, read back and folded the way the engine
 * folds them, to account for every timer: which (name, due time) each state
 * had pending, and which `timer` entries fired, under which epoch (the owner
 * that committed it).
 */

export type LoggedEntry = { seq: number; epoch: number; entry: StoredEntry };
export type FiredTimer = { name: string; at: number; seq: number; epoch: number };
export type Pending = { name: string; at: number };

export type TimerAudit = {
  fired: FiredTimer[];
  /** Timer entries whose (name, due time) had fired before. */
  duplicates: FiredTimer[];
  /** Timer entries that were not the pending timer when they were logged. */
  strays: FiredTimer[];
  /** Pending timers that were replaced without firing (an action moved the game on first). */
  superseded: Pending[];
  /** The timer pending after the last entry. */
  pending: Pending | null;
};

/** Every entry of these lobbies, with the epoch it was committed under. */
export async function readLobbyLogs(pool: Pool, codes: string[]): Promise<Map<string, LoggedEntry[]>> {
  const events = new Map<string, LoggedEvent[]>();
  for (const code of codes) events.set(code, await readEventsAfter(pool, code, 0));
  // Read after the events, so it covers every entry read above (newer ones are left out).
  const epochs = new Map((await readLogOf(pool, codes)).map((row) => [`${row.code}/${row.seq}`, row.epoch]));
  const logs = new Map<string, LoggedEntry[]>();
  for (const [code, rows] of events) {
    const epochOf = (seq: number) => {
      const epoch = epochs.get(`${code}/${seq}`);
      if (epoch === undefined) throw new Error(`${code}: no epoch for seq ${seq}`);
      return epoch;
    };
    logs.set(
      code,
      rows.map((row) => ({ seq: row.seq, epoch: epochOf(row.seq), entry: row.event as StoredEntry })),
    );
  }
  return logs;
}

/** Folds a lobby's log from its first entry and accounts for its timers. */
export function auditTimers(log: readonly LoggedEntry[]): TimerAudit {
  const audit: TimerAudit = { fired: [], duplicates: [], strays: [], superseded: [], pending: null };
  const firedAt = new Map<string, number>();
  const firedKeys = new Set<string>();
  let state: BattleshipState | null = null;
  for (const { seq, epoch, entry } of log) {
    if (entry.kind === "timer") {
      const fired = { name: entry.name, at: entry.at, seq, epoch };
      const key = `${entry.name}@${entry.at}`;
      if (firedKeys.has(key)) audit.duplicates.push(fired);
      if (audit.pending?.name !== entry.name || audit.pending.at !== entry.at) audit.strays.push(fired);
      firedKeys.add(key);
      firedAt.set(entry.name, entry.at);
      audit.fired.push(fired);
    }
    if (entry.kind === "lobby_created") state = entry.setup as BattleshipState;
    if (state && "events" in entry) {
      for (const event of entry.events) state = applyBattleship(state, event as BattleshipEvent);
    }
    const before = audit.pending;
    audit.pending = state ? pendingTimer(state, firedAt) : null;
    const replaced = before && (before.name !== audit.pending?.name || before.at !== audit.pending.at);
    if (replaced && before && !firedKeys.has(`${before.name}@${before.at}`)) audit.superseded.push(before);
  }
  return audit;
}

/** The engine's rule (LobbyState.nextTimer): the earliest timer whose due time has not fired yet. */
function pendingTimer(state: BattleshipState, firedAt: Map<string, number>): Pending | null {
  let next: Pending | null = null;
  for (const [name, at] of Object.entries(battleshipTimers(state))) {
    if (at <= (firedAt.get(name) ?? Number.NEGATIVE_INFINITY)) continue;
    if (next === null || at < next.at) next = { name, at };
  }
  return next;
}
