import { type Cell, cellKey, type Ship, type Shot, shipCells } from "../../../shared/games/battleship/board.js";
import { el } from "../dom.js";

/**
 * One player's waters as a grid of buttons (click one to fire there, when
 * firing is allowed). Built once per board size, then updated in place, so
 * focus and hover survive every event. Each cell's `data-state` (water, ship,
 * miss, hit, sunk) is what the player sees there: styling and tests read it.
 */

export type SeaCellState = "water" | "ship" | "miss" | "hit" | "sunk";

/** What one grid shows: the ships this viewer may see (own fleet, or none), the shots at it, its sunk ships. */
export type SeaPicture = { size: number; ships: readonly Ship[]; shots: readonly Shot[]; sunk: readonly Ship[] };

const COLUMN_NAMES = "ABCDEFGHIJKL";

/** "B7": column letter, row number from 1, as players call out cells. */
export function cellName(cell: Cell): string {
  return `${COLUMN_NAMES[cell.column] ?? "?"}${cell.row + 1}`;
}

export class SeaGrid {
  private cells: HTMLButtonElement[][] = [];

  constructor(
    private readonly root: HTMLElement,
    private readonly label: string,
    private readonly onFire?: (cell: Cell) => void,
  ) {}

  /** Draws a picture; `canFire` enables the cells nobody fired at yet. */
  render(picture: SeaPicture, canFire: boolean): void {
    if (this.cells.length !== picture.size) this.build(picture.size);
    const states = cellStates(picture);
    const last = picture.shots.at(-1);
    this.root.classList.toggle("firing", canFire);
    this.cells.forEach((line, row) => {
      line.forEach((button, column) => {
        const state = states.get(`${row}:${column}`) ?? "water";
        button.dataset.state = state;
        button.classList.toggle("last", last !== undefined && last.row === row && last.column === column);
        button.disabled = !canFire || (state !== "water" && state !== "ship");
      });
    });
  }

  private build(size: number): void {
    this.root.style.setProperty("--size", String(size));
    this.cells = Array.from({ length: size }, (_, row) =>
      Array.from({ length: size }, (_, column) => {
        const button = el("button", {
          class: "sea-cell",
          type: "button",
          "data-row": row,
          "data-column": column,
          "aria-label": `${this.label} ${cellName({ row, column })}`,
        });
        if (this.onFire) button.addEventListener("click", () => this.onFire?.({ row, column }));
        return button;
      }),
    );
    this.root.replaceChildren(...this.cells.flat());
  }
}

/** What each cell shows, for the cells that are not plain water. */
export function cellStates(picture: SeaPicture): Map<string, SeaCellState> {
  const states = new Map<string, SeaCellState>();
  for (const ship of picture.ships) for (const cell of shipCells(ship)) states.set(cellKey(cell), "ship");
  for (const shot of picture.shots) states.set(cellKey(shot), shot.result === "miss" ? "miss" : "hit");
  for (const ship of picture.sunk) for (const cell of shipCells(ship)) states.set(cellKey(cell), "sunk");
  return states;
}
