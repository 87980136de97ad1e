import type { EventBus } from "../shared/bus/event-bus.js";
import { type AnnounceMessage, type DirectMessage, Topic } from "../shared/bus/topics.js";
import { playerName } from "../shared/db/lobbies.js";
import type { Pool } from "../shared/db/pool.js";
import { findPlayerNode } from "../shared/db/presence.js";
import type { Logger } from "../shared/log.js";
import type { DirectMessageRequest } from "../shared/protocol.js";
import type { PlayerSocket } from "./player-socket.js";

/** Direct messages remembered per node to drop re-sends (a sender whose ack was lost sends again). */
const RECENT_DIRECT_MESSAGES = 4096;

export type CrossNodeOptions = {
  bus: EventBus;
  pool: Pool;
  log: Logger;
  /** This node's open sockets, by player id. */
  socketOf: (playerId: string) => PlayerSocket | undefined;
  everySocket: () => Iterable<PlayerSocket>;
};

/**
 * Messages that cross lobbies and nodes over the event bus: admin
 * announcements to every connected player, and direct messages from one
 * player to another wherever each is connected. Neither is part of a lobby's
 * durable log; a direct message is acked once it is on the bus (at most once
 * beyond that, like the bus itself). A sender whose ack was lost re-sends
 * with the same id; the recipient's node delivers each (sender, id) once.
 */
export class CrossNodeMessages {
  private readonly delivered = new Set<string>();

  constructor(private readonly opts: CrossNodeOptions) {}

  async start(): Promise<void> {
    await this.opts.bus.subscribe(Topic.Announce, (m) => this.announce(m as AnnounceMessage));
    await this.opts.bus.subscribe(Topic.DirectMessage, (m) => this.deliver(m as DirectMessage));
  }

  private announce(message: AnnounceMessage): void {
    if (typeof message?.text !== "string") return;
    const text = JSON.stringify({ type: "announcement", text: message.text, at: message.at });
    for (const socket of this.opts.everySocket()) socket.sendSerialized(text);
  }

  private deliver(message: DirectMessage): void {
    const socket = this.opts.socketOf(message.to);
    if (!socket) return;
    const key = `${message.from.playerId}/${message.id}`;
    if (this.delivered.has(key)) return;
    this.delivered.add(key);
    // A Set iterates in insertion order: the first key is the oldest.
    if (this.delivered.size > RECENT_DIRECT_MESSAGES)
      this.delivered.delete(this.delivered.values().next().value as string);
    socket.send({ type: "dm", from: message.from, text: message.text, at: message.at });
  }

  /** A player asked to message another player: find them in presence, then publish. */
  async send(from: PlayerSocket, request: DirectMessageRequest): Promise<void> {
    try {
      const [target, sender] = await Promise.all([
        findPlayerNode(this.opts.pool, request.to),
        playerName(this.opts.pool, from.playerId),
      ]);
      if (!target) {
        from.send({ type: "error", id: request.id, code: "unknown_player", message: "that player is not connected" });
        return;
      }
      const message: DirectMessage = {
        id: request.id,
        to: request.to,
        from: { playerId: from.playerId, name: sender?.name ?? "?", lobby: from.code },
        text: request.text,
        at: new Date().toISOString(),
      };
      await this.opts.bus.publish(Topic.DirectMessage, message);
      from.send({ type: "ack", id: request.id });
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, "direct message failed");
      from.send({ type: "error", id: request.id, code: "unavailable", message: "could not send; try again" });
    }
  }
}
