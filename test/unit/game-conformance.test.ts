import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type ConformanceOptions, checkConformance } from "../../node/lobby/conformance.js";
import {
  type ActionContext,
  type AnyGame,
  defineGame,
  type GameContext,
  type GamePlayer,
  type Viewer,
} from "../../shared/game/define-game.js";
import { battleship } from "../../shared/games/battleship/game.js";
import {
  type BattleshipEvent,
  type BattleshipState,
  boardOf,
  otherSeat,
  seatOf,
} from "../../shared/games/battleship/rules.js";
import { bundledGames } from "../../shared/games/index.js";

/**
 * What a game with hidden information or timers adds to its run: the secrets
 * each player must keep (the suite looks for them in everyone else's frames),
 * and how many timers must have fired (the suite's clock moves 0-3 s a step).
 */
const extras: Record<
  string,
  { secrets?: ConformanceOptions["secrets"]; options?: Record<string, unknown>; timers?: number }
> = {
  battleship: {
    // Its ships still afloat, exactly as a leak would show them (a sunk ship is public). A ship the
    // other fleet has at the very same place is left out: its text is legitimately in the other's frames.
    secrets: (state, playerId) => {
      const game = state as BattleshipState;
      const seat = seatOf(game, playerId);
      if (seat === null) return [];
      const own = boardOf(game, seat);
      const other = boardOf(game, otherSeat(seat));
      const shown = new Set([...own.sunk, ...(other.ships ?? []), ...other.sunk].map((s) => JSON.stringify(s)));
      return (own.ships ?? []).filter((s) => !shown.has(JSON.stringify(s)));
    },
    // A small board and a short clock, so rounds end in all three ways (a fleet sunk, the clock, a player
    // leaving) and rematches follow; the default board is too big for random shots to sink a fleet.
    options: { size: 6, fleet: [3, 2], turnSeconds: 5, placementSeconds: 10, timeoutsToForfeit: 2 },
    timers: 50,
  },
};

/** Every bundled game passes the conformance suite a studio's game runs too (docs/games.md). */
describe.each(bundledGames.map((game) => [game.id, game] as const))("conformance: %s", (id, game) => {
  it("replays, projects and folds consistently over random games with legal and illegal moves", () => {
    const extra = extras[id] ?? {};
    const report = checkConformance(game, { games: 12, steps: 250, secrets: extra.secrets, options: extra.options });
    expect(report.problems).toEqual([]);
    // Guards the driver itself: the games must really be played, not refused from the start.
    expect(report.actions).toBeGreaterThan(400);
    expect(report.refusals).toBeGreaterThan(50);
    expect(report.timers).toBeGreaterThanOrEqual(extra.timers ?? 0);
    console.log(`${id}: ${JSON.stringify({ ...report, problems: report.problems.length })}`);
  });
});

describe("conformance: battleship's secrets catch leaks", () => {
  const run = (game: AnyGame) =>
    checkConformance(game, {
      games: 2,
      steps: 150,
      secrets: extras.battleship?.secrets,
      options: extras.battleship?.options,
    });

  it("catches placements projected to everyone", () => {
    const leaky = defineGame({ ...battleship, project: (event: BattleshipEvent) => event });
    expect(run(leaky).problems.join("\n")).toMatch(/can see p\d's \{"row"/);
  });

  it("catches a view that shows every fleet", () => {
    const leaky = defineGame({ ...battleship, view: (state: BattleshipState) => state });
    expect(run(leaky).problems.join("\n")).toMatch(/can see p\d's \{"row"/);
  });
});

/** The suite must catch what it claims to: each broken game below fails it for its own reason. */
describe("conformance: broken games are caught", () => {
  type Secret = { seat: number; card: number };
  type State = { dealt: Secret[]; played: number };
  type Event = { type: "dealt"; cards: Secret[] } | { type: "played"; seat: number };

  const base = {
    id: "cards",
    version: 1,
    title: "Cards",
    minPlayers: 2,
    maxPlayers: 2,
    actions: { play: z.object({}) },
    setup: (): State => ({ dealt: [], played: 0 }),
    decide: (_s: State, _a: unknown, ctx: ActionContext): Event[] =>
      ctx.player.seat === null ? [] : [{ type: "played", seat: ctx.player.seat }],
    onJoin: (_s: State, player: GamePlayer, ctx: GameContext): Event[] =>
      player.seat === null
        ? []
        : [{ type: "dealt", cards: [{ seat: player.seat, card: ctx.random.int(1000) + 1000 }] }],
    apply: (state: State, event: Event): State =>
      event.type === "dealt"
        ? { ...state, dealt: [...state.dealt, ...event.cards] }
        : { ...state, played: state.played + 1 },
    // Each player sees only their own card.
    view: (state: State, viewer: Viewer): State => ({
      ...state,
      dealt: state.dealt.filter((c) => c.seat === viewer.seat),
    }),
    project: (event: Event, viewer: Viewer): Event =>
      event.type === "dealt" ? { ...event, cards: event.cards.filter((c) => c.seat === viewer.seat) } : event,
    status: () => ({ phase: "playing" as const, text: "" }),
    bot: { actions: (_s: State, viewer: Viewer) => (viewer.seat === null ? [] : [{ type: "play" as const }]) },
  };
  const secrets = (state: unknown, playerId: string) => {
    const seat = Number(playerId.slice(1)) + 1;
    return (state as State).dealt.filter((c) => c.seat === seat);
  };
  const problems = (game: AnyGame) => checkConformance(game, { games: 3, steps: 60, secrets }).problems.join("\n");

  it("passes the well-behaved version", () => {
    expect(problems(defineGame(base))).toBe("");
  });

  it("catches an event projection that leaks another player's card", () => {
    expect(problems(defineGame({ ...base, project: (event: Event) => event }))).toMatch(/can see p\d's/);
  });

  it("catches a view that disagrees with the projected events", () => {
    const game = defineGame({
      ...base,
      view: (state: State, viewer: Viewer) => ({ ...base.view(state, viewer), played: 0 }),
    });
    expect(problems(game)).toMatch(/fold differs from the node's view/);
  });

  it("catches an apply that changes its input", () => {
    const game = defineGame({
      ...base,
      apply: (state: State, event: Event): State => {
        if (event.type === "played") state.played += 1;
        return event.type === "dealt" ? { ...state, dealt: [...state.dealt, ...event.cards] } : state;
      },
    });
    expect(problems(game)).toMatch(/changed its input/);
  });

  it("catches an apply that draws randomness of its own (replay differs)", () => {
    const game = defineGame({
      ...base,
      apply: (state: State, event: Event): State =>
        event.type === "dealt"
          ? { ...state, dealt: [...state.dealt, ...event.cards] }
          : { ...state, played: Math.random() },
    });
    expect(problems(game)).toMatch(/replaying the log gives another state|fold differs/);
  });

  it("catches a timer that fires twice", () => {
    const game = defineGame({
      ...base,
      timers: () => ({ tick: 1_700_000_100_000 }),
      onTimer: (): Event[] => [],
    });
    // A fired (name, due time) never fires again: the engine's record of fired timers is what makes it once.
    expect(checkConformance(game, { games: 2, steps: 200 })).toMatchObject({ problems: [], timers: 2 });
  });
});
