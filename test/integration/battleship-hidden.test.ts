import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RingsideApi } from "../../shared/client/index.js";
import { cellKey, type Ship, ship, shipCells } from "../../shared/games/battleship/board.js";
import type { BattleshipState, SeatBoard } from "../../shared/games/battleship/rules.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
import { type Frame, FrameRecorder } from "../helpers/frame-recorder.js";
import { within } from "../helpers/wait.js";

/**
 * Hidden information on a real cluster (two node processes, a balancer,
 * Postgres): Ann places her fleet, Ben's is placed at random by the placement
 * deadline (a timer entry), Cat watches. They fire, sink a ship each and hit
 * others. Then every frame each of them received (live, and replayed after
 * reconnects with and without `since`), every HTTP answer (the lobby, the
 * directory, its live SSE feed) and every log line of every process is
 * searched for the other fleet: a ship still afloat must appear nowhere but
 * in its owner's frames, and a sunk ship nowhere before the entry that sank it.
 */

const OPTIONS = { size: 8, fleet: [3, 3, 2], placementSeconds: 3, turnSeconds: 60 };
const ANN_FLEET: Ship[] = [ship(0, 0, 3, false), ship(2, 2, 3, true), ship(6, 5, 2, false)];

type Viewer = "ann" | "ben" | "cat";

describe("battleship: no frame or HTTP answer shows a player another player's fleet", () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startCluster({ label: "bs_hidden", nodes: 2, balancers: 1 });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it("keeps each fleet to its owner, live, in replays, over HTTP, in the directory feed and in the logs", async () => {
    const balancer = cluster.balancers[0] as { url: string; wsUrl: string };
    const api = new RingsideApi(balancer.url);
    const feed = openFeed(`${balancer.url}/api/lobbies`);
    const host = await api.createLobby("ann", { game: "battleship", options: OPTIONS });
    const { code } = host;
    const recorders: Record<Viewer, FrameRecorder[]> = { ann: [], ben: [], cat: [] };
    const connect = async (who: Viewer, token: string, since?: number) => {
      const recorder = await FrameRecorder.open(balancer.wsUrl, code, token, since);
      recorders[who].push(recorder);
      return recorder;
    };
    const ann = await connect("ann", host.token, 0);
    const benSeat = await api.joinLobby(code, "ben");
    const ben = await connect("ben", benSeat.token, 0);
    const catSeat = await api.joinLobby(code, "cat");
    await connect("cat", catSeat.token, 0);

    // Ann places her fleet; Ben does not, so the placement deadline places his at random.
    await ann.act({ type: "place", ships: ANN_FLEET });
    const started = await ben.seen(
      (f) => f.type === "event" && f.event.kind === "timer" && f.event.events.some((e: Frame) => e.type === "turn"),
      "the placement deadline placing Ben's fleet",
    );
    const placed: Ship[] = started.event.events.find((e: Frame) => e.type === "placed" && e.seat === 2)?.ships ?? [];
    const benFleet = placed.map((s) => ship(s.row, s.column, s.length, s.vertical));
    expect(benFleet).toHaveLength(3);
    expect(started.event.events.find((e: Frame) => e.type === "placed" && e.seat === 2)?.random).toBe(true);

    // Ann sinks Ben's two-cell ship and hits a three-cell one; Ben does the same to Ann. Everything else misses.
    const benSmall = benFleet.find((s) => s.length === 2) as Ship;
    const benBig = benFleet.find((s) => s.length === 3) as Ship;
    const annSmall = ANN_FLEET[2] as Ship;
    const misses = (fleet: Ship[]) => {
      const taken = new Set(fleet.flatMap(shipCells).map(cellKey));
      return allCells(OPTIONS.size).filter((c) => !taken.has(cellKey(c)));
    };
    const annShots = [...shipCells(benSmall), shipCells(benBig)[1], ...misses(benFleet).slice(0, 2)];
    const benShots = [...shipCells(annSmall), { row: 0, column: 1 }, ...misses(ANN_FLEET).slice(-2)];
    // Keyed by owner too: the two fleets may hold a ship at the same cells.
    const sunkAt = new Map<string, number>();
    const sunkKey = (owner: "ann" | "ben", s: Ship) => `${owner} ${JSON.stringify(s)}`;
    let midSeq = 0;
    for (const [i, target] of annShots.entries()) {
      const annSeq = await ann.act({ type: "fire", ...target });
      if (i === 1) sunkAt.set(sunkKey("ben", benSmall), annSeq);
      const benSeq = await ben.act({ type: "fire", ...(benShots[i] as { row: number; column: number }) });
      if (i === 1) sunkAt.set(sunkKey("ann", annSmall), benSeq);
      if (i === 2) midSeq = benSeq;
    }
    const lastSeq = (await api.getLobby(code)).seq;

    // Reconnects: replays from the start and from the middle, and a plain welcome.
    for (const [who, token] of [
      ["ann", host.token],
      ["ben", benSeat.token],
      ["cat", catSeat.token],
    ] as const) {
      for (const since of [0, midSeq, undefined]) {
        const recorder = await connect(who, token, since);
        await recorder.seen(
          (f) => (f.type === "event" || f.type === "welcome") && f.seq === lastSeq,
          `${who}'s replay`,
        );
      }
    }
    const http = [
      await (await fetch(`${balancer.url}/api/lobbies/${code}`)).text(),
      await (await fetch(`${balancer.url}/api/lobbies`)).text(),
    ];
    await within(feed.includes(code), "the directory feed naming the lobby");
    const feedText = feed.stop();
    for (const recorder of Object.values(recorders).flat()) recorder.close();

    // The matcher finds fleets where they belong: the owner's own frames.
    const framesOf = (who: Viewer) => recorders[who].flatMap((r) => r.parsed());
    expect(shipsIn(framesOf("ann"), ANN_FLEET)).toHaveLength(3);
    expect(shipsIn(framesOf("ben"), benFleet)).toHaveLength(3);

    const secretsOf = { ann: ANN_FLEET, ben: benFleet };
    const ownShips = (viewer: Viewer) =>
      new Set(viewer === "cat" ? [] : secretsOf[viewer].map((s) => JSON.stringify(s)));
    const leaks: string[] = [];
    for (const [viewer, others] of [
      ["ann", ["ben"]],
      ["ben", ["ann"]],
      ["cat", ["ann", "ben"]],
    ] as [Viewer, ("ann" | "ben")[]][]) {
      for (const [r, recorder] of recorders[viewer].entries()) {
        for (const frame of recorder.parsed()) {
          const seq = typeof frame.seq === "number" ? frame.seq : -1;
          for (const owner of others) {
            // A sunk ship is public from the entry that sank it on; a ship afloat, never.
            // Random placement can put the other fleet's ship exactly where the viewer's
            // own is: that ship is the viewer's to see, so it cannot count as a leak.
            const hidden = secretsOf[owner].filter(
              (s) =>
                seq < (sunkAt.get(sunkKey(owner, s)) ?? Number.POSITIVE_INFINITY) &&
                !ownShips(viewer).has(JSON.stringify(s)),
            );
            for (const found of shipsIn([frame], hidden))
              leaks.push(`${viewer} socket ${r}, seq ${seq}: ${owner}'s ${found}`);
          }
          leaks.push(...viewProblems(viewer, frame));
        }
      }
    }
    const afloat = [
      ...ANN_FLEET.filter((s) => !sunkAt.has(sunkKey("ann", s))),
      ...benFleet.filter((s) => !sunkAt.has(sunkKey("ben", s))),
    ];
    const logs = cluster.group.all.flatMap((p) => p.lines);
    for (const [what, texts] of [
      ["HTTP", http],
      ["the directory feed", [feedText]],
      ["a log line", logs],
    ] as const) {
      for (const text of texts) {
        for (const found of shipsInText(text, afloat)) leaks.push(`${what}: ${found}`);
      }
    }
    const resource = JSON.parse(http[0] as string) as { game: BattleshipState };
    leaks.push(...viewProblems("cat", { type: "welcome", seq: lastSeq, lobby: resource }));
    expect(leaks).toEqual([]);

    // Every player received every seq: the projection never drops an entry, it only redacts.
    for (const who of ["ann", "ben", "cat"] as const) {
      const live = recorders[who][0]?.parsed().filter((f) => f.type === "event") ?? [];
      expect(live.map((f) => f.seq)).toEqual(range(1, lastSeq));
    }
    console.info(
      `[battleship hidden] ${Object.values(recorders)
        .flat()
        .reduce((n, r) => n + r.frames.length, 0)} frames, ` +
        `${http.length} HTTP answers, ${feedText.length} bytes of directory feed and ${logs.length} log lines checked`,
    );
  });
});

/** Which of `ships` appear in these frames, as an object with the ship's four fields (in any key order). */
function shipsIn(frames: unknown[], ships: readonly Ship[]): string[] {
  const wanted = new Set(ships.map((s) => JSON.stringify(s)));
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value !== "object" || value === null) return;
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
      return;
    }
    const v = value as Record<string, unknown>;
    if (typeof v.row === "number" && typeof v.length === "number") {
      const key = JSON.stringify(ship(v.row, v.column as number, v.length, v.vertical as boolean));
      if (wanted.has(key)) found.add(key);
    }
    for (const item of Object.values(v)) walk(item);
  };
  walk(frames);
  return [...found];
}

/** The same over text that may not be one JSON document (log lines, an SSE stream). */
function shipsInText(text: string, ships: readonly Ship[]): string[] {
  const found = ships.filter((s) => text.includes(JSON.stringify(s))).map((s) => JSON.stringify(s));
  for (const line of text.split("\n")) {
    const json = line.startsWith("data:") ? line.slice(5) : line;
    try {
      found.push(...shipsIn([JSON.parse(json)], ships));
    } catch {
      // not JSON: the text search above covers it
    }
  }
  return [...new Set(found)];
}

/**
 * What a view shows of a fleet that is not the viewer's: no ships, and no cell beyond the ones fired
 * at (a sunk ship's cells were all fired at); a placement of it, no ships either.
 */
function viewProblems(viewer: Viewer, frame: Frame): string[] {
  const problems: string[] = [];
  const hiddenSeats = viewer === "ann" ? [2] : viewer === "ben" ? [1] : [1, 2];
  const game: BattleshipState | undefined = frame.type === "welcome" ? frame.lobby?.game : undefined;
  for (const seat of hiddenSeats) {
    const board: SeatBoard | undefined = game?.boards[seat - 1];
    if (board) {
      if (board.ships !== null) problems.push(`${viewer}'s view at seq ${frame.seq} shows seat ${seat}'s ships`);
      const fired = new Set(board.shots.map(cellKey));
      const shown = board.sunk.flatMap(shipCells).filter((c) => !fired.has(cellKey(c)));
      if (shown.length > 0) problems.push(`${viewer}'s view at seq ${frame.seq} shows unshot cells of seat ${seat}`);
    }
    const events: Frame[] = frame.type === "event" ? (frame.event.events ?? []) : [];
    for (const event of events) {
      if (event.type === "placed" && event.seat === seat && event.ships !== null) {
        problems.push(`${viewer} got seat ${seat}'s placement at seq ${frame.seq}`);
      }
    }
  }
  return problems;
}

/** The live directory (SSE): everything it sends until stopped. */
function openFeed(url: string) {
  const controller = new AbortController();
  let text = "";
  const listeners: (() => void)[] = [];
  void (async () => {
    try {
      const res = await fetch(url, { headers: { accept: "text/event-stream" }, signal: controller.signal });
      const decoder = new TextDecoder();
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        text += decoder.decode(chunk, { stream: true });
        for (const listener of listeners.splice(0)) listener();
      }
    } catch {
      // aborted
    }
  })();
  return {
    /** Resolves once the feed's text contains `needle`. */
    includes(needle: string): Promise<void> {
      return new Promise((resolve) => {
        const check = () => (text.includes(needle) ? resolve() : listeners.push(check));
        check();
      });
    },
    stop(): string {
      controller.abort();
      return text;
    },
  };
}

function allCells(size: number): { row: number; column: number }[] {
  return Array.from({ length: size * size }, (_, i) => ({ row: Math.floor(i / size), column: i % size }));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
