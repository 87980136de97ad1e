import { describe, expect, it } from "vitest";
import { CHAT_HISTORY, DEDUPE_WINDOW, type Decision, LobbyState } from "../../node/game/lobby-state.js";
import type { LobbyAction, LobbyEvent } from "../../shared/protocol.js";

const MAX_PLAYERS = 4;
/** Seat 1 fills column 0 bottom-up while seat 2 answers in column 1: seat 1 wins on the 7th move. */
const QUICK_WIN = [0, 1, 0, 1, 0, 1, 0];
/** Fills the board without four in a row anywhere. */
const DRAW_GAME = [..."200000011111122222333333644444455555566666"].map(Number);

let nextActionId = 0;

function expectEvent(decision: Decision): LobbyEvent {
  if (!decision.ok) throw new Error(`expected an event, got ${decision.code}: ${decision.message}`);
  return decision.event;
}

function join(lobby: LobbyState, playerId: string): LobbyEvent {
  const event = expectEvent(lobby.decideJoin(playerId, `name of ${playerId}`, MAX_PLAYERS));
  lobby.apply(lobby.seq + 1, event);
  return event;
}

function act(lobby: LobbyState, playerId: string, action: LobbyAction): LobbyEvent {
  const event = expectEvent(lobby.decide(playerId, action));
  lobby.apply(lobby.seq + 1, event, action.id);
  return event;
}

const move = (column: number): LobbyAction => ({ type: "move", id: `a${nextActionId++}`, column });
const chat = (text: string): LobbyAction => ({ type: "chat", id: `a${nextActionId++}`, text });
const rematch = (): LobbyAction => ({ type: "rematch", id: `a${nextActionId++}` });

/** Plays columns in order, seats alternating from whoever's turn it is. */
function playColumns(lobby: LobbyState, columns: number[]): LobbyEvent {
  let last: LobbyEvent | undefined;
  for (const column of columns) last = act(lobby, lobby.view().game.turn === 1 ? "p1" : "p2", move(column));
  if (last === undefined) throw new Error("no moves");
  return last;
}

/** p1 and p2 seated, p3 watching. */
function startedLobby(): LobbyState {
  const lobby = LobbyState.empty("ABCDEF");
  for (const id of ["p1", "p2", "p3"]) join(lobby, id);
  return lobby;
}

function expectError(decision: Decision, code: string): void {
  expect(decision).toMatchObject({ ok: false, code });
}

describe("LobbyState: joining", () => {
  it("starts empty and waiting", () => {
    const lobby = LobbyState.empty("ABCDEF");
    expect([lobby.code, lobby.seq, lobby.status, lobby.playerCount]).toEqual(["ABCDEF", 0, "waiting", 0]);
    expect(lobby.view()).toMatchObject({ code: "ABCDEF", seq: 0, players: [], chat: [] });
    expect(lobby.view().game).toMatchObject({ turn: 1, moves: 0, round: 1, winner: null, winLine: null, draw: false });
  });

  it("seats the first two players and makes the rest spectators", () => {
    const lobby = LobbyState.empty("ABCDEF");
    expect(join(lobby, "p1")).toEqual({ kind: "lobby_created", playerId: "p1", name: "name of p1", seat: 1 });
    expect(lobby.status).toBe("waiting");
    expect(join(lobby, "p2")).toMatchObject({ kind: "player_joined", playerId: "p2", seat: 2 });
    expect(lobby.status).toBe("playing");
    expect(join(lobby, "p3")).toMatchObject({ kind: "player_joined", playerId: "p3", seat: null });
    expect(lobby.view().players.map((p) => p.seat)).toEqual([1, 2, null]);
    expect(lobby.hasPlayer("p3")).toBe(true);
    expect(lobby.hasPlayer("nobody")).toBe(false);
    expect(lobby.playerName("p2")).toBe("name of p2");
  });

  it("refuses a full lobby, a second join and bad names", () => {
    const lobby = startedLobby();
    expectError(lobby.decideJoin("p2", "again", MAX_PLAYERS), "bad_message");
    join(lobby, "p4");
    expectError(lobby.decideJoin("p5", "late", MAX_PLAYERS), "lobby_full");
    expectError(lobby.decideJoin("p5", "late", Number.NaN), "lobby_full");
    for (const name of ["", "   ", "x".repeat(33), null, 42]) {
      expectError(LobbyState.empty("ABCDEF").decideJoin("p1", name as string, MAX_PLAYERS), "bad_message");
    }
    expectError(LobbyState.empty("ABCDEF").decideJoin(7 as unknown as string, "seven", MAX_PLAYERS), "bad_message");
  });
});

describe("LobbyState: playing", () => {
  it("plays a whole game to a win", () => {
    const lobby = startedLobby();
    const winLine = [2, 3, 4, 5].map((row) => [row, 0]);
    const last = playColumns(lobby, QUICK_WIN);
    expect(last).toEqual({ kind: "move", playerId: "p1", column: 0, row: 2, disc: 1, winner: "p1", winLine });
    const view = lobby.view();
    expect(view.status).toBe("finished");
    expect(view.game).toMatchObject({ winner: "p1", winLine, moves: 7, draw: false });
    expect(view.game.board[5]).toEqual([1, 2, 0, 0, 0, 0, 0]);
    expectError(lobby.decide("p2", move(3)), "game_over");
  });

  it("plays a whole game to a draw", () => {
    const lobby = startedLobby();
    expect(playColumns(lobby, DRAW_GAME)).toMatchObject({ kind: "move", draw: true });
    expect(lobby.status).toBe("finished");
    expect(lobby.view().game).toMatchObject({ draw: true, winner: null, moves: 42 });
  });

  it("validates moves with the documented error codes", () => {
    const waiting = LobbyState.empty("ABCDEF");
    join(waiting, "p1");
    expectError(waiting.decide("p1", move(0)), "not_ready");
    const lobby = startedLobby();
    expectError(lobby.decide("p3", move(0)), "not_a_player");
    expectError(lobby.decide("stranger", move(0)), "not_a_player");
    expectError(lobby.decide("p2", move(0)), "not_your_turn");
    playColumns(lobby, [0, 0, 0, 0, 0, 0]);
    expectError(lobby.decide("p1", move(0)), "invalid_move");
    expect(lobby.decide("p1", move(1)).ok).toBe(true);
  });

  it("decide does not change the state", () => {
    const lobby = startedLobby();
    const before = lobby.toStored();
    lobby.decide("p1", move(3));
    lobby.decide("p1", chat("hello"));
    lobby.decideJoin("p9", "nine", MAX_PLAYERS);
    expect(lobby.toStored()).toEqual(before);
  });

  it("alternates the starting seat on every rematch", () => {
    const lobby = startedLobby();
    expectError(lobby.decide("p1", rematch()), "not_ready");
    playColumns(lobby, QUICK_WIN);
    expectError(lobby.decide("p3", rematch()), "not_a_player");
    expectError(lobby.decide("stranger", rematch()), "not_a_player");
    expect(act(lobby, "p2", rematch())).toEqual({ kind: "rematch", playerId: "p2", round: 2, starts: 2 });
    expect(lobby.status).toBe("playing");
    expect(lobby.view().game).toMatchObject({ round: 2, turn: 2, moves: 0, winner: null, winLine: null });
    expect(
      lobby
        .view()
        .game.board.flat()
        .every((cell) => cell === 0),
    ).toBe(true);
    expectError(lobby.decide("p1", move(0)), "not_your_turn");
    expectError(lobby.decide("p1", rematch()), "not_ready");
    playColumns(lobby, DRAW_GAME);
    expect(act(lobby, "p1", rematch())).toMatchObject({ round: 3, starts: 1 });
    expect(lobby.view().game.turn).toBe(1);
  });
});

describe("LobbyState: chat", () => {
  it("lets any member chat, keeps the last 50 lines with their seq", () => {
    const lobby = startedLobby();
    expectError(lobby.decide("stranger", chat("hi")), "not_a_player");
    expect(act(lobby, "p3", chat("  hello from the stands  "))).toEqual({
      kind: "chat",
      playerId: "p3",
      text: "hello from the stands",
    });
    for (let i = 0; i < 60; i++) act(lobby, i % 2 ? "p1" : "p2", chat(`line ${i}`));
    const lines = lobby.view().chat;
    expect(lines).toHaveLength(CHAT_HISTORY);
    expect(lines[0]).toEqual({ seq: lobby.seq - 49, playerId: "p2", text: "line 10" });
    expect(lines.at(-1)).toEqual({ seq: lobby.seq, playerId: "p1", text: "line 59" });
  });
});

describe("LobbyState: apply and the dedupe window", () => {
  it("remembers action ids per player and forgets them after 128 newer ones", () => {
    const lobby = startedLobby();
    lobby.apply(lobby.seq + 1, { kind: "chat", playerId: "p1", text: "first" }, "first");
    const firstSeq = lobby.seq;
    expect(lobby.seqOfAction("p1", "first")).toBe(firstSeq);
    expect(lobby.seqOfAction("p2", "first")).toBeUndefined();
    for (let i = 0; i < DEDUPE_WINDOW - 1; i++) {
      lobby.apply(lobby.seq + 1, { kind: "chat", playerId: "p1", text: "x" }, `id-${i}`);
    }
    lobby.apply(lobby.seq + 1, { kind: "chat", playerId: "p2", text: "other player" }, "p2-id");
    expect(lobby.seqOfAction("p1", "first")).toBe(firstSeq);
    lobby.apply(lobby.seq + 1, { kind: "chat", playerId: "p1", text: "x" }, "one-more");
    expect(lobby.seqOfAction("p1", "first")).toBeUndefined();
    expect(lobby.seqOfAction("p1", "id-0")).toBe(firstSeq + 1);
    expect(lobby.seqOfAction("p2", "p2-id")).toBeDefined();
    const restored = LobbyState.fromStored(JSON.parse(JSON.stringify(lobby.toStored())));
    expect(restored.seqOfAction("p1", "id-0")).toBe(firstSeq + 1);
    expect(restored.seqOfAction("p1", "first")).toBeUndefined();
  });

  it("throws on a gap or a duplicate seq and leaves the state alone", () => {
    const lobby = startedLobby();
    const before = lobby.toStored();
    const event: LobbyEvent = { kind: "chat", playerId: "p1", text: "hi" };
    expect(() => lobby.apply(lobby.seq + 2, event)).toThrow();
    expect(() => lobby.apply(lobby.seq, event)).toThrow();
    expect(() => lobby.apply(0, event)).toThrow();
    expect(lobby.toStored()).toEqual(before);
  });
});

describe("LobbyState: snapshots", () => {
  it("round-trips through JSON and copies deeply", () => {
    const lobby = startedLobby();
    playColumns(lobby, [3, 3, 4]);
    act(lobby, "p3", chat("nice"));
    const stored = lobby.toStored();
    expect(stored).toMatchObject({ v: 1, code: "ABCDEF", seq: lobby.seq });
    const restored = LobbyState.fromStored(JSON.parse(JSON.stringify(stored)));
    expect(restored.view()).toEqual(lobby.view());
    expect(restored.toStored()).toEqual(stored);
    act(lobby, "p2", move(4));
    expect(stored.game.moves).toBe(3);
    stored.game.board[0]?.fill(9);
    lobby.view().game.board[0]?.fill(9);
    expect(lobby.view().game.board[0]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(() => LobbyState.fromStored({ ...stored, v: 2 } as unknown as typeof stored)).toThrow();
  });
});

describe("LobbyState: hostile actions", () => {
  it("returns bad_message and never throws", () => {
    const lobby = startedLobby();
    const throwing = new Proxy(
      {},
      {
        get() {
          throw new Error("boom");
        },
      },
    );
    const hostile: unknown[] = [
      { type: "move", id: "x", column: "3" },
      { type: "move", id: "x", column: 7 },
      { type: "move", id: "x", column: 3.5 },
      { type: "move", id: "x", column: 3, extra: true },
      { type: "move", column: 3 },
      { type: "chat", id: "x", text: "y".repeat(100_000) },
      { type: "chat", id: "x", text: "   " },
      { type: "dm", id: "x", to: "p2", text: "psst" },
      { type: "nope", id: "x" },
      { type: "__proto__", id: "x" },
      { id: "x".repeat(1_000_000), type: "rematch" },
      null,
      undefined,
      42,
      "move",
      [],
      throwing,
    ];
    for (const action of hostile) {
      expectError(lobby.decide("p1", action as LobbyAction), "bad_message");
    }
    expectError(lobby.decideJoin("p9", "nine", throwing as unknown as number), "bad_message");
  });
});

describe("LobbyState: replay is deterministic", () => {
  type Logged = { seq: number; event: LobbyEvent; actionId?: string };

  /** Small seeded PRNG (mulberry32) so a failing seed can be replayed. */
  function random(seed: number): (below: number) => number {
    let state = seed >>> 0;
    return (below) => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = Math.imul(state ^ (state >>> 15), state | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
    };
  }

  /** Random actors try random things; only what `decide` accepts reaches the log. */
  function randomLog(seed: number, steps: number): { lobby: LobbyState; log: Logged[] } {
    const next = random(seed);
    const lobby = LobbyState.empty("RANDOM");
    const log: Logged[] = [];
    for (let step = 0; step < steps; step++) {
      const actor = `p${next(5)}`;
      const actionId = `s${step}`;
      const roll = next(10);
      const decision = !lobby.hasPlayer(actor)
        ? lobby.decideJoin(actor, actor, MAX_PLAYERS)
        : roll < 7
          ? lobby.decide(actor, { type: "move", id: actionId, column: next(7) })
          : roll < 9
            ? lobby.decide(actor, { type: "chat", id: actionId, text: `chat ${step}` })
            : lobby.decide(actor, { type: "rematch", id: actionId });
      if (!decision.ok) continue;
      const entry: Logged = { seq: lobby.seq + 1, event: decision.event, actionId };
      lobby.apply(entry.seq, entry.event, entry.actionId);
      log.push(entry);
    }
    return { lobby, log };
  }

  function replay(lobby: LobbyState, log: Logged[]): LobbyState {
    for (const { seq, event, actionId } of log) lobby.apply(seq, event, actionId);
    return lobby;
  }

  it("a lobby restored mid-log and caught up equals the one that applied everything", () => {
    let finishedRounds = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const { lobby, log } = randomLog(seed, 600);
      finishedRounds += lobby.view().game.round - 1;
      const cut = random(seed * 7919)(log.length + 1);
      const head = replay(LobbyState.empty("RANDOM"), log.slice(0, cut));
      const restored = LobbyState.fromStored(JSON.parse(JSON.stringify(head.toStored())));
      replay(restored, log.slice(cut));
      expect(restored.view()).toEqual(lobby.view());
      expect(restored.toStored()).toEqual(lobby.toStored());
      expect(replay(LobbyState.empty("RANDOM"), log).toStored()).toEqual(lobby.toStored());
      const discs = lobby
        .view()
        .game.board.flat()
        .filter((cell) => cell !== 0).length;
      expect(discs).toBe(lobby.view().game.moves);
    }
    // Guards the generator itself: the runs must reach rematches, not just opening moves.
    expect(finishedRounds).toBeGreaterThan(10);
  });
});
