import { describe, expect, it } from "vitest";
import {
  BOARD_COLUMNS,
  BOARD_ROWS,
  type Board,
  dropDisc,
  emptyBoard,
  findWin,
  isDraw,
  isFull,
  landingRow,
  type Seat,
  winLineThrough,
  withDisc,
} from "./board.js";

/** Builds a board from a picture, top row first: "." empty, "1"/"2" discs. */
function boardOf(picture: string): Board {
  const rows = picture.trim().split("\n");
  expect(rows).toHaveLength(BOARD_ROWS);
  return rows.map((row) => [...row.trim()].map((cell) => (cell === "." ? 0 : Number(cell))));
}

/** Drops discs in order, alternating seats from `first`, and returns the board plus the last landing row. */
function play(columns: number[], first: Seat = 1): { board: Board; row: number; column: number } {
  let board = emptyBoard();
  let disc: Seat = first;
  let row = -1;
  for (const column of columns) {
    const drop = dropDisc(board, column, disc);
    if (!drop.ok) throw new Error(`column ${column}: ${drop.error}`);
    board = drop.board;
    row = drop.row;
    disc = disc === 1 ? 2 : 1;
  }
  return { board, row, column: columns.at(-1) ?? -1 };
}

describe("connect four: dropping discs", () => {
  it("starts with an empty 6x7 board", () => {
    const board = emptyBoard();
    expect(board).toHaveLength(BOARD_ROWS);
    for (const row of board) expect(row).toEqual(new Array(BOARD_COLUMNS).fill(0));
  });

  it("stacks discs from the bottom row up and leaves the input board untouched", () => {
    const empty = emptyBoard();
    const first = dropDisc(empty, 3, 1);
    expect(first).toMatchObject({ ok: true, row: 5 });
    expect(empty[5]?.[3]).toBe(0);
    if (!first.ok) throw new Error("unreachable");
    const second = dropDisc(first.board, 3, 2);
    expect(second).toMatchObject({ ok: true, row: 4 });
    if (!second.ok) throw new Error("unreachable");
    expect(second.board[5]?.[3]).toBe(1);
    expect(second.board[4]?.[3]).toBe(2);
    expect(first.board[4]?.[3]).toBe(0);
  });

  it("rejects a full column", () => {
    const { board } = play([0, 0, 0, 0, 0, 0]);
    expect(landingRow(board, 0)).toEqual({ ok: false, error: "column_full" });
    expect(dropDisc(board, 0, 1)).toEqual({ ok: false, error: "column_full" });
    expect(landingRow(board, 1)).toEqual({ ok: true, row: 5 });
  });

  it("rejects columns off the board and non-integer columns", () => {
    const board = emptyBoard();
    for (const column of [-1, BOARD_COLUMNS, 100, 3.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(dropDisc(board, column, 1)).toEqual({ ok: false, error: "column_out_of_range" });
    }
  });

  it("withDisc places without gravity on a copy", () => {
    const board = emptyBoard();
    const next = withDisc(board, 0, 6, 2);
    expect(next[0]?.[6]).toBe(2);
    expect(board[0]?.[6]).toBe(0);
  });
});

describe("connect four: wins", () => {
  it("finds a horizontal line, exactly its cells", () => {
    const { board, row, column } = play([0, 0, 1, 1, 2, 2, 3]);
    expect(winLineThrough(board, row, column)).toEqual([
      [5, 0],
      [5, 1],
      [5, 2],
      [5, 3],
    ]);
  });

  it("finds a horizontal line completed in its middle", () => {
    const { board, row, column } = play([0, 0, 1, 1, 3, 3, 2]);
    expect(winLineThrough(board, row, column)).toEqual([
      [5, 0],
      [5, 1],
      [5, 2],
      [5, 3],
    ]);
  });

  it("finds a vertical line", () => {
    const { board, row, column } = play([4, 5, 4, 5, 4, 5, 4]);
    expect(winLineThrough(board, row, column)).toEqual([
      [2, 4],
      [3, 4],
      [4, 4],
      [5, 4],
    ]);
  });

  it("finds a down-right diagonal", () => {
    const board = boardOf(`
      .......
      .......
      2......
      12.....
      212....
      1212...
    `);
    expect(winLineThrough(board, 5, 3)).toEqual([
      [2, 0],
      [3, 1],
      [4, 2],
      [5, 3],
    ]);
    expect(findWin(board)).toEqual({ disc: 2, line: winLineThrough(board, 2, 0) });
  });

  it("finds a down-left diagonal", () => {
    const board = boardOf(`
      .......
      .......
      ......1
      .....12
      ....122
      ...1221
    `);
    expect(winLineThrough(board, 4, 4)).toEqual([
      [2, 6],
      [3, 5],
      [4, 4],
      [5, 3],
    ]);
  });

  it("reports every cell of a run longer than four", () => {
    const board = boardOf(`
      .......
      .......
      .......
      .......
      22.222.
      1111111
    `);
    expect(winLineThrough(board, 5, 6)).toHaveLength(7);
    expect(winLineThrough(board, 4, 3)).toBeNull();
  });

  it("reports no line for three in a row, empty cells or off-board cells", () => {
    const { board, row, column } = play([0, 0, 1, 1, 2]);
    expect(winLineThrough(board, row, column)).toBeNull();
    expect(winLineThrough(board, 0, 0)).toBeNull();
    expect(winLineThrough(board, -1, 0)).toBeNull();
    expect(winLineThrough(board, 0, BOARD_COLUMNS)).toBeNull();
    expect(findWin(board)).toBeNull();
  });

  it("finds a win made with the last empty cell, which is not a draw", () => {
    const board = boardOf(`
      .111221
      2211221
      1122112
      2211221
      1122112
      2211221
    `);
    expect(findWin(board)).toBeNull();
    const drop = dropDisc(board, 0, 1);
    if (!drop.ok) throw new Error(drop.error);
    expect(drop.row).toBe(0);
    expect(isFull(drop.board)).toBe(true);
    expect(winLineThrough(drop.board, 0, 0)).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [0, 3],
    ]);
    expect(isDraw(drop.board)).toBe(false);
  });
});

describe("connect four: draws", () => {
  // Pairs of columns swap their pattern every two rows, so no four ever line up.
  const drawn = boardOf(`
      1122112
      2211221
      1122112
      2211221
      1122112
      2211221
    `);

  it("recognises a full board without a line as a draw", () => {
    expect(isFull(drawn)).toBe(true);
    expect(findWin(drawn)).toBeNull();
    expect(isDraw(drawn)).toBe(true);
  });

  it("is not a draw while a cell is empty", () => {
    const open = drawn.map((row) => [...row]);
    const top = open[0];
    if (top) top[0] = 0;
    expect(isFull(open)).toBe(false);
    expect(isDraw(open)).toBe(false);
  });
});
