import type { AnyGame } from "../shared/game/define-game.js";
import type { ServerFrame } from "../shared/wire.js";
import { LobbyState, type StoredLobby } from "./lobby/lobby-state.js";
import { entryJson, projectEntry, type StoredEntry } from "./lobby/log-entry.js";

/**
 * One lobby loaded on this node. It keeps two copies of the lobby state:
 * `committed` (only durable entries; what welcome messages and GETs show) and
 * `speculative` (committed plus entries still in the commit queue, so the
 * next action is decided against the ones before it). When a commit fails
 * for this lobby alone, `speculative` is rebuilt from `committed` and the
 * entries still pending are decided again (LobbyRegistry.rebuild).
 *
 * Every frame to a player goes through one projection (`frameFor`): a game
 * with hidden information gets each entry projected per viewer.
 */

export type LobbyConnection = {
  playerId: string;
  send(message: ServerFrame): void;
  sendSerialized(text: string): void;
  close(code: number, reason: string): void;
};

export type CommittedEntry = { seq: number; entry: StoredEntry };

/** How many recent entries stay in memory for `since` replays without a database read. */
const RECENT_ENTRIES = 512;

export class LiveLobby {
  readonly code: string;
  readonly epoch: number;
  readonly game: AnyGame;
  readonly committed: LobbyState;
  speculative: LobbyState;
  /** One socket per player: a newer connection replaces an older one. */
  readonly connections = new Map<string, LobbyConnection>();
  /** Set once the lobby lost ownership or was unloaded: it accepts nothing more. */
  closed = false;
  /** False while the lobby is being handed off: new actions wait in the clients and are re-sent to the new owner. */
  accepting = true;
  /** When the last action was taken or a player connected (performance.now()), for idle unloading. */
  lastActivity = performance.now();
  private readonly recent: CommittedEntry[] = [];

  constructor(code: string, epoch: number, game: AnyGame, stored: StoredLobby | null) {
    this.code = code;
    this.epoch = epoch;
    this.game = game;
    this.committed = stored ? LobbyState.fromStored(stored, game) : LobbyState.empty(code, game);
    this.speculative = this.copyOfCommitted();
  }

  get seq(): number {
    return this.committed.seq;
  }

  copyOfCommitted(): LobbyState {
    return LobbyState.fromStored(this.committed.toStored(), this.game);
  }

  /**
   * Records a durable entry: first the ack to the player who sent it (on
   * whichever socket they have now, after a reconnect too), then the entry to
   * everyone, so a sender always sees its ack before the event.
   */
  commit(seq: number, entry: StoredEntry, actionId: string | undefined, playerId: string | null): void {
    this.committed.apply(seq, entry, actionId);
    if (actionId !== undefined && playerId !== null) {
      this.connections.get(playerId)?.send({ type: "ack", id: actionId, seq });
    }
    this.recent.push({ seq, entry });
    if (this.recent.length > RECENT_ENTRIES) this.recent.shift();
    this.broadcastEntry(seq, entry);
    // A player who left has nothing more to do here: 1000 tells the SDK not to come back.
    if (entry.kind === "player_left") this.connections.get(entry.playerId)?.close(1000, "left the lobby");
  }

  /** The event frame for one entry as `playerId` may see it, serialised. */
  frameFor(seq: number, entry: StoredEntry, playerId: string | null): string {
    // A chat is the same for every viewer: its frame reuses the JSON the group commit wrote.
    if (entry.kind === "chat") return `{"type":"event","seq":${seq},"event":${entryJson(entry)}}`;
    const viewer = this.committed.viewerOf(playerId);
    return JSON.stringify({ type: "event", seq, event: projectEntry(entry, this.game, viewer) });
  }

  private broadcastEntry(seq: number, entry: StoredEntry): void {
    if (!this.game.hidesInformation) {
      // Everyone sees the same: serialise once for the whole lobby.
      const text = this.frameFor(seq, entry, null);
      for (const connection of this.connections.values()) connection.sendSerialized(text);
      return;
    }
    // Seated players each get their own projection; spectators share one.
    const spectators: { text?: string } = {};
    for (const connection of this.connections.values()) {
      const seated = this.committed.viewerOf(connection.playerId).seat !== null;
      if (seated) connection.sendSerialized(this.frameFor(seq, entry, connection.playerId));
      else {
        spectators.text ??= this.frameFor(seq, entry, connection.playerId);
        connection.sendSerialized(spectators.text);
      }
    }
  }

  /** For frames that are the same for everyone (announcements, signals). */
  broadcast(message: ServerFrame, except?: string): void {
    const text = JSON.stringify(message);
    for (const connection of this.connections.values()) {
      if (connection.playerId !== except) connection.sendSerialized(text);
    }
  }

  /** Committed entries after `since` if memory still holds all of them, else null (read the log). */
  recentAfter(since: number): CommittedEntry[] | null {
    if (since >= this.seq) return [];
    const first = this.recent[0];
    if (!first || first.seq > since + 1) return null;
    return this.recent.filter((e) => e.seq > since);
  }

  /** Stops serving: every socket is told to reconnect through the balancer. */
  shutDown(closeCode: number, reason: string): void {
    this.closed = true;
    for (const connection of this.connections.values()) connection.close(closeCode, reason);
    this.connections.clear();
  }
}
