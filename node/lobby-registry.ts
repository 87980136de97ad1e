import {
  claimOrphanedLobby,
  getOwnership,
  insertLobby,
  readEventsAfter,
  reclaimOwnLobby,
  type StoredLobbyRow,
} from "../shared/db/lobbies.js";
import type { Pool } from "../shared/db/pool.js";
import { generateLobbyCode } from "../shared/lobby-code.js";
import type { Logger } from "../shared/log.js";
import type { ErrorCode, LobbyAction, LobbyEvent } from "../shared/protocol.js";
import { newPlayerId } from "../shared/token.js";
import type { CommitQueue } from "./commit-queue.js";
import { ApiError, lobbyNotFound, notOwner, unavailable } from "./errors.js";
import { LobbyState, type StoredLobby } from "./game/lobby-state.js";
import { LiveLobby } from "./live-lobby.js";

/** A snapshot every this many events keeps a restore at one snapshot plus fewer events. */
export const SNAPSHOT_EVERY = 100;

export type SubmitResult =
  | { ok: true; seq: number }
  | { ok: "queued" }
  /** Not taken: the lobby is moving; the client re-sends it to the new owner after reconnecting. */
  | { ok: "dropped" }
  | { ok: false; code: ErrorCode; message: string };

export type RegistryOptions = {
  pool: Pool;
  nodeId: string;
  queue: CommitQueue;
  maxPlayers: number;
  log: Logger;
  /** Whether this node may take lobbies right now (false while fenced or draining). */
  canServe: () => boolean;
  onLoaded?: (lobby: LiveLobby, how: "created" | "claimed" | "restored") => void;
  onUnloaded?: (lobby: LiveLobby) => void;
};

/** The lobbies this node serves, and the one way in for every change to them. */
export class LobbyRegistry {
  private readonly lobbies = new Map<string, LiveLobby>();
  private readonly loading = new Map<string, Promise<LiveLobby>>();

  constructor(private readonly opts: RegistryOptions) {}

  get size(): number {
    return this.lobbies.size;
  }

  get(code: string): LiveLobby | undefined {
    return this.lobbies.get(code);
  }

  all(): LiveLobby[] {
    return [...this.lobbies.values()];
  }

  /** The lobby, loaded from Postgres (and claimed if its owner is dead) when needed. */
  async load(code: string): Promise<LiveLobby> {
    const live = this.lobbies.get(code);
    if (live) return live;
    let pending = this.loading.get(code);
    if (!pending) {
      pending = this.loadFromDatabase(code).finally(() => this.loading.delete(code));
      this.loading.set(code, pending);
    }
    return pending;
  }

  private async loadFromDatabase(code: string): Promise<LiveLobby> {
    if (!this.opts.canServe()) throw unavailable("this node is not serving lobbies right now");
    const { pool, nodeId } = this.opts;
    const ownership = await getOwnership(pool, code);
    if (!ownership) throw lobbyNotFound(code);
    let row: StoredLobbyRow | null = null;
    let how: "claimed" | "restored" = "restored";
    if (ownership.owner === nodeId) {
      row = await reclaimOwnLobby(pool, code, nodeId);
    } else if (!ownership.ownerAlive) {
      row = await claimOrphanedLobby(pool, code, nodeId);
      how = "claimed";
    }
    if (!row) {
      const now = await getOwnership(pool, code);
      throw notOwner(code, now?.owner ?? null);
    }
    const lobby = await this.restore(row);
    this.lobbies.set(code, lobby);
    this.opts.log.info({ code, epoch: row.epoch, seq: lobby.seq, how, from: ownership.owner }, "lobby loaded");
    this.opts.onLoaded?.(lobby, how);
    return lobby;
  }

  private async restore(row: StoredLobbyRow): Promise<LiveLobby> {
    const state = row.snapshot ? LobbyState.fromStored(row.snapshot as StoredLobby) : LobbyState.empty(row.code);
    for (const e of await readEventsAfter(this.opts.pool, row.code, state.seq)) {
      state.apply(e.seq, e.event as LobbyEvent, e.actionId ?? undefined);
    }
    if (state.seq !== row.lastSeq) {
      throw new Error(`lobby ${row.code}: log ends at ${state.seq}, lobby row says ${row.lastSeq}`);
    }
    return new LiveLobby(row.code, row.epoch, state.toStored());
  }

  /** Creates a lobby owned here; `code` is the balancer's pick (its ring owner is this node). */
  async create(code: string | null, hostName: string): Promise<{ lobby: LiveLobby; playerId: string }> {
    if (!this.opts.canServe()) throw unavailable("this node is not taking new lobbies");
    const lobby = await this.insertUnique(code, hostName);
    this.lobbies.set(lobby.code, lobby);
    this.opts.onLoaded?.(lobby, "created");
    const playerId = await this.join(lobby, hostName);
    return { lobby, playerId };
  }

  private async insertUnique(code: string | null, hostName: string): Promise<LiveLobby> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const candidate = code ?? generateLobbyCode();
      const row = { code: candidate, owner: this.opts.nodeId, hostName, isPublic: true };
      if (await insertLobby(this.opts.pool, row)) return new LiveLobby(candidate, 1, null);
      if (code) break;
    }
    throw new ApiError(409, "code_taken", "that lobby code is taken; try again");
  }

  /** Adds a player (durably) and returns their id. */
  async join(lobby: LiveLobby, name: string): Promise<string> {
    const playerId = newPlayerId();
    const decision = lobby.speculative.decideJoin(playerId, name, this.opts.maxPlayers);
    if (!decision.ok) {
      const status = decision.code === "lobby_full" ? 409 : 400;
      throw new ApiError(status, decision.code, decision.message);
    }
    const seq = await this.append(lobby, decision.event, playerId, undefined, { id: playerId, name });
    if (seq === null) throw unavailable("the lobby moved while joining; try again");
    return playerId;
  }

  /**
   * Validates an action against the lobby (including events not yet durable)
   * and queues its event for the group commit; the ack goes out when it is
   * durable (LiveLobby.commit). A re-sent action (same player and id) is not
   * applied again: if durable it is acked again with its original seq, if
   * still queued its ack is on the way.
   */
  submit(lobby: LiveLobby, playerId: string, action: LobbyAction): SubmitResult {
    if (lobby.closed || !lobby.accepting) return { ok: "dropped" };
    const durable = lobby.committed.seqOfAction(playerId, action.id);
    if (durable !== undefined) return { ok: true, seq: durable };
    if (lobby.speculative.seqOfAction(playerId, action.id) !== undefined) return { ok: "queued" };
    const decision = lobby.speculative.decide(playerId, action);
    if (!decision.ok) return decision;
    void this.append(lobby, decision.event, playerId, action.id, null);
    return { ok: "queued" };
  }

  /** Resolves with the event's seq once durable, or null if the lobby could not commit it. */
  private append(
    lobby: LiveLobby,
    event: LobbyEvent,
    playerId: string,
    actionId: string | undefined,
    newPlayer: { id: string; name: string } | null,
  ): Promise<number | null> {
    const state = lobby.speculative;
    const seq = state.seq + 1;
    state.apply(seq, event, actionId);
    return new Promise((resolve) => {
      this.opts.queue.enqueue({
        lobby,
        seq,
        event,
        playerId,
        actionId,
        newPlayer,
        snapshot: seq % SNAPSHOT_EVERY === 0 ? state.toStored() : null,
        status: state.status,
        playerCount: state.playerCount,
        settle: (committed) => resolve(committed ? seq : null),
      });
    });
  }

  /** Stops serving a lobby here; its players reconnect through the balancer. */
  unload(lobby: LiveLobby, closeCode: number, reason: string): void {
    if (this.lobbies.get(lobby.code) === lobby) this.lobbies.delete(lobby.code);
    lobby.shutDown(closeCode, reason);
    this.opts.onUnloaded?.(lobby);
  }

  unloadAll(closeCode: number, reason: string): void {
    for (const lobby of this.all()) this.unload(lobby, closeCode, reason);
  }
}
