/**
 * The Connect Four board as small pure functions over plain arrays, so the
 * same board can live in a lobby snapshot, a jsonb row and a test without
 * adapters. Nothing here mutates its inputs, and nothing is imported: the
 * browser page bundles it.
 */

export const BOARD_ROWS = 6;
export const BOARD_COLUMNS = 7;
export type Seat = 1 | 2;

/** board[row][column], row 0 at the top; 0 empty, 1 or 2 the seat whose disc it is. */
export type Board = number[][];
export type Cell = [row: number, column: number];

export const WIN_LENGTH = 4;

export type DropError = "column_out_of_range" | "column_full";
export type LandingResult = { ok: true; row: number } | { ok: false; error: DropError };
export type DropResult = { ok: true; row: number; board: Board } | { ok: false; error: DropError };
export type Win = { disc: Seat; line: Cell[] };

/** Right, down, down-right, down-left: the other four directions are these walked backwards. */
const DIRECTIONS: readonly Cell[] = [
  [0, 1],
  [1, 0],
  [1, 1],
  [1, -1],
];

export function emptyBoard(): Board {
  return Array.from({ length: BOARD_ROWS }, () => new Array<number>(BOARD_COLUMNS).fill(0));
}

export function cloneBoard(board: Board): Board {
  return board.map((row) => [...row]);
}

/** The row a disc dropped into `column` would land in. */
export function landingRow(board: Board, column: number): LandingResult {
  if (!Number.isInteger(column) || column < 0 || column >= BOARD_COLUMNS) {
    return { ok: false, error: "column_out_of_range" };
  }
  for (let row = BOARD_ROWS - 1; row >= 0; row--) {
    if (board[row]?.[column] === 0) return { ok: true, row };
  }
  return { ok: false, error: "column_full" };
}

/** A copy of the board with `disc` at (row, column); no gravity or range checks, for replaying validated moves. */
export function withDisc(board: Board, row: number, column: number, disc: Seat): Board {
  const next = cloneBoard(board);
  const line = next[row];
  if (line !== undefined && column >= 0 && column < line.length) line[column] = disc;
  return next;
}

/** Drops a disc into a column: the new board and the row it landed in, or why it cannot go there. */
export function dropDisc(board: Board, column: number, disc: Seat): DropResult {
  const landing = landingRow(board, column);
  if (!landing.ok) return landing;
  return { ok: true, row: landing.row, board: withDisc(board, landing.row, column, disc) };
}

/**
 * The winning line through the disc at (row, column), or null. Any new line
 * must pass through the last disc dropped, so checking there is enough.
 * When one disc completes lines in two directions, the first direction wins.
 */
export function winLineThrough(board: Board, row: number, column: number): Cell[] | null {
  const disc = board[row]?.[column];
  if (disc !== 1 && disc !== 2) return null;
  for (const [down, right] of DIRECTIONS) {
    const line = runThrough(board, [row, column], down, right, disc);
    if (line.length >= WIN_LENGTH) return line;
  }
  return null;
}

/** The whole run of `disc` through `start` along one direction, in board order. */
function runThrough(board: Board, start: Cell, down: number, right: number, disc: number): Cell[] {
  let [row, column] = start;
  while (board[row - down]?.[column - right] === disc) {
    row -= down;
    column -= right;
  }
  const line: Cell[] = [];
  while (board[row]?.[column] === disc) {
    line.push([row, column]);
    row += down;
    column += right;
  }
  return line;
}

/** Scans the whole board; for boards not built move by move (tests, restored data). */
export function findWin(board: Board): Win | null {
  for (let row = 0; row < BOARD_ROWS; row++) {
    for (let column = 0; column < BOARD_COLUMNS; column++) {
      const line = winLineThrough(board, row, column);
      const disc = board[row]?.[column];
      if (line !== null && (disc === 1 || disc === 2)) return { disc, line };
    }
  }
  return null;
}

export function isFull(board: Board): boolean {
  for (let row = 0; row < BOARD_ROWS; row++) {
    for (let column = 0; column < BOARD_COLUMNS; column++) {
      if (board[row]?.[column] === 0) return false;
    }
  }
  return true;
}

export function isDraw(board: Board): boolean {
  return isFull(board) && findWin(board) === null;
}
