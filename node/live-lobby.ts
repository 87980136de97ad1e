import type { LobbyEvent, ServerMessage } from "../shared/protocol.js";
import type { StoredLobby } from "./game/lobby-state.js";
import { LobbyState } from "./game/lobby-state.js";

/**
 * One lobby loaded on this node. It keeps two copies of the game state:
 * `committed` (only durable events; what welcome messages and GETs show) and
 * `speculative` (committed plus events still in the commit queue, so the next
 * action is validated against the moves before it). If a commit fails the
 * lobby is unloaded and rebuilt from Postgres, so the copies never diverge
 * for long.
 */

export type LobbyConnection = {
  playerId: string;
  send(message: ServerMessage): void;
  sendSerialized(text: string): void;
  close(code: number, reason: string): void;
};

export type CommittedEvent = { seq: number; event: LobbyEvent };

/** How many recent events stay in memory for `since` replays without a database read. */
const RECENT_EVENTS = 512;

export class LiveLobby {
  readonly code: string;
  readonly epoch: number;
  readonly committed: LobbyState;
  readonly speculative: LobbyState;
  /** One socket per player: a newer connection replaces an older one. */
  readonly connections = new Map<string, LobbyConnection>();
  /** Set once the lobby lost ownership or failed a commit: it accepts nothing more. */
  closed = false;
  /** False while the lobby is being handed off: new actions wait in the clients and are re-sent to the new owner. */
  accepting = true;
  private readonly recent: CommittedEvent[] = [];

  constructor(code: string, epoch: number, stored: StoredLobby | null) {
    this.code = code;
    this.epoch = epoch;
    this.committed = stored ? LobbyState.fromStored(stored) : LobbyState.empty(code);
    this.speculative = LobbyState.fromStored(this.committed.toStored());
  }

  get seq(): number {
    return this.committed.seq;
  }

  /**
   * Records a durable event: first the ack to the player who sent it (on
   * whichever socket they have now, after a reconnect too), then the event to
   * everyone, so a sender always sees its ack before the event.
   */
  commit(seq: number, event: LobbyEvent, actionId: string | undefined): void {
    this.committed.apply(seq, event, actionId);
    if (actionId !== undefined) this.connections.get(event.playerId)?.send({ type: "ack", id: actionId, seq });
    this.recent.push({ seq, event });
    if (this.recent.length > RECENT_EVENTS) this.recent.shift();
    this.broadcast({ type: "event", seq, event });
  }

  broadcast(message: ServerMessage): void {
    const text = JSON.stringify(message);
    for (const connection of this.connections.values()) connection.sendSerialized(text);
  }

  /** Committed events after `since` if memory still holds all of them, else null (read the log). */
  recentAfter(since: number): CommittedEvent[] | null {
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
