import type { LobbyCommit } from "../shared/db/lobbies.js";
import type { LobbyEvent } from "../shared/protocol.js";
import type { StoredLobby } from "./game/lobby-state.js";
import type { LiveLobby } from "./live-lobby.js";

/**
 * Group commit. Events from every lobby on this node wait here while one
 * statement is in flight; the next statement takes all of them at once. At low
 * load an event is written at once; at high load a batch costs one round trip
 * and one fsync however many lobbies it spans.
 */

export type PendingEvent = {
  lobby: LiveLobby;
  seq: number;
  event: LobbyEvent;
  playerId: string | null;
  actionId: string | undefined;
  newPlayer: { id: string; name: string } | null;
  /** The whole lobby state after this event, when it is time for a snapshot. */
  snapshot: StoredLobby | null;
  status: string;
  playerCount: number;
  settle: (committed: boolean) => void;
};

/** Writes a batch; returns the codes that committed (the others were fenced off). */
export type CommitStore = (batch: LobbyCommit[]) => Promise<Set<string>>;

export type CommitHooks = {
  /** A lobby failed to commit: it lost ownership or the database refused. */
  onFailed(lobby: LiveLobby, error: Error | null): void;
  onBatch?(size: number, seconds: number): void;
  /** An event became durable (after its ack and broadcast went out). */
  onCommitted?(lobby: LiveLobby, event: LobbyEvent): void;
};

export class CommitQueue {
  private queue: PendingEvent[] = [];
  private flushing = false;
  private idle: (() => void)[] = [];
  /** Per lobby: events queued or being written, and who waits for them all to settle (handoff). */
  private readonly unsettled = new Map<LiveLobby, { count: number; waiters: (() => void)[] }>();

  constructor(
    private readonly store: CommitStore,
    private readonly hooks: CommitHooks,
  ) {}

  enqueue(pending: PendingEvent): void {
    const entry = this.unsettled.get(pending.lobby) ?? { count: 0, waiters: [] };
    entry.count++;
    this.unsettled.set(pending.lobby, entry);
    this.queue.push(pending);
    if (!this.flushing) void this.flush();
  }

  get depth(): number {
    return this.queue.length;
  }

  /** Resolves once everything queued so far has been written (handoff and shutdown wait on this). */
  drained(): Promise<void> {
    if (!this.flushing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Resolves once every event of this lobby queued so far has committed or
   * failed: a handoff waits for the lobby it moves, never for the others
   * (whose commits may keep the queue busy for good).
   */
  settled(lobby: LiveLobby): Promise<void> {
    const entry = this.unsettled.get(lobby);
    if (!entry) return Promise.resolve();
    return new Promise((resolve) => entry.waiters.push(resolve));
  }

  private settle(p: PendingEvent, committed: boolean): void {
    p.settle(committed);
    const entry = this.unsettled.get(p.lobby);
    if (!entry || --entry.count > 0) return;
    this.unsettled.delete(p.lobby);
    for (const resolve of entry.waiters) resolve();
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      await this.write(batch);
    }
    this.flushing = false;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private async write(batch: PendingEvent[]): Promise<void> {
    const live = batch.filter((p) => !p.lobby.closed);
    for (const p of batch) if (p.lobby.closed) this.settle(p, false);
    if (live.length === 0) return;
    const started = performance.now();
    let committed: Set<string>;
    let error: Error | null = null;
    try {
      committed = await this.store(groupByLobby(live));
    } catch (err) {
      committed = new Set();
      error = err as Error;
    }
    this.hooks.onBatch?.(live.length, (performance.now() - started) / 1000);
    const failed = new Set<LiveLobby>();
    for (const p of live) {
      if (committed.has(p.lobby.code)) {
        p.lobby.commit(p.seq, p.event, p.actionId);
        this.hooks.onCommitted?.(p.lobby, p.event);
      } else {
        failed.add(p.lobby);
      }
    }
    for (const lobby of failed) this.hooks.onFailed(lobby, error);
    // Settled last: whoever waits for a lobby (a handoff) sees its acks sent and a failed lobby unloaded.
    for (const p of live) this.settle(p, committed.has(p.lobby.code));
  }
}

function groupByLobby(batch: PendingEvent[]): LobbyCommit[] {
  const byCode = new Map<string, LobbyCommit>();
  for (const p of batch) {
    let commit = byCode.get(p.lobby.code);
    if (!commit) {
      commit = {
        code: p.lobby.code,
        epoch: p.lobby.epoch,
        firstSeq: p.seq,
        lastSeq: p.seq,
        status: p.status,
        playerCount: p.playerCount,
        snapshot: null,
        snapshotSeq: null,
        events: [],
        newPlayers: [],
      };
      byCode.set(p.lobby.code, commit);
    }
    commit.lastSeq = p.seq;
    commit.status = p.status;
    commit.playerCount = p.playerCount;
    commit.events.push({ seq: p.seq, playerId: p.playerId, actionId: p.actionId ?? null, event: p.event });
    if (p.newPlayer) commit.newPlayers.push(p.newPlayer);
    if (p.snapshot) {
      commit.snapshot = p.snapshot;
      commit.snapshotSeq = p.seq;
    }
  }
  return [...byCode.values()];
}
