import {
  claimOrphanedLobbies,
  claimOrphanedLobby,
  findLoadableLobby,
  getOwnership,
  type LoggedEvent,
  readEventsAfter,
  readEventsAfterMany,
  type StoredLobbyRow,
} from "../shared/db/lobbies.js";
import type { Pool } from "../shared/db/pool.js";
import type { GameCatalog } from "../shared/game/catalog.js";
import type { AnyGame } from "../shared/game/define-game.js";
import type { Logger } from "../shared/log.js";
import { ApiError, lobbyNotFound, notOwner, unavailable } from "./errors.js";
import type { LiveLobby } from "./live-lobby.js";
import { liveFromLog, stateFromRow } from "./lobby-restore.js";

export type LoadedHow = "created" | "claimed" | "restored";
/**
 * Why a lobby was loaded: a player's request (lazily), a takeover pass (eagerly), a timer falling due, or a
 * handoff to this node (loaded while its players reconnect).
 */
export type LoadTrigger = "request" | "takeover" | "timer" | "handoff";

export type LoaderOptions = {
  pool: Pool;
  nodeId: string;
  games: GameCatalog;
  log: Logger;
  /** Whether this node may take lobbies right now (false while fenced or draining). */
  canServe: () => boolean;
  onLoaded?: (lobby: LiveLobby, how: LoadedHow, trigger: LoadTrigger) => void;
  /** Where a lobby this node handed off went: a request that still reaches it while draining gets 421, not 503. */
  movedTo?: (code: string) => string | undefined;
  /** A lobby's game cannot run here (unknown game, or an older version than the lobby's). */
  onMissingGame?: (gameId: string, version: number) => void;
  /** The registry's lobbies in memory: a loaded lobby is added here. */
  lobbies: Map<string, LiveLobby>;
};

/**
 * Brings lobbies into memory from Postgres: one on request (restored if this
 * node owns it, claimed if its owner is dead), or many at once for a
 * takeover. A lobby is loaded once however many ask for it meanwhile.
 */
export class LobbyLoader {
  private readonly loading = new Map<string, Promise<LiveLobby>>();

  constructor(private readonly opts: LoaderOptions) {}

  load(code: string, trigger: LoadTrigger): Promise<LiveLobby> {
    let pending = this.loading.get(code);
    if (!pending) {
      pending = this.loadFromDatabase(code, trigger).finally(() => this.loading.delete(code));
      this.loading.set(code, pending);
    }
    return pending;
  }

  private async loadFromDatabase(code: string, trigger: LoadTrigger): Promise<LiveLobby> {
    if (!this.opts.canServe()) {
      // The balancer may not have heard of a handoff yet: naming the new owner lets it retry there at once.
      const owner = this.opts.movedTo?.(code);
      throw owner ? notOwner(code, owner) : unavailable("this node is not serving lobbies right now");
    }
    const { pool, nodeId, games } = this.opts;
    const startedAt = performance.now();
    const ownership = await findLoadableLobby(pool, code, nodeId);
    if (!ownership) throw lobbyNotFound(code);
    if (ownership.gameVersion === 0)
      throw new ApiError(410, "lobby_retired", `lobby ${code} was retired by an upgrade`);
    const game = games.forLobby(ownership.gameId, ownership.gameVersion);
    if (!game) {
      this.opts.onMissingGame?.(ownership.gameId, ownership.gameVersion);
      throw new ApiError(503, "game_unavailable", `this node cannot run ${ownership.gameId} v${ownership.gameVersion}`);
    }
    let row: StoredLobbyRow | null = ownership.reclaimed;
    let how: LoadedHow = "restored";
    if (!row && ownership.owner !== nodeId && !ownership.ownerAlive) {
      row = await claimOrphanedLobby(pool, code, nodeId, games.versions());
      how = "claimed";
    }
    if (!row) {
      const now = await getOwnership(pool, code);
      throw notOwner(code, now?.owner ?? null);
    }
    const lobby = await this.restore(row, game, row === ownership.reclaimed ? ownership.events : null);
    // The node may have fenced itself while this load waited on Postgres: then it must not serve the lobby.
    if (!this.opts.canServe()) throw unavailable("this node is not serving lobbies right now");
    this.admit(lobby, how, trigger, { from: ownership.owner, ms: Math.round(performance.now() - startedAt) });
    return lobby;
  }

  /** A lobby is in memory now: registered, logged ("lobby loaded", with where it came from), announced. */
  private admit(lobby: LiveLobby, how: LoadedHow, trigger: LoadTrigger, detail: Record<string, unknown>): void {
    this.opts.lobbies.set(lobby.code, lobby);
    this.opts.log.info(
      { code: lobby.code, epoch: lobby.epoch, seq: lobby.seq, how, trigger, ...detail },
      "lobby loaded",
    );
    this.opts.onLoaded?.(lobby, how, trigger);
  }

  /** The lobby from its row and log; `events` are the entries after the row's snapshot_seq, when read already. */
  private async restore(row: StoredLobbyRow, game: AnyGame, events: LoggedEvent[] | null): Promise<LiveLobby> {
    const state = stateFromRow(row, game);
    const after = events && state.seq === row.snapshotSeq ? events : null;
    return liveFromLog(row, game, state, after ?? (await readEventsAfter(this.opts.pool, row.code, state.seq)));
  }

  /**
   * A takeover's claims, many lobbies at once: one claim statement and one read of all their logs, where
   * one by one costs three queries per lobby (a survivor of a node with a thousand active lobbies spent
   * seconds on them while their players waited). Lobbies loaded or loading already are left alone; a
   * request for one of these waits for this batch, and one the batch did not take is loaded on its own.
   */
  async claimMany(codes: string[], trigger: LoadTrigger): Promise<void> {
    const todo = codes.filter((code) => !this.opts.lobbies.has(code) && !this.loading.has(code));
    if (todo.length === 0 || !this.opts.canServe()) return;
    const batch = this.claimBatch(todo, trigger);
    for (const code of todo) {
      const one = batch
        .then((loaded) => loaded.get(code) ?? this.loadFromDatabase(code, trigger))
        .finally(() => this.loading.delete(code));
      one.catch(() => {}); // a takeover claim that is not taken is fine; a waiting request sees why
      this.loading.set(code, one);
    }
    await batch.catch((err: Error) =>
      this.opts.log.warn({ err: err.message, lobbies: todo.length }, "batch claim failed"),
    );
  }

  private async claimBatch(codes: string[], trigger: LoadTrigger): Promise<Map<string, LiveLobby>> {
    const { pool, nodeId, games, log } = this.opts;
    const startedAt = performance.now();
    const rows = await claimOrphanedLobbies(pool, codes, nodeId, games.versions());
    const states = rows.flatMap((row) => {
      const game = games.forLobby(row.gameId, row.gameVersion);
      return game ? [{ row, game, state: stateFromRow(row, game) }] : [];
    });
    const logs = await readEventsAfterMany(
      pool,
      states.map(({ row, state }) => ({ code: row.code, seq: state.seq })),
    );
    const loaded = new Map<string, LiveLobby>();
    // The node may have fenced itself while the claim waited on Postgres: then it serves none of them.
    if (!this.opts.canServe()) return loaded;
    const ms = Math.round(performance.now() - startedAt);
    for (const { row, game, state } of states) {
      try {
        const lobby = liveFromLog(row, game, state, logs.get(row.code) ?? []);
        loaded.set(row.code, lobby);
        this.admit(lobby, "claimed", trigger, { from: row.previousOwner, ms, batch: codes.length });
      } catch (err) {
        // Owned here now; its next request reloads it on its own (and fails the same way, visibly).
        log.error({ code: row.code, err: (err as Error).message }, "claimed lobby could not be restored");
      }
    }
    return loaded;
  }
}
