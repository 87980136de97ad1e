import { describe, expect, it } from "vitest";
import { createRandom } from "../../game/random.js";
import {
  CLASSIC_FLEET,
  fleetProblem,
  packedFleet,
  placementProblem,
  randomFleet,
  resolveShot,
  type Ship,
  type Shot,
  ship,
  shipAt,
  shipCells,
  unshotCells,
} from "./board.js";

/** A legal classic fleet on a 10x10 board: four ships across, the destroyer down the right edge. */
const FLEET: Ship[] = [
  ship(0, 0, 5, false),
  ship(2, 0, 4, false),
  ship(4, 0, 3, false),
  ship(6, 0, 3, false),
  ship(0, 9, 2, true),
];

describe("battleship board: ships and placements", () => {
  it("lists a ship's cells across or down", () => {
    expect(shipCells(ship(1, 2, 3, false))).toEqual([
      { row: 1, column: 2 },
      { row: 1, column: 3 },
      { row: 1, column: 4 },
    ]);
    expect(shipCells(ship(1, 2, 2, true))).toEqual([
      { row: 1, column: 2 },
      { row: 2, column: 2 },
    ]);
  });

  it("accepts a legal placement of the fleet", () => {
    expect(placementProblem(FLEET, CLASSIC_FLEET, 10)).toBeNull();
  });

  it("refuses a placement with the wrong ships", () => {
    expect(placementProblem(FLEET.slice(1), CLASSIC_FLEET, 10)).toMatch(/lengths 5, 4, 3, 3, 2/);
    expect(placementProblem([...FLEET.slice(0, 4), ship(0, 9, 3, true)], CLASSIC_FLEET, 10)).toMatch(/lengths/);
  });

  it("refuses a ship off the board, however it leaves it", () => {
    expect(placementProblem([...FLEET.slice(0, 4), ship(8, 9, 2, true)], CLASSIC_FLEET, 10)).toBeNull();
    expect(placementProblem([...FLEET.slice(0, 4), ship(9, 9, 2, false)], CLASSIC_FLEET, 10)).toMatch(/off the board/);
    expect(placementProblem([...FLEET.slice(0, 4), ship(9, 9, 2, true)], CLASSIC_FLEET, 10)).toMatch(/off the board/);
    expect(placementProblem([...FLEET.slice(0, 4), ship(-1, 0, 2, true)], CLASSIC_FLEET, 10)).toMatch(/off the board/);
    expect(placementProblem(FLEET, CLASSIC_FLEET, 8)).toMatch(/off the board/);
  });

  it("refuses overlapping ships", () => {
    expect(placementProblem([...FLEET.slice(0, 4), ship(1, 3, 2, true)], CLASSIC_FLEET, 10)).toMatch(
      /overlap at row 2, column 3/,
    );
  });

  it("checks that a fleet fits a board", () => {
    expect(fleetProblem(CLASSIC_FLEET, 10)).toBeNull();
    expect(fleetProblem(CLASSIC_FLEET, 8)).toBeNull();
    expect(fleetProblem(CLASSIC_FLEET, 6)).toMatch(/covers 17 cells; a 6x6 board takes at most 12/);
    expect(fleetProblem([7], 6)).toMatch(/1 to 6 cells long/);
    expect(fleetProblem([], 10)).toMatch(/1 to 10 ships/);
    expect(fleetProblem(new Array(11).fill(1), 10)).toMatch(/1 to 10 ships/);
  });
});

describe("battleship board: random fleets", () => {
  it("always places a legal fleet, for every board size and many seeds", () => {
    const fleets: [number[], number][] = [
      [[...CLASSIC_FLEET], 10],
      [[...CLASSIC_FLEET], 8],
      [[6, 6], 6],
      [[4, 3, 2, 2, 1], 6],
      [[12, 12, 12, 12, 1, 1], 12],
    ];
    for (const [fleet, size] of fleets) {
      for (let seed = 0; seed < 60; seed++) {
        const ships = randomFleet(fleet, size, createRandom(`fleet ${seed}`));
        expect(placementProblem(ships, fleet, size), `${fleet} on ${size}, seed ${seed}`).toBeNull();
      }
    }
  });

  it("is the same for the same seed and differs between seeds", () => {
    const a = randomFleet(CLASSIC_FLEET, 10, createRandom("same"));
    expect(randomFleet(CLASSIC_FLEET, 10, createRandom("same"))).toEqual(a);
    expect(randomFleet(CLASSIC_FLEET, 10, createRandom("other"))).not.toEqual(a);
  });

  it("packs any fleet of at most a third of the board row by row when luck runs out", () => {
    for (const [fleet, size] of [
      [[6, 6], 6],
      [[5, 5, 1, 1], 6],
      [[4, 4, 4], 6],
      [[12, 12, 12, 11, 1], 12],
    ] as [number[], number][]) {
      expect(placementProblem(packedFleet(fleet, size), fleet, size), `${fleet}`).toBeNull();
    }
  });
});

describe("battleship board: shots", () => {
  it("misses, hits, and sinks a ship with its last cell", () => {
    const shots: Shot[] = [];
    expect(resolveShot(FLEET, shots, { row: 9, column: 0 })).toEqual({ result: "miss", sunk: null });
    expect(resolveShot(FLEET, shots, { row: 0, column: 9 })).toEqual({ result: "hit", sunk: null });
    shots.push({ row: 0, column: 9, result: "hit" });
    expect(resolveShot(FLEET, shots, { row: 1, column: 9 })).toEqual({ result: "sunk", sunk: FLEET[4] });
  });

  it("finds the ship on a cell and the cells nobody fired at", () => {
    expect(shipAt(FLEET, { row: 2, column: 3 })).toBe(1);
    expect(shipAt(FLEET, { row: 2, column: 4 })).toBe(-1);
    const shots: Shot[] = [
      { row: 0, column: 0, result: "hit" },
      { row: 1, column: 1, result: "miss" },
    ];
    const left = unshotCells(3, shots);
    expect(left).toHaveLength(7);
    expect(left).not.toContainEqual({ row: 1, column: 1 });
  });
});
