/**
 * The Battleship board as small pure functions over plain data: ships,
 * shots, fleets. Nothing here mutates its inputs, and nothing is imported at
 * run time: the browser page bundles it (the page shuffles a fleet locally
 * before the player commits it).
 */

/** A ship: its top-left cell, its length, and whether it runs down (vertical) or right. */
export type Ship = { row: number; column: number; length: number; vertical: boolean };
export type Cell = { row: number; column: number };
export type ShotResult = "miss" | "hit" | "sunk";
/** A shot at a board, as everyone sees it. */
export type Shot = { row: number; column: number; result: ShotResult };

/** What a fleet placement needs of a random source (the game's ctx.random, or the page's own). */
export type IntSource = { int(maxExclusive: number): number };

export const CLASSIC_FLEET: readonly number[] = [5, 4, 3, 3, 2];
export const MIN_BOARD_SIZE = 6;
export const MAX_BOARD_SIZE = 12;
export const MAX_SHIPS = 10;

/** A ship built with its keys always in the same order (ships are compared as JSON). */
export function ship(row: number, column: number, length: number, vertical: boolean): Ship {
  return { row, column, length, vertical };
}

export function shipCells(s: Ship): Cell[] {
  return Array.from({ length: s.length }, (_, i) =>
    s.vertical ? { row: s.row + i, column: s.column } : { row: s.row, column: s.column + i },
  );
}

export function inBounds(cell: Cell, size: number): boolean {
  const { row, column } = cell;
  return Number.isInteger(row) && Number.isInteger(column) && row >= 0 && column >= 0 && row < size && column < size;
}

export function cellKey(cell: Cell): string {
  return `${cell.row}:${cell.column}`;
}

/** Why a fleet does not fit a board's rules (null when it can always be placed): the options check uses it. */
export function fleetProblem(fleet: readonly number[], size: number): string | null {
  if (fleet.length < 1 || fleet.length > MAX_SHIPS) return `a fleet has 1 to ${MAX_SHIPS} ships`;
  if (fleet.some((length) => !Number.isInteger(length) || length < 1 || length > size)) {
    return `every ship is 1 to ${size} cells long on a ${size}x${size} board`;
  }
  // A third of the board at most: random placement then always succeeds, and the game stays a search.
  const cells = fleet.reduce((sum, length) => sum + length, 0);
  const most = Math.floor((size * size) / 3);
  return cells > most ? `the fleet covers ${cells} cells; a ${size}x${size} board takes at most ${most}` : null;
}

/** Why these ships are not a legal placement of `fleet` on a board of `size` (null when they are). */
export function placementProblem(ships: readonly Ship[], fleet: readonly number[], size: number): string | null {
  const wanted = [...fleet].sort((a, b) => a - b).join(",");
  const given = ships
    .map((s) => s.length)
    .sort((a, b) => a - b)
    .join(",");
  if (given !== wanted) return `the fleet is ships of lengths ${[...fleet].join(", ")}`;
  const taken = new Set<string>();
  for (const s of ships) {
    for (const cell of shipCells(s)) {
      if (!inBounds(cell, size)) return `a ship at row ${s.row}, column ${s.column} runs off the board`;
      const key = cellKey(cell);
      if (taken.has(key)) return `two ships overlap at row ${cell.row}, column ${cell.column}`;
      taken.add(key);
    }
  }
  return null;
}

/**
 * A random legal placement of `fleet` (longest ships first, each at a
 * uniformly chosen free position). For fleets fleetProblem accepts it cannot
 * fail: after many unlucky tries it packs the ships row by row instead.
 */
export function randomFleet(fleet: readonly number[], size: number, random: IntSource): Ship[] {
  const lengths = [...fleet].sort((a, b) => b - a);
  for (let attempt = 0; attempt < 50; attempt++) {
    const placed = tryRandomFleet(lengths, size, random);
    if (placed) return placed;
  }
  return packedFleet(lengths, size);
}

function tryRandomFleet(lengths: number[], size: number, random: IntSource): Ship[] | null {
  const ships: Ship[] = [];
  const taken = new Set<string>();
  for (const length of lengths) {
    const options = freePositions(length, size, taken);
    if (options.length === 0) return null;
    const chosen = options[random.int(options.length)] as Ship;
    ships.push(chosen);
    for (const cell of shipCells(chosen)) taken.add(cellKey(cell));
  }
  return ships;
}

function freePositions(length: number, size: number, taken: ReadonlySet<string>): Ship[] {
  const positions: Ship[] = [];
  for (const vertical of [false, true]) {
    for (let row = 0; row < size; row++) {
      for (let column = 0; column < size; column++) {
        const candidate = ship(row, column, length, vertical);
        if (shipCells(candidate).every((cell) => inBounds(cell, size) && !taken.has(cellKey(cell)))) {
          positions.push(candidate);
        }
      }
    }
  }
  return positions;
}

/** Longest first, each into the first row with room: always fits a fleet of at most a third of the board. */
export function packedFleet(fleet: readonly number[], size: number): Ship[] {
  const lengths = [...fleet].sort((a, b) => b - a);
  const used = new Array<number>(size).fill(0);
  return lengths.map((length) => {
    const row = used.findIndex((filled) => filled + length <= size);
    if (row === -1) throw new RangeError("the fleet does not fit the board");
    const placed = ship(row, used[row] as number, length, false);
    used[row] = (used[row] as number) + length;
    return placed;
  });
}

/** The index of the ship covering a cell, or -1. */
export function shipAt(ships: readonly Ship[], cell: Cell): number {
  return ships.findIndex((s) => shipCells(s).some((c) => c.row === cell.row && c.column === cell.column));
}

export function wasShot(shots: readonly Shot[], cell: Cell): boolean {
  return shots.some((s) => s.row === cell.row && s.column === cell.column);
}

/** What a shot at `cell` does to a board whose ships are known (the node decides with this). */
export function resolveShot(
  ships: readonly Ship[],
  shots: readonly Shot[],
  cell: Cell,
): { result: ShotResult; sunk: Ship | null } {
  const index = shipAt(ships, cell);
  const target = ships[index];
  if (!target) return { result: "miss", sunk: null };
  const hitAfter = (c: Cell) => (c.row === cell.row && c.column === cell.column) || wasShot(shots, c);
  return shipCells(target).every(hitAfter) ? { result: "sunk", sunk: target } : { result: "hit", sunk: null };
}

/** Cells of a board nobody has fired at yet, row by row. */
export function unshotCells(size: number, shots: readonly Shot[]): Cell[] {
  const shot = new Set(shots.map(cellKey));
  const cells: Cell[] = [];
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      if (!shot.has(`${row}:${column}`)) cells.push({ row, column });
    }
  }
  return cells;
}
