import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { Decision, EntryRequest } from "../../node/lobby/lobby-decisions.js";
import { CHAT_HISTORY, DEDUPE_WINDOW, LobbyState } from "../../node/lobby/lobby-state.js";
import { projectEntry, type StoredEntry } from "../../node/lobby/log-entry.js";
import { defineGame, refuse } from "../../shared/game/define-game.js";
import { createRandom } from "../../shared/game/random.js";
import { connectFour } from "../../shared/games/connect-four/game.js";
import type { ConnectFourState } from "../../shared/games/connect-four/rules.js";

/** The engine (players, seats, chat, dedupe, seq) running Connect Four. */

/** Seat 1 fills column 0 bottom-up while seat 2 answers in column 1: seat 1 wins on the 7th move. */
const QUICK_WIN = [0, 1, 0, 1, 0, 1, 0];
/** Fills the board without four in a row anywhere. */
const DRAW_GAME = [..."200000011111122222333333644444455555566666"].map(Number);
const env = () => ({ now: 1_000, random: createRandom("test") });

let nextActionId = 0;

function expectEntry(decision: Decision): StoredEntry {
  if (!decision.ok) throw new Error(`expected an entry, got ${decision.code}: ${decision.message}`);
  return decision.entry;
}

function commit(lobby: LobbyState, request: EntryRequest, actionId?: string): StoredEntry {
  const entry = expectEntry(lobby.decide(request, env()));
  lobby.apply(lobby.seq + 1, entry, actionId);
  return entry;
}

const join = (lobby: LobbyState, playerId: string) =>
  commit(
    lobby,
    lobby.seq === 0
      ? { kind: "create", playerId, name: `name of ${playerId}`, options: {} }
      : { kind: "join", playerId, name: `name of ${playerId}`, maxMembers: 4 },
  );
const move = (playerId: string, column: number): EntryRequest => ({
  kind: "action",
  playerId,
  action: { type: "move", column },
});
const rematch = (playerId: string): EntryRequest => ({ kind: "action", playerId, action: { type: "rematch" } });
const chat = (playerId: string, text: string): EntryRequest => ({ kind: "chat", playerId, text });
const game = (lobby: LobbyState) => lobby.view({ playerId: null, seat: null }).game as ConnectFourState;

function act(lobby: LobbyState, request: EntryRequest): StoredEntry {
  return commit(lobby, request, `a${nextActionId++}`);
}

/** Plays columns in order, seats alternating from whoever's turn it is. */
function playColumns(lobby: LobbyState, columns: number[]): StoredEntry {
  let last: StoredEntry | undefined;
  for (const column of columns) last = act(lobby, move(game(lobby).turn === 1 ? "p1" : "p2", column));
  if (last === undefined) throw new Error("no moves");
  return last;
}

/** p1 and p2 seated, p3 watching. */
function startedLobby(): LobbyState {
  const lobby = LobbyState.empty("ABCDEF", connectFour);
  for (const id of ["p1", "p2", "p3"]) join(lobby, id);
  return lobby;
}

function expectError(decision: Decision, code: string): void {
  expect(decision).toMatchObject({ ok: false, code });
}

describe("LobbyState: joining", () => {
  it("starts empty, then seats the first two players and makes the rest spectators", () => {
    const lobby = LobbyState.empty("ABCDEF", connectFour);
    expect([lobby.code, lobby.seq, lobby.playerCount]).toEqual(["ABCDEF", 0, 0]);
    const created = join(lobby, "p1");
    expect(created).toMatchObject({ kind: "lobby_created", playerId: "p1", seat: 1, gameId: "connect-four" });
    expect(lobby.status()).toEqual({ status: "waiting", statusText: "waiting for a second player" });
    expect(join(lobby, "p2")).toMatchObject({ kind: "player_joined", playerId: "p2", seat: 2 });
    expect(lobby.status().status).toBe("playing");
    expect(join(lobby, "p3")).toMatchObject({ kind: "player_joined", playerId: "p3", seat: null });
    const view = lobby.view({ playerId: "p3", seat: null });
    expect(view.players.map((p) => p.seat)).toEqual([1, 2, null]);
    expect(view).toMatchObject({ gameId: "connect-four", gameVersion: 1, seq: 3 });
    expect(game(lobby)).toMatchObject({ turn: 1, moves: 0, round: 1, winner: null, seats: ["p1", "p2"] });
  });

  it("refuses a full lobby, a second join and bad names", () => {
    const lobby = startedLobby();
    expectError(lobby.decide({ kind: "join", playerId: "p2", name: "again", maxMembers: 4 }, env()), "bad_message");
    join(lobby, "p4");
    expectError(lobby.decide({ kind: "join", playerId: "p5", name: "late", maxMembers: 4 }, env()), "lobby_full");
    expectError(
      lobby.decide({ kind: "join", playerId: "p5", name: "late", maxMembers: Number.NaN }, env()),
      "lobby_full",
    );
    for (const name of ["", "   ", "x".repeat(33), null, 42]) {
      const request = { kind: "create", playerId: "p1", name: name as string, options: {} } as const;
      expectError(LobbyState.empty("ABCDEF", connectFour).decide(request, env()), "bad_message");
    }
  });

  it("finds a player again by the idempotency key they joined with, and never shows the key", () => {
    const lobby = startedLobby();
    const entry = commit(lobby, { kind: "join", playerId: "p9", name: "nine", joinKey: "key-123456", maxMembers: 9 });
    expect(lobby.playerByJoinKey("key-123456")?.id).toBe("p9");
    expect(lobby.playerByJoinKey("key-other")).toBeUndefined();
    expect(JSON.stringify(projectEntry(entry, connectFour, { playerId: "p1", seat: 1 }))).not.toContain("key-123456");
    expect(JSON.stringify(lobby.view({ playerId: null, seat: null }))).not.toContain("key-123456");
  });
});

describe("LobbyState: playing Connect Four", () => {
  it("plays a whole game to a win", () => {
    const lobby = startedLobby();
    const line = [2, 3, 4, 5].map((row) => [row, 0]);
    expect(playColumns(lobby, QUICK_WIN)).toEqual({
      kind: "game",
      playerId: "p1",
      action: "move",
      events: [
        { type: "dropped", seat: 1, column: 0, row: 2 },
        { type: "won", playerId: "p1", line },
      ],
    });
    expect(lobby.status()).toEqual({ status: "finished", statusText: "round 1: won" });
    expect(game(lobby)).toMatchObject({ winner: "p1", winLine: line, moves: 7, draw: false });
    expect(game(lobby).board[5]).toEqual([1, 2, 0, 0, 0, 0, 0]);
    expectError(lobby.decide(move("p2", 3), env()), "game_over");
  });

  it("plays a whole game to a draw", () => {
    const lobby = startedLobby();
    expect(playColumns(lobby, DRAW_GAME)).toMatchObject({ kind: "game", events: [{}, { type: "drawn" }] });
    expect(lobby.status().status).toBe("finished");
    expect(game(lobby)).toMatchObject({ draw: true, winner: null, moves: 42 });
  });

  it("validates moves with the documented error codes", () => {
    const waiting = LobbyState.empty("ABCDEF", connectFour);
    join(waiting, "p1");
    expectError(waiting.decide(move("p1", 0), env()), "not_ready");
    const lobby = startedLobby();
    expectError(lobby.decide(move("p3", 0), env()), "not_a_player");
    expectError(lobby.decide(move("stranger", 0), env()), "not_a_player");
    expectError(lobby.decide(move("p2", 0), env()), "not_your_turn");
    playColumns(lobby, [0, 0, 0, 0, 0, 0]);
    expectError(lobby.decide(move("p1", 0), env()), "invalid_move");
    expect(lobby.decide(move("p1", 1), env()).ok).toBe(true);
  });

  it("decide does not change the state", () => {
    const lobby = startedLobby();
    const before = lobby.toStored();
    lobby.decide(move("p1", 3), env());
    lobby.decide(chat("p1", "hello"), env());
    lobby.decide({ kind: "join", playerId: "p9", name: "nine", maxMembers: 9 }, env());
    lobby.decide({ kind: "leave", playerId: "p1" }, env());
    expect(lobby.toStored()).toEqual(before);
  });

  it("alternates the starting seat on every rematch", () => {
    const lobby = startedLobby();
    expectError(lobby.decide(rematch("p1"), env()), "not_ready");
    playColumns(lobby, QUICK_WIN);
    expectError(lobby.decide(rematch("p3"), env()), "not_a_player");
    expect(act(lobby, rematch("p2"))).toMatchObject({ events: [{ type: "rematch", round: 2, starts: 2 }] });
    expect(lobby.status().status).toBe("playing");
    expect(game(lobby)).toMatchObject({ round: 2, turn: 2, moves: 0, winner: null, winLine: null });
    expect(
      game(lobby)
        .board.flat()
        .every((cell) => cell === 0),
    ).toBe(true);
    expectError(lobby.decide(move("p1", 0), env()), "not_your_turn");
    playColumns(lobby, DRAW_GAME);
    expect(act(lobby, rematch("p1"))).toMatchObject({ events: [{ round: 3, starts: 1 }] });
  });

  it("gives the round to the opponent when a seated player leaves, and frees the seat", () => {
    const lobby = startedLobby();
    playColumns(lobby, [3, 4]);
    expect(act(lobby, { kind: "leave", playerId: "p2" })).toEqual({
      kind: "player_left",
      playerId: "p2",
      events: [
        { type: "won", playerId: "p1", line: [] },
        { type: "unseated", seat: 2 },
      ],
    });
    expect(lobby.hasPlayer("p2")).toBe(false);
    expect(game(lobby)).toMatchObject({ winner: "p1", seats: ["p1", null], phase: "finished" });
    // The free seat goes to the next player who joins (Connect Four lets players join a game in progress).
    expect(join(lobby, "p4")).toMatchObject({ seat: 2, events: [{ type: "seated", seat: 2, playerId: "p4" }] });
  });
});

describe("LobbyState: chat and the dedupe window", () => {
  it("lets any member chat, keeps the last 50 lines with their seq", () => {
    const lobby = startedLobby();
    expectError(lobby.decide(chat("stranger", "hi"), env()), "not_a_player");
    for (let i = 0; i < 60; i++) act(lobby, chat(i % 2 ? "p1" : "p2", `line ${i}`));
    const lines = lobby.view({ playerId: "p1", seat: 1 }).chat;
    expect(lines).toHaveLength(CHAT_HISTORY);
    expect(lines[0]).toEqual({ seq: lobby.seq - 49, playerId: "p2", text: "line 10" });
    expect(lines.at(-1)).toEqual({ seq: lobby.seq, playerId: "p1", text: "line 59" });
  });

  it("remembers action ids per player, forgets them after 128 newer ones, and says when the window is full", () => {
    const lobby = startedLobby();
    const line = (playerId: string): StoredEntry => ({ kind: "chat", playerId, text: "x" });
    lobby.apply(lobby.seq + 1, line("p1"), "first");
    const firstSeq = lobby.seq;
    expect(lobby.seqOfAction("p1", "first")).toBe(firstSeq);
    expect(lobby.seqOfAction("p2", "first")).toBeUndefined();
    for (let i = 0; i < DEDUPE_WINDOW - 1; i++) lobby.apply(lobby.seq + 1, line("p1"), `id-${i}`);
    expect(lobby.windowFull("p1", DEDUPE_WINDOW)).toBe(true);
    expect(lobby.windowFull("p2", DEDUPE_WINDOW)).toBe(false);
    expect(lobby.seqOfAction("p1", "first")).toBe(firstSeq);
    lobby.apply(lobby.seq + 1, line("p1"), "one-more");
    expect(lobby.seqOfAction("p1", "first")).toBeUndefined();
    expect(lobby.seqOfAction("p1", "id-0")).toBe(firstSeq + 1);
    const restored = LobbyState.fromStored(JSON.parse(JSON.stringify(lobby.toStored())), connectFour);
    expect(restored.seqOfAction("p1", "id-0")).toBe(firstSeq + 1);
    expect(restored.seqOfAction("p1", "first")).toBeUndefined();
  });

  it("throws on a gap or a duplicate seq and leaves the state alone", () => {
    const lobby = startedLobby();
    const before = lobby.toStored();
    const entry: StoredEntry = { kind: "chat", playerId: "p1", text: "hi" };
    expect(() => lobby.apply(lobby.seq + 2, entry)).toThrow();
    expect(() => lobby.apply(lobby.seq, entry)).toThrow();
    expect(lobby.toStored()).toEqual(before);
  });
});

describe("LobbyState: snapshots", () => {
  it("round-trips through JSON and copies deeply", () => {
    const lobby = startedLobby();
    playColumns(lobby, [3, 3, 4]);
    act(lobby, chat("p3", "nice"));
    const stored = lobby.toStored();
    expect(stored).toMatchObject({ v: 2, code: "ABCDEF", seq: lobby.seq, gameId: "connect-four" });
    const restored = LobbyState.fromStored(JSON.parse(JSON.stringify(stored)), connectFour);
    expect(restored.view({ playerId: null, seat: null })).toEqual(lobby.view({ playerId: null, seat: null }));
    expect(restored.toStored()).toEqual(stored);
    act(lobby, move("p2", 4));
    expect((stored.state as ConnectFourState).moves).toBe(3);
    expect(() => LobbyState.fromStored({ ...stored, v: 1 } as unknown as typeof stored, connectFour)).toThrow();
    const other = defineGame({ ...minimalGame(), id: "other" });
    expect(() => LobbyState.fromStored(stored, other)).toThrow(/plays connect-four/);
  });
});

describe("LobbyState: a game whose hooks throw or misbehave", () => {
  it("turns a throwing hook into an internal refusal that names the game and the hook", () => {
    const broken = defineGame({
      ...minimalGame(),
      decide: () => {
        throw new Error("boom");
      },
    });
    const lobby = LobbyState.empty("ABCDEF", broken);
    commit(lobby, { kind: "create", playerId: "p1", name: "one", options: {} });
    const decision = lobby.decide({ kind: "action", playerId: "p1", action: { type: "go" } }, env());
    expect(decision).toMatchObject({ ok: false, code: "internal" });
    expect(String((decision as { cause?: Error }).cause)).toMatch(/game "minimal": decide threw: boom/);
  });

  it("refuses an event with text Postgres cannot store, before it reaches the log", () => {
    const sloppy = defineGame({ ...minimalGame(), decide: () => [{ type: "said", text: "a\u0000b" }] });
    const lobby = LobbyState.empty("ABCDEF", sloppy);
    commit(lobby, { kind: "create", playerId: "p1", name: "one", options: {} });
    expect(lobby.decide({ kind: "action", playerId: "p1", action: { type: "go" } }, env())).toMatchObject({
      ok: false,
      code: "internal",
    });
  });

  it("passes a game's own refusal through", () => {
    const strict = defineGame({ ...minimalGame(), decide: () => refuse("too_soon", "wait for it") });
    const lobby = LobbyState.empty("ABCDEF", strict);
    commit(lobby, { kind: "create", playerId: "p1", name: "one", options: {} });
    expect(lobby.decide({ kind: "action", playerId: "p1", action: { type: "go" } }, env())).toEqual({
      ok: false,
      code: "too_soon",
      message: "wait for it",
    });
  });
});

function minimalGame() {
  return {
    id: "minimal",
    version: 1,
    title: "Minimal",
    minPlayers: 1,
    maxPlayers: 1,
    actions: { go: z.object({}) },
    setup: () => ({ n: 0 }),
    decide: (): { type: string; text?: string }[] => [{ type: "went" }],
    apply: (state: { n: number }) => ({ n: state.n + 1 }),
    status: () => ({ phase: "playing" as const, text: "" }),
  };
}
