import type { EventBus } from "../shared/bus/event-bus.js";
import { type OwnershipMessage, Topic } from "../shared/bus/topics.js";
import { listLobbiesOwnedBy, transferLobby } from "../shared/db/lobbies.js";
import { recordHistory } from "../shared/db/membership.js";
import type { Pool } from "../shared/db/pool.js";
import type { Logger } from "../shared/log.js";
import { CloseCode } from "../shared/protocol.js";
import type { Ring } from "../shared/ring.js";
import type { CommitQueue } from "./commit-queue.js";
import type { LiveLobby } from "./live-lobby.js";
import type { LobbyRegistry } from "./lobby-registry.js";

export type HandoffOptions = {
  pool: Pool;
  bus: EventBus;
  nodeId: string;
  registry: LobbyRegistry;
  queue: CommitQueue;
  log: Logger;
  /** The ring of active nodes, with or without this one. */
  ring: (includingSelf: boolean) => Promise<Ring>;
};

export type HandoffResult = { code: string; to: string; pauseMs: number };

/**
 * Graceful handoff (drain): for each lobby, stop taking actions (they stay
 * unacked in the clients and are re-sent to the new owner), wait until
 * everything queued is durable, move ownership to the ring owner with
 * epoch + 1, then close the lobby's sockets with 1012 so the clients
 * reconnect through the balancer and resume. Nothing acked is lost; the
 * pause per lobby is measured and logged.
 */
export class Handoff {
  constructor(private readonly opts: HandoffOptions) {}

  /** Draining: every lobby goes to its owner on the ring of the other live nodes. */
  async drainAll(): Promise<HandoffResult[]> {
    return this.moveWhere(await this.opts.ring(false), () => true);
  }

  /**
   * Rebalancing: the lobbies this node serves although the ring (with this
   * node in it) places them elsewhere, e.g. after nodes joined or failovers,
   * go to their ring owners. New nodes take their share of live lobbies only
   * this way, on an operator's request (invariant 4).
   */
  async rebalance(): Promise<HandoffResult[]> {
    const ring = await this.opts.ring(true);
    return this.moveWhere(ring, (code) => ring.owner(code) !== this.opts.nodeId);
  }

  private async moveWhere(ring: Ring, shouldMove: (code: string) => boolean): Promise<HandoffResult[]> {
    const results: HandoffResult[] = [];
    for (const lobby of this.opts.registry.all()) {
      if (!shouldMove(lobby.code)) continue;
      const result = await this.handOff(lobby, ring);
      if (result) results.push(result);
    }
    // Lobbies recorded as ours but not loaded (idle) move too, without a pause.
    for (const owned of await listLobbiesOwnedBy(this.opts.pool, this.opts.nodeId)) {
      const to = ring.owner(owned.code);
      if (!to || to === this.opts.nodeId || !shouldMove(owned.code) || this.opts.registry.get(owned.code)) continue;
      const epoch = await transferLobby(this.opts.pool, owned.code, { node: this.opts.nodeId, epoch: owned.epoch }, to);
      if (epoch !== null) await this.announce(owned.code, to, epoch);
    }
    return results;
  }

  private async handOff(lobby: LiveLobby, ring: Ring): Promise<HandoffResult | null> {
    const to = ring.owner(lobby.code);
    if (!to || to === this.opts.nodeId) {
      this.opts.log.warn({ code: lobby.code }, "no live node to hand the lobby to");
      return null;
    }
    const started = performance.now();
    lobby.accepting = false;
    await this.opts.queue.drained();
    const { pool, nodeId, registry } = this.opts;
    const epoch = await transferLobby(pool, lobby.code, { node: nodeId, epoch: lobby.epoch }, to);
    registry.unload(lobby, CloseCode.Restart, `handed off to ${to}; reconnect`);
    if (epoch === null) return null;
    await this.announce(lobby.code, to, epoch);
    const pauseMs = Math.round(performance.now() - started);
    await recordHistory(pool, { kind: "handoff", nodeId, code: lobby.code, detail: { to, epoch, pauseMs } });
    this.opts.log.info({ code: lobby.code, to, epoch, pauseMs }, "lobby handed off");
    return { code: lobby.code, to, pauseMs };
  }

  private async announce(code: string, owner: string, epoch: number): Promise<void> {
    const message: OwnershipMessage = { code, owner, epoch };
    await this.opts.bus.publish(Topic.Ownership, message).catch(() => {});
  }
}
