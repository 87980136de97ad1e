import type { EventBus } from "../shared/bus/event-bus.js";
import { type OwnershipMessage, Topic } from "../shared/bus/topics.js";
import type { NodeConfig } from "../shared/config.js";
import { commitEvents, findLoggedActions } from "../shared/db/lobby-commit.js";
import { listNodes, recordHistory } from "../shared/db/membership.js";
import type { Pool } from "../shared/db/pool.js";
import type { GameCatalog } from "../shared/game/catalog.js";
import type { Logger } from "../shared/log.js";
import { ringOfActiveNodes } from "../shared/ring.js";
import { CloseCode } from "../shared/wire.js";
import { CommitQueue, type CommitStore } from "./commit-queue.js";
import { CrossNodeMessages } from "./cross-node-messages.js";
import type { DbClock } from "./db-clock.js";
import { DirectoryFeed } from "./directory-feed.js";
import { Handoff } from "./handoff.js";
import { createHttpApi } from "./http-api.js";
import { changesDirectory } from "./lobby/log-entry.js";
import { IDLE_UNLOAD, LobbyLifecycle } from "./lobby-lifecycle.js";
import { LobbyRegistry } from "./lobby-registry.js";
import { LobbyTimers } from "./lobby-timers.js";
import { Membership } from "./membership.js";
import { MemoryRelease } from "./memory-release.js";
import type { HandoffReason } from "./metrics-labels.js";
import { createNodeMetrics } from "./node-metrics.js";
import { OutageReload } from "./outage-reload.js";
import { PresenceTracker } from "./presence-tracker.js";
import { SocketHub } from "./socket-hub.js";
import { Takeover } from "./takeover.js";

/**
 * The parts of a game node and how they call each other: membership and
 * lease, group commit, registry, timers, presence, hub, takeover, handoff,
 * drain, lifecycle, metrics. startNode (node-server.ts) owns the process's
 * server, pools and start/stop order; this module only wires.
 */
/** How often the node looks for lobbies not loaded here whose timer falls due (lobby-timers.ts). */
const TIMER_SCAN_MS = 5000;

/** Resolves after `ms` without keeping the process alive. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export type Wiring = {
  config: NodeConfig;
  log: Logger;
  pool: Pool;
  leasePool: Pool;
  commitPool: Pool;
  bus: EventBus;
  id: string;
  url: string;
  onExit: (code: number) => void;
  catalog: GameCatalog;
  clock: DbClock;
};

export function assemble({ config, log, pool, leasePool, commitPool, bus, id, url, onExit, catalog, clock }: Wiring) {
  const metrics = createNodeMetrics(id);
  const warnedGames = new Set<string>();
  /** A lobby this node would serve plays a game it lacks: counted each time, logged once per game and version. */
  const missingGame = (gameId: string, version: number) => {
    metrics.missingGame(gameId);
    if (warnedGames.has(`${gameId}@${version}`)) return;
    warnedGames.add(`${gameId}@${version}`);
    log.warn(
      { game: gameId, version },
      "a lobby plays a game this node does not have (or an older version): not claimed",
    );
  };
  const membership: Membership = new Membership({
    pool: leasePool,
    bus,
    id,
    url,
    weight: config.NODE_WEIGHT,
    leaseMs: config.RINGSIDE_LEASE_MS,
    heartbeatMs: config.RINGSIDE_HEARTBEAT_MS,
    log,
    onFenced: () => {
      metrics.selfFenced();
      outage.fenced(registry.all().map((lobby) => lobby.code));
      registry.unloadAll(CloseCode.Restart, "node lost its lease; reconnect");
    },
    onServing: () => void outage.reload(),
    onDrain: () => void drain("drain").then(() => onExit(0)),
    onRenewal: (result) => metrics.countRenewal(result),
  });
  const store: CommitStore = config.RINGSIDE_DURABLE
    ? (batch) => {
        // Past its local lease deadline the node may already be replaced: don't even try.
        if (!membership.leaseHeld()) return Promise.reject(new Error("lease not held"));
        return commitEvents(commitPool, id, batch);
      }
    : async (batch) => new Set(batch.map((c) => c.code));
  const lookup = (code: string, actions: { playerId: string; actionId: string }[]) =>
    findLoggedActions(pool, code, actions);
  const queue = new CommitQueue(store, lookup, {
    onFailed: (lobby, error) => {
      metrics.commitFailed(error);
      log.warn({ code: lobby.code, err: error?.message ?? "fenced off" }, "commit failed: unloading lobby");
      if (error) outage.commitFailed(lobby.code);
      registry.unload(lobby, CloseCode.Restart, "lobby moved; reconnect");
    },
    rebuild: (lobby, pending) => registry.rebuild(lobby, pending),
    onUnstorable: (lobby, pending, error) =>
      log.error({ code: lobby.code, seq: pending.seq, err: error.message }, "an entry could not be stored: refused"),
    onBatch: (size, seconds) => metrics.observeBatch(size, seconds),
    onCommitted: (lobby, entry) => {
      metrics.committed(entry);
      timers.arm(lobby);
      if (changesDirectory(entry)) directory.changed(lobby.code);
    },
  });
  const registry: LobbyRegistry = new LobbyRegistry({
    pool,
    nodeId: id,
    queue,
    games: catalog,
    maxMembers: config.RINGSIDE_MAX_PLAYERS,
    log,
    now: () => clock.now(),
    canServe: () => membership.canServe(),
    onMissingGame: (gameId, version) => missingGame(gameId, version),
    movedTo: (code) => handoff.movedTo(code),
    onUnloaded: (lobby, reason) => {
      if (reason === IDLE_UNLOAD) timers.sleep(lobby);
      else timers.disarm(lobby);
      directory.forget(lobby.code);
    },
    onLoaded: (lobby, how, trigger) => {
      metrics.loaded(how, trigger);
      timers.arm(lobby);
      if (how === "created") return;
      // Balancers keep only exceptions to the ring: tell them at once who serves the lobby now.
      const message: OwnershipMessage = { code: lobby.code, owner: id, epoch: lobby.epoch };
      void bus.publish(Topic.Ownership, message).catch(() => {});
      if (how === "claimed") {
        const entry = { kind: "lobby_claimed", nodeId: id, code: lobby.code, detail: { epoch: lobby.epoch } };
        void recordHistory(pool, entry).catch(() => {});
      }
    },
  });
  const outage = new OutageReload(registry, log);
  const directory: DirectoryFeed = new DirectoryFeed({
    bus,
    log,
    summary: (code) => {
      const lobby = registry.get(code);
      if (!lobby) return undefined;
      const { status, statusText } = lobby.committed.status();
      const host = lobby.committed.allPlayers()[0]?.name ?? "";
      const players = lobby.committed.playerCount;
      return { code, game: lobby.game.id, status, statusText, players, host, online: lobby.connections.size };
    },
  });
  const timers: LobbyTimers = new LobbyTimers({
    pool,
    nodeId: id,
    registry,
    log,
    now: () => clock.now(),
    scanMs: TIMER_SCAN_MS,
    isRingOwner: (code) => takeover.ring?.owner(code) === id,
  });
  const presence = new PresenceTracker({
    pool,
    nodeId: id,
    intervalMs: config.RINGSIDE_PRESENCE_MS,
    log,
    connected: () => hub.connected().map((s) => ({ playerId: s.playerId, code: s.code })),
    onChange: (code) => directory.changed(code),
  });
  const crossNode: CrossNodeMessages = new CrossNodeMessages({
    bus,
    pool,
    log,
    socketOf: (playerId) => hub.socketOf(playerId),
    everySocket: () => hub.connected(),
  });
  const hub: SocketHub = new SocketHub({
    nodeId: id,
    pool,
    registry,
    tokenSecret: config.RINGSIDE_TOKEN_SECRET,
    log,
    rate: { perSecond: config.RINGSIDE_RATE_PER_SECOND, burst: config.RINGSIDE_RATE_BURST },
    signalRate: { perSecond: config.RINGSIDE_SIGNAL_RATE_PER_SECOND, burst: config.RINGSIDE_SIGNAL_RATE_BURST },
    heartbeatMs: config.RINGSIDE_WS_PING_MS,
    onOpen: (s) => {
      presence.opened(s.playerId, s.code);
      s.ws.once("close", (code) => metrics.wsClosed(code));
    },
    onAction: (result) => metrics.action(result),
    onClose: (s, replaced) => {
      if (!replaced) presence.closed(s.playerId, s.code);
    },
    onDirectMessage: (s, message) => void crossNode.send(s, message),
  });
  metrics.track({
    sockets: () => hub.connectionCount,
    lobbies: () => registry.size,
    queue: () => queue.depth,
    ready: () => membership.readiness().ready,
  });
  bus.onResync(() => metrics.busResynced());
  const app = createHttpApi({
    nodeId: id,
    pool,
    registry,
    games: catalog,
    tokenSecret: config.RINGSIDE_TOKEN_SECRET,
    metrics: metrics.registry,
    log,
    readiness: () => membership.readiness(),
  });
  const takeover = new Takeover({
    pool,
    bus,
    nodeId: id,
    registry,
    log,
    // Retries of an unfinished takeover: as before the renewal interval went from 500 to 1000 ms.
    intervalMs: Math.max(100, Math.min(250, Math.floor(config.RINGSIDE_HEARTBEAT_MS / 2))),
    maxIntervalMs: config.RINGSIDE_LEASE_MS,
    now: () => clock.now(),
    canServe: () => membership.canServe(),
    activeWindowMs: config.RINGSIDE_ACTIVE_WINDOW_MS,
    onReleased: (count) => {
      metrics.lifecycle.released.inc(count);
      log.info({ released: count }, "inactive lobbies of dead nodes released: claimed on their next request");
    },
    canRun: (gameId, version) => {
      if (catalog.forLobby(gameId, version)) return true;
      missingGame(gameId, version);
      return false;
    },
  });
  const handoff: Handoff = new Handoff({
    pool,
    bus,
    nodeId: id,
    registry,
    queue,
    log,
    onHandoff: (ok) => metrics.handoff(handoffReason, ok),
    ring: async (includingSelf) =>
      ringOfActiveNodes((await listNodes(pool)).filter((n) => includingSelf || n.id !== id)),
  });
  const rebalance = async () => {
    if (!membership.canServe()) return;
    const moved = await handoff.rebalance().catch((err) => {
      log.error({ err }, "rebalance failed");
      return [];
    });
    log.info({ moved: moved.length, maxPauseMs: Math.max(0, ...moved.map((m) => m.pauseMs)) }, "rebalanced");
  };
  // One drain however it is asked for (an operator, SIGTERM): every lobby handed off, or the deadline.
  let draining: Promise<void> | null = null;
  // What the handoffs are counted as: rebalances, until a drain begins (no rebalance runs after that).
  let handoffReason: HandoffReason = "rebalance";
  const drain = (reason: "drain" | "sigterm" = "drain") => {
    draining ??= drainWithin(config.RINGSIDE_DRAIN_DEADLINE_MS, reason);
    return draining;
  };
  const drainWithin = async (deadlineMs: number, reason: "drain" | "sigterm") => {
    handoffReason = reason;
    metrics.drainStarted();
    await membership.beginDrain();
    log.info({ deadlineMs }, "draining: handing every lobby off");
    const started = performance.now();
    const handedOff = handoff.drainAll().catch((err) => {
      log.error({ err }, "drain failed");
      return [];
    });
    const moved = await Promise.race([handedOff, delay(deadlineMs).then(() => null)]);
    if (moved === null) {
      // stop() releases the rest: the node is recorded dead, so successors claim at once, not at lease expiry.
      log.warn({ deadlineMs, left: registry.size }, "drain deadline passed: releasing every lobby left");
      return;
    }
    const ms = Math.round(performance.now() - started);
    log.info({ moved: moved.length, ms, maxPauseMs: Math.max(0, ...moved.map((m) => m.pauseMs)) }, "drained");
  };
  const memory = new MemoryRelease();
  const lifecycle = new LobbyLifecycle({
    pool,
    nodeId: id,
    registry,
    log,
    tickMs: config.RINGSIDE_LIFECYCLE_MS,
    idleUnloadMs: config.RINGSIDE_IDLE_UNLOAD_MS,
    finishedCloseMs: config.RINGSIDE_FINISHED_CLOSE_MS,
    abandonedCloseMs: config.RINGSIDE_ABANDONED_CLOSE_MS,
    retentionMs: config.RINGSIDE_RETENTION_MS,
    canServe: () => membership.canServe(),
    onUnloaded: (count) => {
      metrics.lifecycle.unloaded.inc(count);
      memory.afterUnload(count);
    },
    onClosed: (codes) => {
      metrics.lifecycle.closed.inc(codes.length);
      for (const code of codes) directory.closed(code);
    },
    onRetired: (count) => metrics.lifecycle.retired.inc(count),
  });
  return {
    counters: () => metrics.totals(),
    app,
    hub,
    membership,
    takeover,
    crossNode,
    directory,
    presence,
    queue,
    registry,
    rebalance,
    drain,
    handoff,
    timers,
    lifecycle,
  };
}
