import type { LobbyCommit } from "../shared/db/lobby-commit.js";
import { groupByLobby, isDataError, isDuplicateAction, type LobbyGroup, rowKey } from "./commit-batch.js";
import type { LiveLobby } from "./live-lobby.js";
import type { EntryRequest } from "./lobby/lobby-decisions.js";
import type { StoredLobby } from "./lobby/lobby-state.js";
import type { StoredEntry } from "./lobby/log-entry.js";

/**
 * Group commit. Entries from every lobby on this node wait here while one
 * statement is in flight; the next statement takes all of them at once. At
 * low load an entry is written at once; at high load a batch costs one round
 * trip and one fsync however many lobbies it spans.
 *
 * One lobby's bad entry never costs another lobby anything: when a batch
 * fails, each lobby is retried alone; a lobby that still fails has its
 * duplicates acked with their logged seq, or its entries tried one by one to
 * find the one that cannot be stored, and the rest are decided again
 * (CommitHooks.rebuild). A lobby fenced off (another node owns it now), or
 * whose commit may or may not have happened (the connection failed), is
 * unloaded: it reloads from what Postgres holds.
 */

export type Settled =
  | { ok: true; seq: number }
  /** The action was logged before (an old id re-sent): here is its seq. */
  | { ok: "duplicate"; seq: number }
  /**
   * Not written. "fenced": another node owns the lobby (or, for a new lobby, its code was taken);
   * "failed": the database failed and whether it committed is unknown; "moved": the lobby was
   * unloaded first. Either way the client re-sends to whoever serves the lobby now.
   */
  | { ok: "dropped"; why: "fenced" | "failed" | "moved" }
  | { ok: false; code: string; message: string };

export type PendingEntry = {
  lobby: LiveLobby;
  seq: number;
  entry: StoredEntry;
  playerId: string | null;
  actionId: string | undefined;
  /** What was asked, so it can be decided again if an earlier entry of the lobby fails. */
  request: EntryRequest;
  /** Set on a lobby's first entry: the lobby row is inserted, not updated. */
  create: { hostName: string; isPublic: boolean } | null;
  newPlayer: { id: string; name: string } | null;
  /** The whole lobby state after this entry, when it is time for a snapshot. */
  snapshot: StoredLobby | null;
  /** The lobby row after this entry. */
  row: { status: string; statusText: string; playerCount: number; nextTimerAt: number | null };
  settle: (result: Settled) => void;
};

/** Writes a batch; returns the codes that committed (the others were fenced off). Throws when the statement fails. */
export type CommitStore = (batch: LobbyCommit[]) => Promise<Set<string>>;

/** The actions of a lobby already in the log, by "playerId/actionId", with their seq. */
export type LoggedActionLookup = (
  code: string,
  actions: { playerId: string; actionId: string }[],
) => Promise<Map<string, number>>;

export type CommitHooks = {
  /** The lobby cannot be served from memory any more (fenced off, or the database failed): unload it. */
  onFailed(lobby: LiveLobby, error: Error | null): void;
  /** Decide these entries again on the lobby's committed state (an entry before them failed). */
  rebuild(lobby: LiveLobby, pending: PendingEntry[]): void;
  /** An entry could not be stored at all (logged; its sender gets an `internal` error). */
  onUnstorable?(lobby: LiveLobby, pending: PendingEntry, error: Error): void;
  onBatch?(size: number, seconds: number): void;
  /** An entry became durable (after its ack and broadcast went out). */
  onCommitted?(lobby: LiveLobby, entry: StoredEntry): void;
};

export class CommitQueue {
  private queue: PendingEntry[] = [];
  private flushing = false;
  private idle: (() => void)[] = [];
  /** Entries queued or being written, per lobby, and who waits for that lobby to settle. */
  private readonly inFlight = new Map<LiveLobby, { count: number; waiters: (() => void)[] }>();
  /** The lobby row each lobby's last commit wrote (rowKey): a commit that changes none of it leaves it alone. */
  private readonly written = new WeakMap<LiveLobby, string>();

  constructor(
    private readonly store: CommitStore,
    private readonly lookup: LoggedActionLookup,
    private readonly hooks: CommitHooks,
  ) {}

  enqueue(pending: PendingEntry): void {
    this.track(pending.lobby, +1);
    this.queue.push(pending);
    if (!this.flushing) void this.flush();
  }

  get depth(): number {
    return this.queue.length;
  }

  /** Resolves once everything queued so far has been written (shutdown waits on this). */
  drained(): Promise<void> {
    if (!this.flushing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Resolves once nothing of this lobby is queued or being written (a handoff waits for its lobby only). */
  settled(lobby: LiveLobby): Promise<void> {
    const state = this.inFlight.get(lobby);
    if (!state) return Promise.resolve();
    return new Promise((resolve) => state.waiters.push(resolve));
  }

  private track(lobby: LiveLobby, delta: number): void {
    let state = this.inFlight.get(lobby);
    if (!state) {
      state = { count: 0, waiters: [] };
      this.inFlight.set(lobby, state);
    }
    state.count += delta;
    if (state.count > 0) return;
    this.inFlight.delete(lobby);
    for (const resolve of state.waiters) resolve();
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

  private async write(batch: PendingEntry[]): Promise<void> {
    const live: PendingEntry[] = [];
    for (const p of batch) {
      if (p.lobby.closed) this.finish(p, { ok: "dropped", why: "moved" });
      else live.push(p);
    }
    if (live.length === 0) return;
    const started = performance.now();
    const groups = this.groupByLobby(live);
    try {
      const committed = await this.store(groups.map((g) => g.commit));
      this.hooks.onBatch?.(live.length, (performance.now() - started) / 1000);
      for (const group of groups) this.settleGroup(group, committed.has(group.commit.code));
    } catch (error) {
      if (!isDataError(error)) return this.failAll(groups, error as Error);
      // Somebody's entry failed the whole statement: find whose, without costing the others.
      for (const group of groups) await this.writeAlone(group);
    }
  }

  /** The statement failed for no lobby's fault (connection, timeout): whether it committed is unknown. */
  private failAll(groups: LobbyGroup[], error: Error | null): void {
    for (const group of groups) {
      for (const p of group.entries) this.finish(p, { ok: "dropped", why: error === null ? "fenced" : "failed" });
      this.hooks.onFailed(group.lobby, error);
    }
  }

  private settleGroup(group: LobbyGroup, committed: boolean): void {
    const { lobby } = group;
    if (!committed) {
      this.failAll([group], null);
      return;
    }
    this.written.set(lobby, rowKey(group.commit.row));
    for (const p of group.entries) {
      lobby.commit(p.seq, p.entry, p.actionId, p.playerId);
      this.finish(p, { ok: true, seq: p.seq });
      this.hooks.onCommitted?.(lobby, p.entry);
    }
  }

  private async writeAlone(group: LobbyGroup): Promise<void> {
    try {
      const committed = await this.store([group.commit]);
      this.settleGroup(group, committed.has(group.commit.code));
    } catch (error) {
      if (isDataError(error)) await this.isolate(group, error as Error);
      else this.failAll([group], error as Error);
    }
  }

  /** This lobby's entries fail on their own: ack the duplicates, refuse what cannot be stored, decide the rest again. */
  private async isolate(group: LobbyGroup, error: Error): Promise<void> {
    const { lobby } = group;
    const logged = isDuplicateAction(error) ? await this.loggedActions(group).catch(() => new Map()) : new Map();
    const fresh: PendingEntry[] = [];
    for (const p of group.entries) {
      const seq = p.actionId && p.playerId ? logged.get(`${p.playerId}/${p.actionId}`) : undefined;
      if (seq !== undefined) this.finish(p, { ok: "duplicate", seq });
      else fresh.push(p);
    }
    // Entries queued meanwhile were decided after these: they are decided again too.
    const later = this.takeQueued(lobby);
    if (logged.size > 0 || fresh.length === 0) return this.redecide(lobby, [...fresh, ...later]);
    await this.findUnstorable(lobby, fresh, later);
  }

  /** Writes the entries one at a time; the first that fails is refused, everything after it decided again. */
  private async findUnstorable(lobby: LiveLobby, entries: PendingEntry[], later: PendingEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i++) {
      const p = entries[i] as PendingEntry;
      const single = this.groupByLobby([p])[0] as LobbyGroup;
      try {
        const committed = await this.store([single.commit]);
        this.settleGroup(single, committed.has(lobby.code));
        if (!committed.has(lobby.code)) return this.dropAll([...entries.slice(i + 1), ...later]);
      } catch (error) {
        if (!isDataError(error)) {
          this.dropAll([...entries.slice(i + 1), ...later]);
          return this.failAll([single], error as Error);
        }
        this.hooks.onUnstorable?.(lobby, p, error as Error);
        this.finish(p, { ok: false, code: "internal", message: "the server could not store this action" });
        return this.redecide(lobby, [...entries.slice(i + 1), ...later]);
      }
    }
    this.redecide(lobby, later);
  }

  private redecide(lobby: LiveLobby, pending: PendingEntry[]): void {
    if (pending.length > 0) this.track(lobby, -pending.length);
    this.hooks.rebuild(lobby, pending);
  }

  private dropAll(pending: PendingEntry[]): void {
    for (const p of pending) this.finish(p, { ok: "dropped", why: "moved" });
  }

  private takeQueued(lobby: LiveLobby): PendingEntry[] {
    const mine = this.queue.filter((p) => p.lobby === lobby);
    if (mine.length > 0) this.queue = this.queue.filter((p) => p.lobby !== lobby);
    return mine;
  }

  private loggedActions(group: LobbyGroup): Promise<Map<string, number>> {
    const actions = group.entries.flatMap((p) =>
      p.actionId && p.playerId ? [{ playerId: p.playerId, actionId: p.actionId }] : [],
    );
    return this.lookup(group.lobby.code, actions);
  }

  private finish(pending: PendingEntry, result: Settled): void {
    pending.settle(result);
    this.track(pending.lobby, -1);
  }

  private groupByLobby(batch: PendingEntry[]): LobbyGroup[] {
    const groups = groupByLobby(batch);
    for (const { lobby, commit } of groups) commit.rowChanged = this.written.get(lobby) !== rowKey(commit.row);
    return groups;
  }
}
