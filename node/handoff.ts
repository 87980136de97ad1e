import type { EventBus } from "../shared/bus/event-bus.js";
import { type OwnershipMessage, Topic } from "../shared/bus/topics.js";
import { releaseAllOwnedExcept, releaseOwnedLobbies } from "../shared/db/lifecycle.js";
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

/** Lobbies with players handed off at once: each waits only for its own commits, so a drain is not one lobby at a time. */
const PARALLEL_HANDOFFS = 16;

/** Handoffs remembered for redirects: a drain's played lobbies, many times over. */
const REMEMBERED_MOVES = 10_000;

/**
 * Graceful handoff (drain, rebalance). Lobbies with players connected go
 * first, many at a time: for each, stop taking actions (they stay unacked in
 * the clients and are re-sent to the new owner), wait until that lobby's
 * queued events are durable, move ownership to the ring owner with epoch + 1,
 * then close the lobby's sockets with 1012 so the clients reconnect through
 * the balancer and resume. Nothing acked is lost; the pause per lobby is
 * measured and logged. A lobby whose move fails serves on here, and the
 * others still move. Then every lobby without players leaves memory (after
 * the same per-lobby barrier) and is released in ONE statement: its ring
 * owner claims it on its next request or timer, so a drain's time follows
 * the lobbies people are in, not the lobbies in the database.
 */
export class Handoff {
  /** Lobbies handed off lately and their new owners (oldest first, capped). */
  private readonly moved = new Map<string, string>();

  constructor(private readonly opts: HandoffOptions) {}

  /** The receiving side: a lobby handed to this node is loaded as soon as the move is announced, not when its players are back. */
  async receive(): Promise<void> {
    await this.opts.bus.subscribe(Topic.Ownership, (message) => {
      const moved = message as OwnershipMessage;
      if (moved.handoff !== true || moved.owner !== this.opts.nodeId || this.opts.registry.get(moved.code)) return;
      void this.opts.registry.load(moved.code, "handoff").catch(() => {});
    });
  }

  /** The node a lobby was handed to, if it was lately (see RegistryOptions.movedTo). */
  movedTo(code: string): string | undefined {
    return this.moved.get(code);
  }

  /** Draining: every lobby goes to its owner on the ring of the other live nodes; the node owns nothing after. */
  async drainAll(): Promise<HandoffResult[]> {
    const { pool, nodeId, registry } = this.opts;
    const moved = await this.moveLoaded(await this.opts.ring(false), () => true);
    // Kept: lobbies still served here because their move failed (stop() releases those at the deadline).
    const kept = registry.all().map((lobby) => lobby.code);
    await this.releaseIdle("drain", () => releaseAllOwnedExcept(pool, nodeId, kept));
    return moved;
  }

  /**
   * Rebalancing: the lobbies this node serves although the ring (with this
   * node in it) places them elsewhere, e.g. after nodes joined or failovers,
   * go to their ring owners. New nodes take their share of live lobbies only
   * this way, on an operator's request (invariant 4).
   */
  async rebalance(): Promise<HandoffResult[]> {
    const { pool, nodeId, registry } = this.opts;
    const ring = await this.opts.ring(true);
    const elsewhere = (code: string) => ring.owner(code) !== nodeId;
    const moved = await this.moveLoaded(ring, elsewhere);
    const idle = (await listLobbiesOwnedBy(pool, nodeId))
      .filter((owned) => elsewhere(owned.code) && !registry.get(owned.code))
      .map((owned) => owned.code);
    await this.releaseIdle("rebalance", () => releaseOwnedLobbies(pool, nodeId, idle));
    return moved;
  }

  /** Hands off the loaded lobbies with players (most players first), then unloads the loaded ones without. */
  private async moveLoaded(ring: Ring, shouldMove: (code: string) => boolean): Promise<HandoffResult[]> {
    const results: HandoffResult[] = [];
    const tried = new Set<string>();
    const played = () =>
      this.opts.registry
        .all()
        .filter((lobby) => shouldMove(lobby.code) && lobby.connections.size > 0 && !tried.has(lobby.code))
        .sort((a, b) => b.connections.size - a.connections.size);
    const move = async (lobby: LiveLobby) => {
      tried.add(lobby.code);
      const result = await this.handOff(lobby, ring);
      if (result) results.push(result);
    };
    await runLimited(played(), PARALLEL_HANDOFFS, move);
    // Someone may have connected to a quiet lobby meanwhile: theirs moves like the others, still before any release.
    await runLimited(played(), PARALLEL_HANDOFFS, move);
    const quiet = this.opts.registry.all().filter((lobby) => shouldMove(lobby.code) && !tried.has(lobby.code));
    await Promise.all(quiet.map((lobby) => this.unloadQuiet(lobby)));
    return results;
  }

  /** A lobby nobody is connected to leaves memory once its own queued events are durable (timers, a last action). */
  private async unloadQuiet(lobby: LiveLobby): Promise<void> {
    lobby.accepting = false;
    try {
      await this.opts.queue.settled(lobby);
    } finally {
      this.opts.registry.unload(lobby, CloseCode.Restart, "lobby moved; reconnect");
    }
  }

  /** The one statement that releases every idle lobby, recorded in the history as 'idle_released'. */
  private async releaseIdle(why: "drain" | "rebalance", release: () => Promise<number>): Promise<void> {
    const { pool, nodeId, log } = this.opts;
    const started = performance.now();
    const released = await release().catch((err: Error) => {
      log.warn({ err: err.message, why }, "idle lobbies not released");
      return 0;
    });
    if (released === 0) return;
    const ms = Math.round(performance.now() - started);
    log.info({ released, ms, why }, "idle lobbies released to their ring owners (claimed on their next request)");
    await recordHistory(pool, { kind: "idle_released", nodeId, detail: { released, ms, why } }).catch((err: Error) =>
      log.warn({ err: err.message }, "could not record the release"),
    );
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
    let settledMs: number;
    try {
      await this.opts.queue.settled(lobby);
      settledMs = Math.round(performance.now() - started);
      epoch = await transferLobby(pool, lobby.code, { node: nodeId, epoch: lobby.epoch }, to);
    } catch (err) {
      this.backInService(lobby, err as Error);
      return null;
    }
    if (epoch === null) {
      registry.unload(lobby, CloseCode.Restart, "lobby moved; reconnect");
      return null;
    }
    // Balancers and the new owner hear of the move as the clients reconnect, and a reconnect that still lands
    // here is redirected (421) rather than refused: the pause is the move, not a client's backoff.
    this.remember(lobby.code, to);
    // Not awaited: the new owner starts loading the lobby while its players reconnect.
    void this.announce(lobby.code, to, epoch);
    registry.unload(lobby, CloseCode.Restart, `handed off to ${to}; reconnect`);
    const pauseMs = Math.round(performance.now() - started);
    await recordHistory(pool, { kind: "handoff", nodeId, code: lobby.code, detail: { to, epoch, pauseMs } }).catch(
      (err: Error) => log.warn({ code: lobby.code, err: err.message }, "could not record the handoff"),
    );
    // settledMs: waiting for the lobby's own commits; the rest is the move (one statement) and the 1012 closes.
    log.info({ code: lobby.code, to, epoch, pauseMs, settledMs }, "lobby handed off");
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

  private remember(code: string, to: string): void {
    this.moved.delete(code);
    this.moved.set(code, to);
    if (this.moved.size > REMEMBERED_MOVES) this.moved.delete(this.moved.keys().next().value as string);
  }

  private async announce(code: string, owner: string, epoch: number): Promise<void> {
    const message: OwnershipMessage = { code, owner, epoch, handoff: true };
    await this.opts.bus.publish(Topic.Ownership, message).catch(() => {});
  }
}
