import type { AnyGame, Viewer } from "../../shared/game/define-game.js";
import type { LobbyEntry } from "../../shared/wire.js";

/**
 * One entry of a lobby's durable log (a row of `lobby_events`), as stored:
 * with what only the engine may see (the initial game state, create options,
 * join keys). Clients get `projectEntry(entry, game, viewer)`, which drops
 * those and passes every game event through the game's `project`.
 */
export type StoredEntry =
  | {
      kind: "lobby_created";
      playerId: string;
      name: string;
      seat: number | null;
      gameId: string;
      gameVersion: number;
      options: unknown;
      /** The game's state right after setup: replay starts here, so setup is never run twice. */
      setup: unknown;
      joinKey?: string;
      events: unknown[];
    }
  | { kind: "player_joined"; playerId: string; name: string; seat: number | null; joinKey?: string; events: unknown[] }
  | { kind: "player_left"; playerId: string; events: unknown[] }
  | { kind: "chat"; playerId: string; text: string }
  | { kind: "game"; playerId: string; action: string; events: unknown[] }
  | { kind: "timer"; name: string; at: number; events: unknown[] }
  | { kind: "closed"; reason: string };

/** The player an entry is by (acks go to them; the log's player_id column), if any. */
export function entryPlayer(entry: StoredEntry): string | null {
  return "playerId" in entry ? entry.playerId : null;
}

/** The entry as one viewer may see it. */
export function projectEntry(entry: StoredEntry, game: AnyGame, viewer: Viewer): LobbyEntry {
  const events = "events" in entry ? entry.events.map((e) => game.project(e, viewer)) : [];
  switch (entry.kind) {
    case "lobby_created":
      return {
        kind: entry.kind,
        playerId: entry.playerId,
        name: entry.name,
        seat: entry.seat,
        gameId: entry.gameId,
        events,
      };
    case "player_joined":
      return { kind: entry.kind, playerId: entry.playerId, name: entry.name, seat: entry.seat, events };
    case "player_left":
      return { kind: entry.kind, playerId: entry.playerId, events };
    case "game":
      return { kind: entry.kind, playerId: entry.playerId, action: entry.action, events };
    case "timer":
      return { kind: entry.kind, name: entry.name, at: entry.at, events };
    default:
      return entry;
  }
}

/** Entries that change what the public directory shows. */
export function changesDirectory(entry: StoredEntry): boolean {
  return entry.kind !== "chat";
}

const serialised = new WeakMap<StoredEntry, string>();

/**
 * An entry as JSON, serialised once however often it is needed: the group
 * commit writes it, and for an entry every viewer sees as it is (a chat) the
 * broadcast frame embeds the same text.
 */
export function entryJson(entry: StoredEntry): string {
  let text = serialised.get(entry);
  if (text === undefined) {
    text = JSON.stringify(entry);
    serialised.set(entry, text);
  }
  return text;
}
