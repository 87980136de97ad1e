import type { EventBus } from "../shared/bus/event-bus.js";
import { type OwnershipMessage, Topic } from "../shared/bus/topics.js";
import { releaseOwnedLobbies } from "../shared/db/lifecycle.js";
import { listLobbiesOwnedBy, transferLobby } from "../shared/db/lobbies.js";
import { recordHistory } from "../shared/db/membership.js";
import type { Pool } from "../shared/db/pool.js";
import type { Logger } from "../shared/log.js";
import { CloseCode } from "../shared/protocol.js";
import type { Ring } from "../shared/ring.js";
import type { CommitQueue } from "./commit-queue.js";
import type { LiveLobby } from "./live-lobby.js";
import type { LobbyRegistry } from "./lobby-registry.js";
import { runLimited } from "./run-limited.js";

export type HandoffOptions = {
  pool: Pool;
  bus: EventBus;
  nodeId: string;
  registry: LobbyRegistry;
  queue: CommitQueue;
  log: Logger;
  /** The ring of active nodes, with or without this one. */
  ring: (includingSelf: boolean) => Promise<Ring>;
  /** Each lobby's handoff, as it ends (a metric). */
  onHandoff?: (ok: boolean) => void;
};

export type HandoffResult = { code: string; to: string; pauseMs: number };

/** Lobbies handed off at once: each waits only for its own commits, so a drain is not one lobby at a time. */
const PARALLEL_HANDOFFS = 8;

/**
 * Graceful handoff (drain): for each lobby, stop taking actions (they stay
 * unacked in the clients and are re-sent to the new owner), wait until that
 * lobby's queued events are durable, move ownership to the ring owner with
 * epoch + 1, then close the lobby's sockets with 1012 so the clients
 * reconnect through the balancer and resume. Nothing acked is lost; the
 * pause per lobby is measured and logged. A lobby whose move fails serves on
 * here, and the other lobbies still move.
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
    // Lobbies with players first: theirs is the pause someone sees.
    const loaded = this.opts.registry
      .all()
      .filter((lobby) => shouldMove(lobby.code))
      .sort((a, b) => b.connections.size - a.connections.size);
    await runLimited(loaded, PARALLEL_HANDOFFS, async (lobby) => {
      const result = await this.handOff(lobby, ring);
      if (result) results.push(result);
    });
    // Lobbies recorded as ours but not loaded (idle) are released in one statement, without a pause:
    // each is claimed by its ring owner on its next request, or when a timer of it falls due.
    const idle = (await listLobbiesOwnedBy(this.opts.pool, this.opts.nodeId))
      .filter((owned) => shouldMove(owned.code) && !this.opts.registry.get(owned.code))
      .map((owned) => owned.code);
    const released = await releaseOwnedLobbies(this.opts.pool, this.opts.nodeId, idle).catch((err: Error) => {
      this.opts.log.warn({ err: err.message, idle: idle.length }, "idle lobbies not released");
      return 0;
    });
    if (released > 0) this.opts.log.info({ released }, "idle lobbies released to their ring owners");
    return results;
  }

  private async handOff(lobby: LiveLobby, ring: Ring): Promise<HandoffResult | null> {
    const to = ring.owner(lobby.code);
    if (!to || to === this.opts.nodeId) {
      this.opts.log.warn({ code: lobby.code }, "no live node to hand the lobby to");
      return null;
    }
    const { pool, nodeId, registry, log } = this.opts;
    const started = performance.now();
    lobby.accepting = false;
    let epoch: number | null;
    try {
      await this.opts.queue.settled(lobby);
      epoch = await transferLobby(pool, lobby.code, { node: nodeId, epoch: lobby.epoch }, to);
    } catch (err) {
      this.backInService(lobby, err as Error);
      return null;
    }
    registry.unload(lobby, CloseCode.Restart, `handed off to ${to}; reconnect`);
    if (epoch === null) return null;
    await this.announce(lobby.code, to, epoch);
    const pauseMs = Math.round(performance.now() - started);
    await recordHistory(pool, { kind: "handoff", nodeId, code: lobby.code, detail: { to, epoch, pauseMs } }).catch(
      (err: Error) => log.warn({ code: lobby.code, err: err.message }, "could not record the handoff"),
    );
    log.info({ code: lobby.code, to, epoch, pauseMs }, "lobby handed off");
    this.opts.onHandoff?.(true);
    return { code: lobby.code, to, pauseMs };
  }

  /**
   * The move failed (the database refused or did not answer): the lobby takes
   * actions here again. Its sockets are closed with 1012 so that actions
   * dropped during the pause are re-sent (the clients come back to this node,
   * which still owns it). Had the move gone through after all, the epoch
   * fences this copy's next commit off and the lobby reloads on its new owner.
   */
  private backInService(lobby: LiveLobby, err: Error): void {
    this.opts.log.warn({ code: lobby.code, err: err.message }, "handoff failed: lobby back in service here");
    this.opts.onHandoff?.(false);
    lobby.accepting = true;
    for (const connection of [...lobby.connections.values()]) {
      connection.close(CloseCode.Restart, "handoff failed; reconnect");
    }
  }

  private async announce(code: string, owner: string, epoch: number): Promise<void> {
    const message: OwnershipMessage = { code, owner, epoch };
    await this.opts.bus.publish(Topic.Ownership, message).catch(() => {});
  }
}
