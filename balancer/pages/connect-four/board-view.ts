import type { Seat } from "../../../shared/games/connect-four/board.js";
import type { ConnectFourState } from "../../../shared/games/connect-four/rules.js";
import { el } from "../dom.js";

/**
 * The Connect Four board: one button per column (click, or Enter/Space when
 * focused, to drop a disc there) holding that column's cells, row 0 on top.
 * Built once, then updated in place, so the pointer and the keyboard focus
 * survive every event; a newly filled cell falls in with a CSS animation.
 */
export class BoardView {
  private columns: HTMLButtonElement[] = [];
  /** cells[row][column] */
  private cells: HTMLElement[][] = [];
  private previous: number[][] | undefined;

  constructor(
    private readonly root: HTMLElement,
    private readonly onDrop: (column: number) => void,
  ) {}

  render(game: ConnectFourState, playable: boolean, mySeat: Seat | null): void {
    if (this.cells.length !== game.board.length) this.build(game.board);
    this.root.classList.toggle("playable", playable);
    this.root.dataset.mySeat = mySeat === null ? "" : String(mySeat);
    const winning = new Set((game.winLine ?? []).map(([row, column]) => `${row}:${column}`));
    game.board[0]?.forEach((_, column) => {
      const landing = landingRow(game.board, column);
      const button = this.columns[column];
      if (button) button.disabled = !playable || landing === -1;
      game.board.forEach((line, row) => {
        this.paintCell(row, column, line[column] ?? 0, winning.has(`${row}:${column}`), row === landing);
      });
    });
    this.previous = game.board.map((line) => [...line]);
  }

  private build(board: number[][]): void {
    const columnCount = board[0]?.length ?? 0;
    this.cells = board.map(() => []);
    this.columns = Array.from({ length: columnCount }, (_, column) => {
      const button = el("button", { class: "column", type: "button", "data-column": column });
      button.setAttribute("aria-label", `Drop a disc in column ${column + 1}`);
      board.forEach((_, row) => {
        const cell = el(
          "span",
          { class: "cell", "data-row": row, "data-column": column },
          el("span", { class: "disc" }),
        );
        this.cells[row]?.push(cell);
        button.append(cell);
      });
      button.addEventListener("click", () => this.onDrop(column));
      return button;
    });
    this.previous = undefined;
    this.root.replaceChildren(...this.columns);
  }

  private paintCell(row: number, column: number, disc: number, winning: boolean, next: boolean): void {
    const cell = this.cells[row]?.[column];
    if (!cell) return;
    const before = this.previous?.[row]?.[column];
    cell.classList.toggle("p1", disc === 1);
    cell.classList.toggle("p2", disc === 2);
    cell.classList.toggle("win", winning);
    cell.classList.toggle("next", next);
    // Only a disc that appeared since the last render falls; a fresh page shows the board still.
    const dropped = disc !== 0 && before === 0;
    if (dropped) cell.style.setProperty("--fall", String(row + 1));
    cell.classList.toggle("drop", dropped);
  }
}

/** The row a disc dropped in `column` lands on, or -1 when the column is full. */
export function landingRow(board: number[][], column: number): number {
  for (let row = board.length - 1; row >= 0; row--) if (board[row]?.[column] === 0) return row;
  return -1;
}
