import { describe, expect, it } from "vitest";
import { type GameContext, type GamePlayer, isRefusal, type Viewer } from "../../game/define-game.js";
import { createRandom } from "../../game/random.js";
import { checkGameAction, checkGameOptions } from "../../protocol.js";
import { CLASSIC_FLEET, placementProblem, type Ship, ship, shipCells } from "./board.js";
import { battleship } from "./game.js";
import { type BattleshipAction, type BattleshipEvent, type BattleshipState, boardOf } from "./rules.js";

/**
 * Battleship's hooks called directly, as the engine calls them: decide or a
 * timer gives events, `apply` folds them. The engine's own behaviour (seq,
 * logging, per-viewer frames) is covered by the conformance suite and the
 * cluster tests.
 */

const ALICE: GamePlayer = { id: "alice", name: "Alice", seat: 1 };
const BOB: GamePlayer = { id: "bob", name: "Bob", seat: 2 };
const SPECTATOR: Viewer = { playerId: "carol", seat: null };

/** Alice's fleet: four ships across the left, the destroyer down the right edge. */
const ALICE_FLEET: Ship[] = [
  ship(0, 0, 5, false),
  ship(2, 0, 4, false),
  ship(4, 0, 3, false),
  ship(6, 0, 3, false),
  ship(0, 9, 2, true),
];

class Table {
  state: BattleshipState;
  now = 1_000_000;
  readonly log: BattleshipEvent[] = [];
  private draws = 0;

  constructor(options: Record<string, unknown> = {}) {
    const checked = checkGameOptions(battleship, options);
    if (!checked.ok) throw new Error(checked.message);
    this.state = battleship.setup(checked.options as never, this.ctx());
  }

  ctx(): GameContext {
    return { now: this.now, random: createRandom(`draw ${this.draws++}`), players: [ALICE, BOB] };
  }

  fold(events: BattleshipEvent | readonly BattleshipEvent[]): BattleshipEvent[] {
    const list = Array.isArray(events) ? [...events] : [events as BattleshipEvent];
    for (const event of list) this.state = battleship.apply(this.state, event);
    this.log.push(...list);
    return list;
  }

  join(player: GamePlayer): BattleshipEvent[] {
    return this.fold(battleship.onJoin?.(this.state, player, this.ctx()) ?? []);
  }

  /** An action through the game's schema, as the node checks it; a refusal is returned as {code}. */
  act(player: GamePlayer, action: BattleshipAction): BattleshipEvent[] | { code: string } {
    const { type, ...payload } = action;
    const checked = checkGameAction(battleship, { type: "action", id: "x", name: type, payload });
    if (!checked.ok) return { code: checked.code };
    const outcome = battleship.decide(this.state, checked.action as never, { ...this.ctx(), player });
    return isRefusal(outcome) ? { code: outcome.code } : this.fold(outcome);
  }

  fireTimer(): BattleshipEvent[] {
    const [name, at] = Object.entries(battleship.timers?.(this.state) ?? {})[0] ?? [];
    if (name === undefined || at === undefined) throw new Error("no timer pending");
    this.now = Math.max(this.now, at);
    return this.fold(battleship.onTimer?.(this.state, name, this.ctx()) ?? []);
  }

  /** Both seated, Alice's fleet explicit (random on boards too small for it), Bob's at random: Alice to fire. */
  static inBattle(options: Record<string, unknown> = {}): Table {
    const table = new Table(options);
    table.join(ALICE);
    table.join(BOB);
    const fits = table.state.settings.size >= 10;
    table.act(ALICE, fits ? { type: "place", ships: ALICE_FLEET } : { type: "place", random: true });
    table.act(BOB, { type: "place", random: true });
    if (table.state.phase !== "playing") throw new Error("the battle did not start");
    return table;
  }

  bobsFleet(): Ship[] {
    return boardOf(this.state, 2).ships ?? [];
  }
}

const fire = (row: number, column: number): BattleshipAction => ({ type: "fire", row, column });

describe("battleship: options", () => {
  it("fills in defaults and checks the fleet against the board", () => {
    const checked = checkGameOptions(battleship, {});
    expect(checked).toEqual({
      ok: true,
      options: { size: 10, fleet: [5, 4, 3, 3, 2], turnSeconds: 30, placementSeconds: 60, timeoutsToForfeit: 3 },
    });
    expect(checkGameOptions(battleship, { size: 8, fleet: [3, 2], turnSeconds: 2 })).toMatchObject({ ok: true });
    expect(checkGameOptions(battleship, { size: 6 })).toMatchObject({ ok: false, message: /fleet: .*covers 17/ });
    expect(checkGameOptions(battleship, { size: 13 })).toMatchObject({ ok: false, message: /size/ });
    expect(checkGameOptions(battleship, { turnSeconds: 0 })).toMatchObject({ ok: false, message: /turnSeconds/ });
    expect(checkGameOptions(battleship, { colour: "red" })).toMatchObject({ ok: false });
  });
});

describe("battleship: seats and placement", () => {
  it("opens the placement when the second seat fills, with a deadline the engine turns into a timer", () => {
    const table = new Table({ placementSeconds: 45 });
    expect(table.join(ALICE)).toEqual([{ type: "seated", seat: 1, playerId: "alice" }]);
    expect(battleship.status(table.state)).toEqual({ phase: "waiting", text: "waiting for a second player" });
    expect(battleship.timers?.(table.state)).toEqual({});
    expect(table.join(BOB)).toEqual([
      { type: "seated", seat: 2, playerId: "bob" },
      { type: "placing", round: 1, deadline: table.now + 45_000 },
    ]);
    expect(battleship.timers?.(table.state)).toEqual({ placement: table.now + 45_000 });
    expect(battleship.status(table.state)).toEqual({ phase: "playing", text: "round 1: placing ships" });
  });

  it("takes an explicit fleet and refuses an illegal one, a second one, or one from a spectator", () => {
    const table = new Table();
    table.join(ALICE);
    expect(table.act(ALICE, { type: "place", random: true })).toEqual({ code: "not_ready" });
    table.join(BOB);
    const overlapping = [...ALICE_FLEET.slice(0, 4), ship(1, 3, 2, true)];
    expect(table.act(ALICE, { type: "place", ships: overlapping })).toEqual({ code: "invalid_placement" });
    expect(table.act(ALICE, { type: "place", ships: ALICE_FLEET.slice(1) })).toEqual({ code: "invalid_placement" });
    expect(table.act({ id: "carol", name: "Carol", seat: null }, { type: "place", random: true })).toEqual({
      code: "not_a_player",
    });
    expect(table.act(ALICE, { type: "place", ships: ALICE_FLEET })).toEqual([
      { type: "placed", seat: 1, playerId: "alice", ships: ALICE_FLEET, random: false },
    ]);
    expect(table.act(ALICE, { type: "place", random: true })).toEqual({ code: "already_placed" });
    expect(table.act(ALICE, fire(0, 0))).toEqual({ code: "not_ready" });
  });

  it("refuses malformed placements at the schema", () => {
    const table = new Table();
    table.join(ALICE);
    table.join(BOB);
    const { type: _, ...payload } = { type: "place", random: false };
    expect(checkGameAction(battleship, { type: "action", id: "x", name: "place", payload })).toMatchObject({
      ok: false,
      code: "bad_message",
    });
    const both = { random: true, ships: ALICE_FLEET };
    expect(checkGameAction(battleship, { type: "action", id: "x", name: "place", payload: both })).toMatchObject({
      ok: false,
    });
    const bent = { ships: [{ ...ALICE_FLEET[0], bent: true }] };
    expect(checkGameAction(battleship, { type: "action", id: "x", name: "place", payload: bent })).toMatchObject({
      ok: false,
    });
  });

  it("draws a random fleet from ctx.random, records it in the event, and starts the battle once both are placed", () => {
    const table = new Table();
    table.join(ALICE);
    table.join(BOB);
    table.act(ALICE, { type: "place", ships: ALICE_FLEET });
    const events = table.act(BOB, { type: "place", random: true }) as BattleshipEvent[];
    const placed = events[0] as Extract<BattleshipEvent, { type: "placed" }>;
    expect(placed).toMatchObject({ type: "placed", seat: 2, playerId: "bob", random: true });
    expect(placementProblem(placed.ships ?? [], CLASSIC_FLEET, 10)).toBeNull();
    expect(events[1]).toEqual({ type: "turn", seat: 1, deadline: table.now + 30_000 });
    expect(table.state.phase).toBe("playing");
    expect(battleship.timers?.(table.state)).toEqual({ turn: table.now + 30_000 });
  });

  it("places missing fleets at random when the placement deadline passes", () => {
    const table = new Table({ placementSeconds: 10 });
    table.join(ALICE);
    table.join(BOB);
    table.act(BOB, { type: "place", ships: ALICE_FLEET });
    const events = table.fireTimer();
    expect(events.map((e) => e.type)).toEqual(["placed", "turn"]);
    expect(events[0]).toMatchObject({ seat: 1, playerId: "alice", random: true });
    expect(placementProblem(boardOf(table.state, 1).ships ?? [], CLASSIC_FLEET, 10)).toBeNull();
    expect(table.state).toMatchObject({ phase: "playing", turn: 1 });
  });
});

describe("battleship: hidden fleets", () => {
  const table = Table.inBattle();
  const views = {
    alice: battleship.view(table.state, { playerId: "alice", seat: 1 }),
    bob: battleship.view(table.state, { playerId: "bob", seat: 2 }),
    spectator: battleship.view(table.state, SPECTATOR),
  };

  it("shows each player their own fleet only, and a spectator neither", () => {
    expect(boardOf(views.alice, 1).ships).toEqual(ALICE_FLEET);
    expect(boardOf(views.alice, 2).ships).toBeNull();
    expect(boardOf(views.bob, 1).ships).toBeNull();
    expect(boardOf(views.bob, 2).ships).toEqual(table.bobsFleet());
    expect(boardOf(views.spectator, 1).ships).toBeNull();
    expect(boardOf(views.spectator, 2).ships).toBeNull();
    expect(JSON.stringify(views.bob)).not.toContain(JSON.stringify(ALICE_FLEET[0]));
  });

  it("projects a placement's ships to their owner alone, whatever seat a viewer claims", () => {
    const placed = table.log.find((e) => e.type === "placed" && e.seat === 1) as BattleshipEvent;
    expect(battleship.project(placed, { playerId: "alice", seat: 1 })).toBe(placed);
    expect(battleship.project(placed, { playerId: "bob", seat: 2 })).toMatchObject({ ships: null });
    expect(battleship.project(placed, SPECTATOR)).toMatchObject({ ships: null });
    expect(battleship.project(placed, { playerId: "newcomer", seat: 1 })).toMatchObject({ ships: null });
    expect(battleship.project(placed, { playerId: null, seat: null })).toMatchObject({ ships: null });
  });

  it("folds the projected events into the same view the node gives (apply works on what a viewer sees)", () => {
    for (const viewer of [{ playerId: "bob", seat: 2 }, SPECTATOR]) {
      let folded = battleship.view(new Table().state, viewer);
      for (const event of table.log) folded = battleship.apply(folded, battleship.project(event, viewer));
      expect(folded).toEqual(battleship.view(table.state, viewer));
    }
  });
});

describe("battleship: the battle", () => {
  it("takes turns, refuses shots out of turn, off the board, or twice at a cell", () => {
    const table = Table.inBattle({ size: 10 });
    expect(table.act(BOB, fire(0, 0))).toEqual({ code: "not_your_turn" });
    expect(table.act(ALICE, fire(12, 0))).toEqual({ code: "bad_message" });
    expect(table.act(ALICE, fire(10, 0))).toEqual({ code: "invalid_move" });
    const small = Table.inBattle({ size: 8 });
    expect(small.act(ALICE, fire(8, 0))).toEqual({ code: "invalid_move" });
    table.act(ALICE, fire(9, 9));
    expect(table.state.turn).toBe(2);
    table.act(BOB, fire(9, 9));
    expect(table.act(ALICE, fire(9, 9))).toEqual({ code: "already_shot" });
  });

  it("says hit, then sunk with the ship revealed, and wins when the last ship goes down", () => {
    const table = Table.inBattle();
    const bobCells = table.bobsFleet().flatMap(shipCells);
    const missCells = Array.from({ length: 100 }, (_, i) => ({ row: Math.floor(i / 10), column: i % 10 })).filter(
      (c) => !ALICE_FLEET.flatMap(shipCells).some((a) => a.row === c.row && a.column === c.column),
    );
    const destroyer = ALICE_FLEET[4] as Ship;
    const results: string[] = [];
    for (const [i, cell] of bobCells.entries()) {
      const events = table.act(ALICE, fire(cell.row, cell.column)) as BattleshipEvent[];
      const shot = events[0] as Extract<BattleshipEvent, { type: "shot" }>;
      results.push(shot.result);
      if (shot.result === "sunk") expect(boardOf(table.state, 2).sunk.at(-1)).toEqual(shot.sunk);
      if (i === bobCells.length - 1) {
        expect(events[1]).toEqual({ type: "won", playerId: "alice", reason: "sunk" });
        break;
      }
      // Bob sinks Alice's destroyer first, then misses.
      const answer = i < 2 ? shipCells(destroyer)[i] : missCells[i];
      if (!answer) throw new Error("out of cells");
      table.act(BOB, fire(answer.row, answer.column));
    }
    expect(results.filter((r) => r === "sunk")).toHaveLength(5);
    expect(results.filter((r) => r === "hit")).toHaveLength(17 - 5);
    expect(boardOf(table.state, 1).sunk).toEqual([destroyer]);
    expect(table.state).toMatchObject({ phase: "finished", winner: "alice", endReason: "sunk", deadline: null });
    expect(battleship.status(table.state)).toEqual({ phase: "finished", text: "round 1: won" });
    expect(table.act(BOB, fire(5, 5))).toEqual({ code: "game_over" });
  });

  it("passes the turn when the clock runs out, and forfeits after too many in a row", () => {
    const table = Table.inBattle({ turnSeconds: 2, timeoutsToForfeit: 2 });
    const start = table.state.deadline;
    expect(table.fireTimer()).toEqual([
      { type: "timedOut", seat: 1 },
      { type: "turn", seat: 2, deadline: (start as number) + 2000 },
    ]);
    table.act(BOB, fire(0, 0));
    // Alice's second turn in a row without a shot loses the round (Bob's shot resets only his own count).
    table.fireTimer();
    expect(table.state.missed).toEqual([2, 0]);
    expect(table.log.at(-1)).toEqual({ type: "won", playerId: "bob", reason: "timeouts" });
    expect(table.state.phase).toBe("finished");
    expect(battleship.timers?.(table.state)).toEqual({});
  });

  it("resets a seat's missed turns when it fires", () => {
    const table = Table.inBattle({ timeoutsToForfeit: 2 });
    table.fireTimer();
    table.act(BOB, fire(0, 0));
    table.act(ALICE, fire(0, 0));
    expect(table.state.missed).toEqual([0, 0]);
  });
});

describe("battleship: leaving and rematches", () => {
  it("a player who leaves mid-round forfeits it; a newcomer takes the seat and a rematch opens round 2", () => {
    const table = Table.inBattle();
    expect(battleship.onLeave?.(table.state, BOB, table.ctx())).toEqual([
      { type: "won", playerId: "alice", reason: "left" },
      { type: "unseated", seat: 2 },
    ]);
    table.fold(battleship.onLeave?.(table.state, BOB, table.ctx()) ?? []);
    expect(table.act(ALICE, { type: "rematch" })).toEqual({ code: "not_ready" });
    const dave: GamePlayer = { id: "dave", name: "Dave", seat: 2 };
    expect(table.join(dave)).toEqual([{ type: "seated", seat: 2, playerId: "dave" }]);
    // Bob's old fleet is nobody's to see now, not even the newcomer's in his seat.
    expect(boardOf(battleship.view(table.state, { playerId: "dave", seat: 2 }), 2).ships).toBeNull();
    const events = table.act(dave, { type: "rematch" }) as BattleshipEvent[];
    expect(events).toEqual([{ type: "placing", round: 2, deadline: table.now + 60_000 }]);
    expect(table.state).toMatchObject({ phase: "placing", round: 2, winner: null, missed: [0, 0] });
    expect(table.state.boards.every((b) => b.ships === null && b.shots.length === 0 && !b.ready)).toBe(true);
    table.act(ALICE, { type: "place", random: true });
    table.act(dave, { type: "place", random: true });
    expect(table.state.turn).toBe(2);
  });

  it("a spectator leaving or a player leaving after the round changes nothing but the seat", () => {
    const table = Table.inBattle();
    expect(battleship.onLeave?.(table.state, { id: "carol", name: "Carol", seat: null }, table.ctx())).toEqual([]);
    table.fold({ type: "won", playerId: "alice", reason: "sunk" });
    expect(battleship.onLeave?.(table.state, BOB, table.ctx())).toEqual([{ type: "unseated", seat: 2 }]);
  });
});

describe("battleship: the bot", () => {
  it("lists legal actions from a player's view: place at random, then fire at unshot cells on its turn", () => {
    const table = new Table({ size: 8 });
    table.join(ALICE);
    table.join(BOB);
    const bot = (player: GamePlayer) =>
      battleship.bot?.actions(battleship.view(table.state, { playerId: player.id, seat: player.seat }), {
        playerId: player.id,
        seat: player.seat,
      }) ?? [];
    expect(bot(ALICE)).toEqual([{ type: "place", random: true }]);
    table.act(ALICE, { type: "place", random: true });
    expect(bot(ALICE)).toEqual([]);
    table.act(BOB, { type: "place", random: true });
    expect(bot(ALICE)).toHaveLength(64);
    expect(bot(BOB)).toEqual([]);
    table.act(ALICE, fire(3, 3));
    expect(bot(BOB)).toHaveLength(64);
    table.act(BOB, fire(3, 3));
    expect(bot(ALICE)).toHaveLength(63);
    expect(bot(ALICE)).not.toContainEqual(fire(3, 3));
    expect(battleship.bot?.actions(battleship.view(table.state, SPECTATOR), SPECTATOR)).toEqual([]);
  });
});
