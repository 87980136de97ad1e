import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
import { answerTo, openRaw, type RawSocket } from "../helpers/raw-socket.js";
import { within } from "../helpers/wait.js";

/**
 * A studio's game whose decide returns events JSON cannot carry as they are
 * (a BigInt, a function, a cycle, a Date, a Map, NaN, Infinity): the engine
 * refuses that one action (`internal`), the lobby keeps its state and takes
 * the next action, and its log replays to the state players saw.
 */

const GAME = fileURLToPath(new URL("../fixtures/hostile-game.ts", import.meta.url));
const BAD = ["bigint", "fn", "cycle", "date", "nan", "infinity", "map"];

describe("game events that are not JSON", () => {
  let cluster: TestCluster;
  let base: string;
  let socket: RawSocket;
  let code: string;

  beforeAll(async () => {
    cluster = await startCluster({
      label: "nonjson",
      nodes: 1,
      balancers: 1,
      env: { RINGSIDE_GAMES: `connect-four,${GAME}` },
    });
    base = cluster.balancers[0]?.url as string;
    const res = await fetch(`${base}/api/lobbies`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "studio", game: "hostile" }),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { code: string; token: string };
    code = created.code;
    socket = await openRaw(`${cluster.balancers[0]?.wsUrl}/ws/${code}?token=${created.token}`);
  }, 120_000);

  afterAll(async () => {
    socket?.ws.close();
    await cluster?.stop();
  });

  it("refuses each such action alone, and the lobby goes on from the state players saw", async () => {
    let bumps = 0;
    for (const type of BAD) {
      socket.ws.send(JSON.stringify({ type, id: `bad-${type}` }));
      const answer = await within(answerTo(socket, `bad-${type}`), `the answer to ${type}`, 5000);
      expect(answer, type).toMatchObject({ type: "error", code: "internal" });
      socket.ws.send(JSON.stringify({ type: "bump", id: `bump-${type}` }));
      expect(await within(answerTo(socket, `bump-${type}`), `bump after ${type}`, 5000)).toMatchObject({ type: "ack" });
      bumps++;
    }
    const snapshot = (await (await fetch(`${base}/api/lobbies/${code}`)).json()) as { game: { count: number } };
    expect(snapshot.game.count).toBe(bumps);
    // The log replays to the same state: nothing the players did not see was logged.
    const { rows } = await cluster.db.pool.query(
      `SELECT event FROM lobby_events WHERE code = $1 AND event->>'kind' = 'game' ORDER BY seq`,
      [code],
    );
    expect(rows.map((r) => r.event.events)).toEqual(Array.from({ length: bumps }, () => [{ type: "add", by: 1 }]));
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);
  });
});
