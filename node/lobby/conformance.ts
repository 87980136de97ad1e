import { foldEntry } from "../../shared/client/lobby-fold.js";
import type { AnyGame, Viewer } from "../../shared/game/define-game.js";
import { createRandom, type Random } from "../../shared/game/random.js";
import type { LobbyView } from "../../shared/wire.js";
import type { EntryRequest } from "./lobby-decisions.js";
import { type DecisionEnv, LobbyState } from "./lobby-state.js";
import { projectEntry, type StoredEntry } from "./log-entry.js";

/**
 * The conformance suite every game runs (both bundled ones do, and a
 * studio's should): random games with legal moves from the game's bot,
 * illegal ones, chat, joins, leaves and timers, driven through the real
 * engine, checking that:
 * - no hook throws and every refusal is a refusal (never a crash);
 * - `apply` is pure: it never changes the state or the event it is given;
 * - replaying the log, or a snapshot plus the rest of the log, rebuilds the
 *   same state;
 * - what each viewer folds from its projected entries (the SDK's fold) equals
 *   the node's view for that viewer, at every step;
 * - no frame a viewer receives (view or entry) contains another player's
 *   secrets, when the game names them;
 * - each timer (name, due time) fires once.
 * It returns the problems found (empty when the game conforms), so any test
 * framework can assert on it.
 */

export type ConformanceOptions = {
  /** Random games to play (default 20) and steps per game (default 300). */
  games?: number;
  steps?: number;
  /** Players who join each game (default the game's maxPlayers, plus one spectator when it allows them). */
  players?: number;
  /** Create options for the game. */
  options?: Record<string, unknown>;
  /** What belongs to one player and must never reach anyone else (matched as JSON text in their frames). */
  secrets?: (state: unknown, playerId: string) => unknown[];
  seed?: string;
};

export type ConformanceReport = {
  problems: string[];
  /** Entries logged over all games, and how many were game actions and timers (so a test can see it really played). */
  entries: number;
  actions: number;
  timers: number;
  refusals: number;
};

const MAX_PROBLEMS = 20;

export function checkConformance(game: AnyGame, options: ConformanceOptions = {}): ConformanceReport {
  const report: ConformanceReport = { problems: [], entries: 0, actions: 0, timers: 0, refusals: 0 };
  for (let g = 0; g < (options.games ?? 20) && report.problems.length < MAX_PROBLEMS; g++) {
    new GameRun(game, options, `${options.seed ?? "conformance"}:${g}`, report).play(options.steps ?? 300);
  }
  return report;
}

type Logged = { seq: number; entry: StoredEntry; actionId?: string };

class GameRun {
  private readonly random: Random;
  private readonly lobby: LobbyState;
  private readonly log: Logged[] = [];
  private readonly views = new Map<string, LobbyView>();
  private readonly fired = new Set<string>();
  private clock = 1_700_000_000_000;
  private step = 0;

  constructor(
    private readonly game: AnyGame,
    private readonly options: ConformanceOptions,
    seed: string,
    private readonly report: ConformanceReport,
  ) {
    this.random = createRandom(seed);
    this.lobby = LobbyState.empty("CONFRM", game);
  }

  play(steps: number): void {
    const players = this.options.players ?? this.game.maxPlayers + (this.game.spectators ? 1 : 0);
    // Through the game's schema, as POST /api/lobbies does: setup gets the options with their defaults.
    const options = this.game.options.parse(this.options.options ?? {});
    this.commit({ kind: "create", playerId: "p0", name: "p0", options }, "create");
    for (let i = 1; i < players; i++) this.commit({ kind: "join", playerId: `p${i}`, name: `p${i}`, maxMembers: 64 });
    for (this.step = 0; this.step < steps && this.report.problems.length < MAX_PROBLEMS; this.step++) {
      this.clock += this.random.int(3000);
      if (this.fireDueTimer()) continue;
      this.commit(this.randomRequest(), `a${this.step}`);
    }
    this.checkReplay();
  }

  private randomRequest(): EntryRequest {
    const ids = this.lobby.allPlayers().map((p) => p.id);
    const roll = this.random.next();
    if (roll < 0.6) {
      // A legal move of someone who has one (whose turn it is), as the bot sees it from that player's view.
      const moves = ids.flatMap((id) =>
        (this.game.bot?.actions(this.viewState(id), this.lobby.viewerOf(id)) ?? []).map((action) => ({ id, action })),
      );
      if (moves.length > 0) {
        const { id, action } = this.random.pick(moves);
        return { kind: "action", playerId: id, action };
      }
    }
    const playerId = ids.length > 0 && this.random.next() < 0.97 ? this.random.pick(ids) : "stranger";
    if (roll < 0.8) {
      const action = this.illegalAction();
      if (action) return { kind: "action", playerId, action };
    }
    if (roll < 0.97) return { kind: "chat", playerId, text: `chat ${this.step}` };
    return this.random.next() < 0.5
      ? { kind: "leave", playerId }
      : { kind: "join", playerId: `late${this.step}`, name: "late", maxMembers: 64 };
  }

  /**
   * An action that passes the game's schema (only such reach decide in
   * production) but is likely illegal for whoever sends it: a move the bot
   * finds for some player, sent by a random one, or an empty payload when the
   * schema takes it.
   */
  private illegalAction(): ({ type: string } & Record<string, unknown>) | null {
    const ids = this.lobby.allPlayers().map((p) => p.id);
    const someone = ids.length > 0 ? this.random.pick(ids) : null;
    const moves =
      someone === null ? [] : (this.game.bot?.actions(this.viewState(someone), this.lobby.viewerOf(someone)) ?? []);
    if (moves.length > 0) return this.random.pick(moves);
    const type = this.random.pick(Object.keys(this.game.actions));
    const checked = this.game.actions[type]?.safeParse({});
    return checked?.success ? { ...(checked.data as object), type } : null;
  }

  private fireDueTimer(): boolean {
    const next = this.lobby.nextTimer();
    if (!next || next.at > this.clock) return false;
    const key = `${next.name}@${next.at}`;
    if (this.fired.has(key)) this.problem(`timer ${key} would fire twice`);
    this.fired.add(key);
    this.commit({ kind: "timer", name: next.name, at: next.at });
    this.report.timers++;
    return true;
  }

  private commit(request: EntryRequest, actionId?: string): void {
    const decision = this.lobby.decide(request, this.env());
    if (!decision.ok) {
      if (decision.cause !== undefined) this.problem(`${request.kind} threw: ${String(decision.cause)}`);
      this.report.refusals++;
      return;
    }
    const seq = this.lobby.seq + 1;
    this.checkPurity(decision.entry, seq);
    try {
      this.lobby.apply(seq, decision.entry, actionId);
    } catch (err) {
      this.problem(`apply threw at seq ${seq}: ${(err as Error).message}`);
      return;
    }
    this.log.push({ seq, entry: decision.entry, actionId });
    this.report.entries++;
    if (request.kind === "action") this.report.actions++;
    this.checkViews(seq, decision.entry);
  }

  /** apply, view and project on frozen copies: a hook that changes its input throws here instead of sharing state. */
  private checkPurity(entry: StoredEntry, seq: number): void {
    if (!("events" in entry) || this.lobby.gameStateForHooks === null) return;
    let state = deepFreeze(structuredClone(this.lobby.gameStateForHooks));
    try {
      for (const event of entry.events) {
        const frozen = deepFreeze(structuredClone(event));
        for (const viewer of this.viewers()) this.game.project(frozen, viewer);
        state = deepFreeze(this.game.apply(state, frozen));
        for (const viewer of this.viewers()) this.game.view(state, viewer);
      }
    } catch (err) {
      this.problem(`seq ${seq}: apply, view or project changed its input (${(err as Error).message})`);
    }
  }

  /** Each viewer's fold of its projected entry equals the node's view for it; no viewer sees another's secrets. */
  private checkViews(seq: number, entry: StoredEntry): void {
    for (const viewer of this.viewers()) {
      const key = viewer.playerId ?? "(spectator)";
      const expected = this.lobby.view(viewer);
      const projected = projectEntry(entry, this.game, viewer);
      const previous = this.views.get(key);
      if (previous) {
        const folded = foldEntry(previous, seq, projected, this.game);
        if (!sameJson(folded, expected)) this.problem(`seq ${seq}: ${key}'s fold differs from the node's view`);
      }
      this.views.set(key, JSON.parse(JSON.stringify(expected)) as LobbyView);
      this.checkSecrets(viewer, [expected, projected], seq);
    }
  }

  private checkSecrets(viewer: Viewer, frames: unknown[], seq: number): void {
    if (!this.options.secrets) return;
    const text = JSON.stringify(frames);
    for (const other of this.lobby.allPlayers()) {
      if (other.id === viewer.playerId) continue;
      for (const secret of this.options.secrets(this.lobby.gameStateForHooks, other.id)) {
        if (text.includes(JSON.stringify(secret))) {
          this.problem(
            `seq ${seq}: ${viewer.playerId ?? "a spectator"} can see ${other.id}'s ${JSON.stringify(secret)}`,
          );
          return;
        }
      }
    }
  }

  private checkReplay(): void {
    const replayed = LobbyState.empty("CONFRM", this.game);
    for (const { seq, entry, actionId } of this.log) replayed.apply(seq, entry, actionId);
    if (!sameJson(replayed.toStored(), this.lobby.toStored())) this.problem("replaying the log gives another state");
    const cut = this.random.int(this.log.length + 1);
    const head = LobbyState.empty("CONFRM", this.game);
    for (const { seq, entry, actionId } of this.log.slice(0, cut)) head.apply(seq, entry, actionId);
    const restored = LobbyState.fromStored(JSON.parse(JSON.stringify(head.toStored())), this.game);
    for (const { seq, entry, actionId } of this.log.slice(cut)) restored.apply(seq, entry, actionId);
    if (!sameJson(restored.toStored(), this.lobby.toStored())) {
      this.problem(`a snapshot at seq ${cut} plus the rest of the log gives another state`);
    }
  }

  private viewers(): Viewer[] {
    const seated = this.lobby.allPlayers().map((p) => this.lobby.viewerOf(p.id));
    return [...seated, { playerId: null, seat: null }];
  }

  private viewState(playerId: string): unknown {
    return this.lobby.view(this.lobby.viewerOf(playerId)).game;
  }

  private env(): DecisionEnv {
    return { now: this.clock, random: createRandom(`${this.step}:${this.random.next()}`) };
  }

  private problem(text: string): void {
    if (this.report.problems.length < MAX_PROBLEMS) this.report.problems.push(`${this.game.id}: ${text}`);
  }
}

/** Equal as JSON, whatever order each side built its keys in. */
function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a, sortedKeys) === JSON.stringify(b, sortedKeys);
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}

/** Freezes deeply, so an impure `apply` throws (in strict mode) instead of silently sharing state. */
function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  for (const item of Object.values(value)) deepFreeze(item);
  return Object.freeze(value);
}
