import { randomUUID } from "node:crypto";
import { findLoggedActions } from "../shared/db/lobby-commit.js";
import type { AnyGame } from "../shared/game/define-game.js";
import { createRandom, type Random } from "../shared/game/random.js";
import { generateLobbyCode } from "../shared/lobby-code.js";
import { checkGameAction, checkGameOptions, type LobbyAction } from "../shared/protocol.js";
import { newPlayerId } from "../shared/token.js";
import type { CommitQueue, PendingEntry, Settled } from "./commit-queue.js";
import { ApiError, unavailable } from "./errors.js";
import { LiveLobby } from "./live-lobby.js";
import type { Decision, EntryRequest } from "./lobby/lobby-decisions.js";
import { DEDUPE_WINDOW, type DecisionEnv } from "./lobby/lobby-state.js";
import type { StoredEntry } from "./lobby/log-entry.js";
import { type AppendMeta, enqueueEntry } from "./lobby-append.js";
import { type LoaderOptions, type LoadTrigger, LobbyLoader } from "./lobby-loader.js";

export type SubmitResult =
  | { ok: true; seq: number }
  | { ok: "queued" }
  /** Not taken: the lobby is moving; the client re-sends it to the new owner after reconnecting. */
  | { ok: "dropped" }
  | { ok: false; code: string; message: string };

export type { LoadedHow, LoadTrigger } from "./lobby-loader.js";

/** What the loader needs (pool, node id, games, log, canServe and the load hooks), and what appends need. */
export type RegistryOptions = Omit<LoaderOptions, "lobbies"> & {
  queue: CommitQueue;
  /** People per lobby, seated and watching. */
  maxMembers: number;
  /** Milliseconds on the database clock (DbClock.now). */
  now: () => number;
  /** Randomness for one decision; tests pass a seeded one. */
  random?: () => Random;
  /** `reason` is the text given to unload ("idle" when the lifecycle unloaded it: it stays owned here). */
  onUnloaded?: (lobby: LiveLobby, reason: string) => void;
};

/** The lobbies this node serves, and the one way in for every change to them. */
export class LobbyRegistry {
  private readonly lobbies = new Map<string, LiveLobby>();
  private readonly loader: LobbyLoader;
  /** Joins in flight by "code/idempotency key": a retry waits for the first instead of adding a player. */
  private readonly joining = new Map<string, Promise<string>>();

  constructor(private readonly opts: RegistryOptions) {
    this.loader = new LobbyLoader({ ...opts, lobbies: this.lobbies });
  }

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
  load(code: string, trigger: LoadTrigger = "request"): Promise<LiveLobby> {
    const live = this.lobbies.get(code);
    return live ? Promise.resolve(live) : this.loader.load(code, trigger);
  }

  /** A takeover's claims, many lobbies at once (LobbyLoader.claimMany). */
  claimMany(codes: string[], trigger: LoadTrigger): Promise<void> {
    return this.loader.claimMany(codes, trigger);
  }

  /** Creates a lobby owned here, durably; `code` is the balancer's pick (its ring owner is this node). */
  async create(
    code: string | null,
    host: { name: string; joinKey?: string },
    gameId: string | undefined,
    options: unknown,
  ): Promise<{ lobby: LiveLobby; playerId: string }> {
    if (!this.opts.canServe()) throw unavailable("this node is not taking new lobbies");
    const game = gameId === undefined ? this.opts.games.default : this.opts.games.get(gameId);
    if (!game) throw new ApiError(400, "unknown_game", `no game "${gameId}" here; GET /api/games lists them`);
    const checked = checkGameOptions(game, options);
    if (!checked.ok) throw new ApiError(400, "bad_options", checked.message);
    const lobbyCode = code ?? generateLobbyCode();
    if (this.lobbies.has(lobbyCode)) throw codeTaken();
    const lobby = new LiveLobby(lobbyCode, 1, game, null);
    const playerId = newPlayerId();
    const request: EntryRequest = {
      kind: "create",
      playerId,
      name: host.name,
      joinKey: host.joinKey,
      options: checked.options,
    };
    const settled = await this.decideAndAppend(lobby, request, {
      playerId,
      actionId: undefined,
      newPlayer: { id: playerId, name: host.name.trim() },
      create: { hostName: host.name.trim(), isPublic: true },
    });
    if (settled.ok === "dropped" && settled.why === "fenced") throw codeTaken();
    if (settled.ok !== true) throw httpError(settled);
    this.lobbies.set(lobby.code, lobby);
    this.opts.onLoaded?.(lobby, "created", "request");
    return { lobby, playerId };
  }

  /**
   * Adds a player (durably) and returns their id. With an idempotency key, a
   * retried join (its answer was lost) gets the same player back, never a second one.
   */
  join(lobby: LiveLobby, name: string, joinKey?: string): Promise<string> {
    if (joinKey === undefined) return this.joinOnce(lobby, name, undefined);
    const known = lobby.committed.playerByJoinKey(joinKey);
    if (known) return Promise.resolve(known.id);
    const key = `${lobby.code}/${joinKey}`;
    let pending = this.joining.get(key);
    if (!pending) {
      pending = this.joinOnce(lobby, name, joinKey).finally(() => this.joining.delete(key));
      this.joining.set(key, pending);
    }
    return pending;
  }

  private async joinOnce(lobby: LiveLobby, name: string, joinKey: string | undefined): Promise<string> {
    const playerId = newPlayerId();
    const request: EntryRequest = { kind: "join", playerId, name, joinKey, maxMembers: this.opts.maxMembers };
    const settled = await this.decideAndAppend(lobby, request, {
      playerId,
      actionId: undefined,
      newPlayer: { id: playerId, name: name.trim() },
      create: null,
    });
    if (settled.ok === "dropped") throw unavailable("the lobby moved while joining; try again");
    if (settled.ok !== true) throw httpError(settled);
    return playerId;
  }

  /** Whether this action id of this player is already logged or on its way (re-sends are free of rate limits). */
  knows(lobby: LiveLobby, playerId: string, actionId: string): boolean {
    return (
      lobby.committed.seqOfAction(playerId, actionId) !== undefined ||
      lobby.speculative.seqOfAction(playerId, actionId) !== undefined
    );
  }

  /**
   * Decides an action against the lobby (including entries not yet durable)
   * and queues its entry for the group commit; the ack goes out when it is
   * durable (LiveLobby.commit). A re-sent action (same player and id) is not
   * applied again: if durable it is acked again with its original seq (looked
   * up in the log when it is older than the in-memory window), if still
   * queued its ack is on the way.
   */
  async submit(lobby: LiveLobby, playerId: string, action: LobbyAction): Promise<SubmitResult> {
    if (lobby.closed || !lobby.accepting) return { ok: "dropped" };
    const durable = lobby.committed.seqOfAction(playerId, action.id);
    if (durable !== undefined) return { ok: true, seq: durable };
    if (lobby.speculative.seqOfAction(playerId, action.id) !== undefined) return { ok: "queued" };
    lobby.lastActivity = performance.now();
    const request = this.requestFor(lobby.game, playerId, action);
    if (!request.ok) return request;
    const decision = this.decide(lobby, request.request);
    if (!decision.ok) {
      const logged = await this.loggedSeq(lobby, playerId, action.id);
      return logged === undefined ? decision : { ok: true, seq: logged };
    }
    const meta = { playerId, actionId: action.id, newPlayer: null, create: null };
    void this.append(lobby, decision.entry, request.request, meta).then((settled) => {
      // A plain success was acked by LiveLobby.commit; the rest is told here.
      const socket = lobby.connections.get(playerId);
      if (settled.ok === "duplicate") socket?.send({ type: "ack", id: action.id, seq: settled.seq });
      else if (settled.ok === false)
        socket?.send({ type: "error", id: action.id, code: settled.code, message: settled.message });
    });
    return { ok: "queued" };
  }

  /** Fires a due timer of a lobby served here (LobbyTimers calls it); false when it is not due or not ours. */
  fireTimer(lobby: LiveLobby, name: string, at: number): boolean {
    if (lobby.closed || !lobby.accepting) return false;
    const request: EntryRequest = { kind: "timer", name, at };
    const decision = this.decide(lobby, request);
    if (!decision.ok) return false;
    void this.append(lobby, decision.entry, request, {
      playerId: null,
      actionId: undefined,
      newPlayer: null,
      create: null,
    });
    return true;
  }

  /**
   * An entry before these failed to commit: decide them again on the lobby's
   * committed state, in order. Each keeps its original settle callback, so
   * its sender still hears exactly once.
   */
  rebuild(lobby: LiveLobby, pending: PendingEntry[]): void {
    lobby.speculative = lobby.copyOfCommitted();
    for (const p of pending) {
      if (lobby.closed) {
        p.settle({ ok: "dropped", why: "moved" });
        continue;
      }
      const decision = this.decide(lobby, p.request);
      if (!decision.ok) p.settle({ ok: false, code: decision.code, message: decision.message });
      else enqueueEntry(this.opts.queue, lobby, decision.entry, p.request, p, p.settle);
    }
  }

  private requestFor(
    game: AnyGame,
    playerId: string,
    action: LobbyAction,
  ): { ok: true; request: EntryRequest } | { ok: false; code: string; message: string } {
    if (action.type === "chat") return { ok: true, request: { kind: "chat", playerId, text: action.text } };
    if (action.type === "leave") return { ok: true, request: { kind: "leave", playerId } };
    const checked = checkGameAction(game, action);
    return checked.ok ? { ok: true, request: { kind: "action", playerId, action: checked.action } } : checked;
  }

  private decide(lobby: LiveLobby, request: EntryRequest): Decision {
    const decision = lobby.speculative.decide(request, this.env());
    if (!decision.ok && decision.cause !== undefined) {
      this.opts.log.error({ code: lobby.code, game: lobby.game.id, err: decision.cause }, "game hook failed");
    }
    return decision;
  }

  private env(): DecisionEnv {
    return { now: this.opts.now(), random: this.opts.random?.() ?? createRandom(randomUUID()) };
  }

  /** An action id the window forgot may still be in the log (only possible once the window is full). */
  private async loggedSeq(lobby: LiveLobby, playerId: string, actionId: string): Promise<number | undefined> {
    if (!lobby.committed.windowFull(playerId, DEDUPE_WINDOW)) return undefined;
    const found = await findLoggedActions(this.opts.pool, lobby.code, [{ playerId, actionId }]).catch(() => null);
    return found?.get(`${playerId}/${actionId}`);
  }

  private decideAndAppend(lobby: LiveLobby, request: EntryRequest, meta: AppendMeta): Promise<Settled> {
    const decision = this.decide(lobby, request);
    if (!decision.ok) return Promise.resolve({ ok: false, code: decision.code, message: decision.message });
    return this.append(lobby, decision.entry, request, meta);
  }

  /** Resolves once the entry is durable, or why not. */
  private append(lobby: LiveLobby, entry: StoredEntry, request: EntryRequest, meta: AppendMeta): Promise<Settled> {
    return new Promise((resolve) => enqueueEntry(this.opts.queue, lobby, entry, request, meta, resolve));
  }

  /** Stops serving a lobby here; its players reconnect through the balancer. */
  unload(lobby: LiveLobby, closeCode: number, reason: string): void {
    if (this.lobbies.get(lobby.code) === lobby) this.lobbies.delete(lobby.code);
    lobby.shutDown(closeCode, reason);
    this.opts.onUnloaded?.(lobby, reason);
  }

  unloadAll(closeCode: number, reason: string): void {
    for (const lobby of this.all()) this.unload(lobby, closeCode, reason);
  }
}

function codeTaken(): ApiError {
  return new ApiError(409, "code_taken", "that lobby code is taken; try again");
}

/** A refused create or join as the HTTP answer: a full lobby is a conflict, a game bug a 500. */
function httpError(settled: Settled): ApiError {
  if (settled.ok !== false) return unavailable("the lobby moved; try again");
  if (settled.code === "internal") return new ApiError(500, "internal", settled.message);
  const status = settled.code === "lobby_full" || settled.code === "lobby_closed" ? 409 : 400;
  return new ApiError(status, settled.code, settled.message);
}
