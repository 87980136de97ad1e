import { randomFleet, type Ship } from "../../../shared/games/battleship/board.js";
import {
  type BattleshipEvent,
  type BattleshipState,
  battleshipRules,
  boardOf,
  otherSeat,
  type Seat,
  seatOf,
} from "../../../shared/games/battleship/rules.js";
import type { LobbyView } from "../../../shared/wire.js";
import { el } from "../dom.js";
import { defineScreen, type SendAction } from "../game-screen.js";
import { SeaGrid } from "./sea-grid.js";
import { describeBattle, SEAT_NAMES } from "./turn.js";

/**
 * Battleship in the lobby page: your waters (your fleet, and their shots)
 * and the enemy's (your shots; click to fire), or both seats' waters for a
 * spectator; the fleet placement (a layout shuffled here, sent on Ready);
 * and the clock counting down to the deadline the game keeps in its state.
 */

/** The fleets the entry form offers (the game takes any that fits the board). */
const FLEETS: Record<string, number[]> = { classic: [5, 4, 3, 3, 2], quick: [4, 3, 2], duel: [3, 2] };

/** How often the clock is redrawn. */
const CLOCK_MS = 250;

/** The page's own dice for shuffling a layout: any layout the player sends is checked by the node anyway. */
const localDice = { int: (max: number) => Math.floor(Math.random() * max) };

export const battleshipScreen = defineScreen<BattleshipState, BattleshipEvent>({
  gameId: "battleship",
  title: "Battleship",
  rules: battleshipRules,
  blurb: "Hide your fleet, then take turns firing into the enemy's waters; sink every ship to win.",
  seatLabel: (seat) => SEAT_NAMES[seat as Seat] ?? `Seat ${seat}`,
  errorText: {
    already_shot: "You fired there already.",
    already_placed: "Your fleet is already placed.",
    invalid_placement: "That fleet does not fit the board.",
    invalid_move: "That cell is off the board.",
    not_ready: "Not yet: the battle starts once both fleets are placed.",
  },
  optionsForm(root) {
    const size = choice("opt-size", "Board", [
      ["10", "10 × 10"],
      ["8", "8 × 8"],
    ]);
    const fleet = choice("opt-fleet", "Fleet", [
      ["classic", "Classic · 5 ships"],
      ["quick", "Quick · 3 ships"],
      ["duel", "Duel · 2 ships"],
    ]);
    const turn = choice("opt-turn", "Turn clock", [
      ["30", "30 s"],
      ["15", "15 s"],
      ["60", "60 s"],
    ]);
    root.replaceChildren(size.label, fleet.label, turn.label);
    return () => ({
      size: Number(size.select.value),
      fleet: FLEETS[fleet.select.value] ?? FLEETS.classic,
      turnSeconds: Number(turn.select.value),
    });
  },
  mount: (root, send) => new BattleshipScreen(root, send),
});

class BattleshipScreen {
  private readonly placement = el("div", { id: "placement", class: "placement" });
  private readonly ownTitle = el("h3", { id: "own-title" });
  private readonly enemyTitle = el("h3", { id: "enemy-title" });
  private readonly ownNote = el("p", { id: "own-note", class: "sea-note" });
  private readonly enemyNote = el("p", { id: "enemy-note", class: "sea-note" });
  private readonly clock = el("span", { id: "clock", class: "clock", "aria-live": "off" });
  private readonly own: SeaGrid;
  private readonly enemy: SeaGrid;
  private readonly ticker: ReturnType<typeof setInterval>;
  /** The layout shown before Ready, per round (shuffled again on request). */
  private preview: { round: number; ships: Ship[] } | null = null;
  private lobby: LobbyView<BattleshipState> | null = null;
  private me: string | null = null;

  constructor(
    root: HTMLElement,
    private readonly send: SendAction,
  ) {
    const ownGrid = el("div", { id: "own-grid", class: "sea-grid own" });
    const enemyGrid = el("div", { id: "enemy-grid", class: "sea-grid enemy" });
    this.own = new SeaGrid(ownGrid, "Your waters");
    this.enemy = new SeaGrid(enemyGrid, "Fire at", (cell) => void this.send({ type: "fire", ...cell }));
    const shuffle = el("button", { id: "shuffle-btn", type: "button" }, "Shuffle");
    const ready = el("button", { id: "ready-btn", type: "button", class: "primary" }, "Ready");
    shuffle.addEventListener("click", () => this.shuffle());
    ready.addEventListener("click", () => void this.ready(ready));
    this.placement.append(el("span", { class: "muted" }, "Your fleet:"), shuffle, ready);
    root.replaceChildren(
      el(
        "div",
        { class: "battle" },
        el("div", { class: "battle-bar" }, this.placement, this.clock),
        el(
          "div",
          { class: "seas" },
          el("section", { class: "sea" }, this.ownTitle, ownGrid, this.ownNote),
          el("section", { class: "sea" }, this.enemyTitle, enemyGrid, this.enemyNote),
        ),
      ),
    );
    this.ticker = setInterval(() => this.drawClock(), CLOCK_MS);
  }

  render(lobby: LobbyView<BattleshipState>, me: { playerId: string }) {
    this.lobby = lobby;
    this.me = me.playerId;
    const game = lobby.game;
    const turn = describeBattle(lobby, me.playerId);
    const mine = seatOf(game, me.playerId);
    const placing = game.phase === "placing" && mine !== null && !boardOf(game, mine).ready;
    this.placement.hidden = !placing;
    // A spectator sees seat 1's waters on the left, seat 2's on the right.
    const left: Seat = mine ?? 1;
    const right = otherSeat(left);
    this.drawSea(this.own, this.ownNote, left, placing ? this.previewFor(game) : null, false);
    this.drawSea(this.enemy, this.enemyNote, right, null, turn.state === "mine");
    this.ownTitle.textContent = mine === null ? `${this.seatName(left)}'s waters` : "Your waters";
    this.enemyTitle.textContent = mine === null ? `${this.seatName(right)}'s waters` : "Enemy waters";
    this.drawClock();
    const footer =
      game.phase === "waiting" ? "" : `Round ${game.round} · ${game.settings.size} × ${game.settings.size}`;
    return { turn, footer };
  }

  dispose(): void {
    clearInterval(this.ticker);
  }

  private drawSea(grid: SeaGrid, note: HTMLElement, seat: Seat, preview: Ship[] | null, canFire: boolean): void {
    const game = this.lobby?.game;
    if (!game) return;
    const board = boardOf(game, seat);
    const ships = preview ?? board.ships ?? [];
    grid.render({ size: game.settings.size, ships, shots: board.shots, sunk: board.sunk }, canFire);
    const afloat = game.settings.fleet.length - board.sunk.length;
    note.textContent =
      game.phase === "waiting" || game.phase === "placing"
        ? board.ready
          ? "Fleet in position."
          : "No fleet yet."
        : `${afloat} of ${game.settings.fleet.length} ships afloat · ${board.shots.length} shots taken`;
  }

  private previewFor(game: BattleshipState): Ship[] {
    if (this.preview?.round !== game.round) {
      this.preview = { round: game.round, ships: randomFleet(game.settings.fleet, game.settings.size, localDice) };
    }
    return this.preview.ships;
  }

  private shuffle(): void {
    const game = this.lobby?.game;
    if (!game) return;
    this.preview = { round: game.round, ships: randomFleet(game.settings.fleet, game.settings.size, localDice) };
    if (this.lobby && this.me) this.render(this.lobby, { playerId: this.me });
  }

  private async ready(button: HTMLButtonElement): Promise<void> {
    const ships = this.preview?.ships;
    if (!ships) return;
    button.disabled = true;
    try {
      await this.send({ type: "place", ships });
    } finally {
      button.disabled = false;
    }
  }

  /** Counts down to the deadline in the state (database time; a browser clock far off shows it clamped). */
  private drawClock(): void {
    const game = this.lobby?.game;
    const deadline = game?.deadline ?? null;
    const running = game !== undefined && deadline !== null && (game.phase === "placing" || game.phase === "playing");
    this.clock.hidden = !running;
    if (!running || deadline === null) return;
    const limit = (game.phase === "placing" ? game.settings.placementSeconds : game.settings.turnSeconds) * 1000;
    const left = Math.min(limit, Math.max(0, deadline - Date.now()));
    const seconds = Math.ceil(left / 1000);
    this.clock.dataset.deadline = String(deadline);
    this.clock.dataset.urgent = String(seconds <= 5);
    const what = game.phase === "placing" ? "Placement" : "Turn";
    this.clock.textContent = `${what} · ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }

  private seatName(seat: Seat): string {
    const id = this.lobby?.game.seats[seat - 1];
    return this.lobby?.players.find((p) => p.id === id)?.name ?? SEAT_NAMES[seat];
  }
}

function choice(id: string, text: string, options: [value: string, label: string][]) {
  const select = el("select", { id }, ...options.map(([value, label]) => el("option", { value }, label)));
  const label = el("label", { class: "field option" }, el("span", {}, text), select);
  return { select, label };
}
