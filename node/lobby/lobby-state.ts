import type { AnyGame, GameContext, GamePlayer, Viewer } from "../../shared/game/define-game.js";
import type { Random } from "../../shared/game/random.js";
import type { ChatLine, LobbyStatus, LobbyView } from "../../shared/wire.js";
import { type Decision, decideEntry, type HookCaller } from "./lobby-decisions.js";
import { entryPlayer, type StoredEntry } from "./log-entry.js";

/**
 * One lobby's state machine, for any game. The engine's part (players and
 * seats, chat, dedupe of action ids, fired timers, seq) is here; the game's
 * part is an opaque state folded with the game's own `apply`. Deciding and
 * applying are split (lobby-decisions.ts decides): the node validates an
 * action, logs the resulting entry durably, and only then applies it, and
 * replaying the log through `apply` rebuilds the same state.
 */

export const CHAT_HISTORY = 50;
export const DEDUPE_WINDOW = 128;

export type StoredPlayer = GamePlayer & { joinKey?: string };

/** The whole lobby, as a snapshot row stores it (hidden information included). */
export type StoredLobby = {
  v: 2;
  code: string;
  seq: number;
  gameId: string;
  gameVersion: number;
  closed: string | null;
  /** In join order. */
  players: StoredPlayer[];
  /** The last CHAT_HISTORY lines, oldest first. */
  chat: ChatLine[];
  /** Per player, oldest first: the remembered action ids and the seq each was logged at. */
  recentActions: { playerId: string; actions: [actionId: string, seq: number][] }[];
  /** Timers that fired: name -> the due time that fired. */
  firedTimers: [name: string, at: number][];
  /** The game's state (null before the lobby_created entry). */
  state: unknown;
};

/** Time and randomness for one decision; the registry provides them (tests seed them). */
export type DecisionEnv = { now: number; random: Random };

export class LobbyState {
  readonly code: string;
  readonly game: AnyGame;
  private currentSeq: number;
  private closedReason: string | null;
  // Maps rather than objects: player ids and timer names are client- or game-influenced.
  private readonly players: Map<string, StoredPlayer>;
  private chat: ChatLine[];
  private readonly recentActions: Map<string, Map<string, number>>;
  private readonly firedTimers: Map<string, number>;
  private gameState: unknown;

  private constructor(stored: StoredLobby, game: AnyGame) {
    const copy = structuredClone(stored);
    this.code = copy.code;
    this.game = game;
    this.currentSeq = copy.seq;
    this.closedReason = copy.closed;
    this.players = new Map(copy.players.map((player) => [player.id, player]));
    this.chat = copy.chat;
    this.recentActions = new Map(copy.recentActions.map(({ playerId, actions }) => [playerId, new Map(actions)]));
    this.firedTimers = new Map(copy.firedTimers);
    this.gameState = copy.state;
  }

  /** A lobby before its lobby_created entry. */
  static empty(code: string, game: AnyGame): LobbyState {
    return new LobbyState(
      {
        v: 2,
        code,
        seq: 0,
        gameId: game.id,
        gameVersion: game.version,
        closed: null,
        players: [],
        chat: [],
        recentActions: [],
        firedTimers: [],
        state: null,
      },
      game,
    );
  }

  static fromStored(stored: StoredLobby, game: AnyGame): LobbyState {
    if (stored?.v !== 2) throw new Error(`unsupported stored lobby version: ${String(stored?.v)}`);
    if (stored.gameId !== game.id) throw new Error(`lobby ${stored.code} plays ${stored.gameId}, not ${game.id}`);
    return new LobbyState(stored, game);
  }

  toStored(): StoredLobby {
    return structuredClone({
      v: 2 as const,
      code: this.code,
      seq: this.currentSeq,
      gameId: this.game.id,
      gameVersion: this.game.version,
      closed: this.closedReason,
      players: [...this.players.values()],
      chat: this.chat,
      recentActions: [...this.recentActions].map(([playerId, actions]) => ({ playerId, actions: [...actions] })),
      firedTimers: [...this.firedTimers],
      state: this.gameState,
    });
  }

  /** The lobby as one viewer may see it (read-only: serialise it, do not change it). */
  view(viewer: Viewer): LobbyView {
    const { status, statusText } = this.status();
    return {
      code: this.code,
      status,
      statusText,
      gameId: this.game.id,
      gameVersion: this.game.version,
      players: [...this.players.values()].map(({ id, name, seat }) => ({ id, name, seat })),
      seq: this.currentSeq,
      game: this.gameState === null ? null : this.callHook("view", () => this.game.view(this.gameState, viewer)),
      chat: this.chat,
    };
  }

  status(): { status: LobbyStatus; statusText: string } {
    if (this.closedReason !== null) return { status: "closed", statusText: this.closedReason };
    if (this.gameState === null) return { status: "waiting", statusText: "" };
    const { phase, text } = this.callHook("status", () => this.game.status(this.gameState));
    return { status: phase, statusText: text };
  }

  get seq(): number {
    return this.currentSeq;
  }

  get closed(): boolean {
    return this.closedReason !== null;
  }

  get playerCount(): number {
    return this.players.size;
  }

  get gameStateForHooks(): unknown {
    return this.gameState;
  }

  player(playerId: string): StoredPlayer | undefined {
    return this.players.get(playerId);
  }

  hasPlayer(playerId: string): boolean {
    return this.players.has(playerId);
  }

  allPlayers(): StoredPlayer[] {
    return [...this.players.values()];
  }

  /** The player who joined with this idempotency key, if any (a retried join gets them back). */
  playerByJoinKey(joinKey: string): StoredPlayer | undefined {
    for (const player of this.players.values()) if (player.joinKey === joinKey) return player;
    return undefined;
  }

  viewerOf(playerId: string | null): Viewer {
    const seat = playerId === null ? null : (this.players.get(playerId)?.seat ?? null);
    return { playerId, seat };
  }

  /** What hooks get besides the state. */
  context(env: DecisionEnv): GameContext {
    return {
      now: env.now,
      random: env.random,
      players: this.allPlayers().map(({ id, name, seat }) => ({ id, name, seat })),
    };
  }

  /** Decides what one request would log (see lobby-decisions.ts). Pure: does NOT mutate. */
  decide(request: Parameters<typeof decideEntry>[1], env: DecisionEnv): Decision {
    return decideEntry(this, request, env);
  }

  /** The earliest timer still to fire, if the game has any. */
  nextTimer(): { name: string; at: number } | null {
    if (!this.game.timers || this.gameState === null || this.closed) return null;
    const timers = this.callHook("timers", () => this.game.timers?.(this.gameState) ?? {});
    let next: { name: string; at: number } | null = null;
    for (const [name, at] of Object.entries(timers)) {
      if (!Number.isFinite(at) || at <= (this.firedTimers.get(name) ?? Number.NEGATIVE_INFINITY)) continue;
      if (next === null || at < next.at) next = { name, at };
    }
    return next;
  }

  /** Applies a logged entry at `seq`, which must be this.seq + 1. Does not re-validate. */
  apply(seq: number, entry: StoredEntry, actionId?: string): void {
    if (seq !== this.currentSeq + 1) {
      throw new Error(`lobby ${this.code}: entry seq ${seq} does not follow ${this.currentSeq}`);
    }
    switch (entry.kind) {
      case "lobby_created":
        this.gameState = structuredClone(entry.setup);
        this.addPlayer(entry);
        break;
      case "player_joined":
        this.addPlayer(entry);
        break;
      case "player_left":
        this.players.delete(entry.playerId);
        break;
      case "chat":
        this.chat = [...this.chat, { seq, playerId: entry.playerId, text: entry.text }].slice(-CHAT_HISTORY);
        break;
      case "timer":
        this.firedTimers.set(entry.name, entry.at);
        break;
      case "closed":
        this.closedReason = entry.reason;
        break;
      case "game":
        break;
      default:
        throw new Error(`lobby ${this.code}: unknown entry kind ${String((entry as { kind?: unknown }).kind)}`);
    }
    if ("events" in entry) this.fold(entry.events);
    const player = entryPlayer(entry);
    if (actionId !== undefined && player !== null) this.remember(player, actionId, seq);
    this.currentSeq = seq;
  }

  /** The state after these game events, without changing this lobby (decisions use it for hooks). */
  foldedState(events: readonly unknown[]): unknown {
    let state = this.gameState;
    for (const event of events) state = this.callHook("apply", () => this.game.apply(state, event));
    return state;
  }

  /** Whether this player's window of remembered action ids is full (older ids may have been forgotten). */
  windowFull(playerId: string, size: number): boolean {
    return (this.recentActions.get(playerId)?.size ?? 0) >= size;
  }

  /** The seq at which this player's earlier action with this id was logged, if still remembered. */
  seqOfAction(playerId: string, actionId: string): number | undefined {
    return this.recentActions.get(playerId)?.get(actionId);
  }

  callHook: HookCaller = (hook, call) => {
    try {
      return call();
    } catch (cause) {
      throw new GameHookError(this.game.id, hook, cause);
    }
  };

  private fold(events: readonly unknown[]): void {
    this.gameState = this.foldedState(events);
  }

  private addPlayer(entry: { playerId: string; name: string; seat: number | null; joinKey?: string }): void {
    const player: StoredPlayer = { id: entry.playerId, name: entry.name, seat: entry.seat };
    if (entry.joinKey !== undefined) player.joinKey = entry.joinKey;
    this.players.set(player.id, player);
  }

  private remember(playerId: string, actionId: string, seq: number): void {
    let actions = this.recentActions.get(playerId);
    if (actions === undefined) {
      actions = new Map();
      this.recentActions.set(playerId, actions);
    }
    // Re-inserting moves the id to the newest end, keeping Map order = age order.
    actions.delete(actionId);
    actions.set(actionId, seq);
    for (const oldest of actions.keys()) {
      if (actions.size <= DEDUPE_WINDOW) break;
      actions.delete(oldest);
    }
  }
}

/** A game hook threw: the error names the game and the hook (as Colyseus names its room hooks). */
export class GameHookError extends Error {
  override readonly name = "GameHookError";

  constructor(
    readonly gameId: string,
    readonly hook: string,
    override readonly cause: unknown,
  ) {
    super(`game "${gameId}": ${hook} threw: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}
