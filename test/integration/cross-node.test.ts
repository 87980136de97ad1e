import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  ActionRejectedError,
  type LobbyConnection,
  RingsideClient,
  type SocketConstructor,
} from "../../shared/client/index.js";
import { DEV_ADMIN_TOKEN } from "../../shared/config.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
import { eventually } from "../helpers/wait.js";

/**
 * Issue 5: what crosses nodes. Players sit in lobbies on all three nodes; an
 * admin announcement reaches all of them, a direct message crosses nodes,
 * presence (and /api/stats) matches the sockets actually open, the live
 * directory streams new lobbies, and a SIGKILLed node's presence rows go.
 */

type Seat = { code: string; node: string; playerId: string; connection: LobbyConnection };

describe("cross-node events and presence", () => {
  let cluster: TestCluster;
  let client: RingsideClient;
  const seats: Seat[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ label: "crossnode", nodes: 3, balancers: 1, env: { RINGSIDE_PRESENCE_MS: "500" } });
    client = new RingsideClient(cluster.balancers[0]?.url as string, { WebSocket: WebSocket as SocketConstructor });
    // Lobbies until every node serves at least one; one connected player in each of those.
    const byNode = new Map<string, { code: string; playerId: string; token: string }>();
    for (let i = 0; i < 40 && byNode.size < 3; i++) {
      const lobby = await client.api.createLobby(`p${i}`);
      const { node } = await client.api.getLobby(lobby.code);
      if (!byNode.has(node)) byNode.set(node, lobby);
    }
    for (const [node, lobby] of byNode) {
      const connection = await client.connect(lobby.code, lobby.token);
      seats.push({ code: lobby.code, node, playerId: lobby.playerId, connection });
    }
  }, 90_000);

  afterAll(async () => {
    for (const s of seats) s.connection.close();
    await cluster?.stop();
  });

  it("has players connected on all three nodes", () => {
    expect(seats.map((s) => s.node).sort()).toEqual(["n1", "n2", "n3"]);
    expect(new Set(seats.map((s) => s.connection.node))).toEqual(new Set(["n1", "n2", "n3"]));
  });

  it("delivers an admin announcement to players on every node", async () => {
    const received = seats.map((s) => s.connection.waitFor("announcement"));
    const res = await fetch(`${cluster.balancers[0]?.url}/admin/announce`, {
      method: "POST",
      headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ text: "server restart in 5 minutes" }),
    });
    expect(res.status).toBeLessThan(300);
    for (const [announcement] of await Promise.all(received))
      expect(announcement.text).toBe("server restart in 5 minutes");
  });

  it("delivers a direct message to a player on another node", async () => {
    const [from, to] = seats as [Seat, Seat];
    expect(from.node).not.toBe(to.node);
    // A DM finds its addressee in Postgres presence, written (batched) just after the welcome.
    await eventually(async () => (await client.api.stats()).players === seats.length);
    const texts: string[] = [];
    to.connection.on("dm", (dm) => texts.push(dm.text));
    const arrived = to.connection.waitFor("dm");
    await from.connection.send({ type: "dm", id: "dm-once", to: to.playerId, text: "good game!" });
    const [dm] = await arrived;
    expect(dm).toMatchObject({ text: "good game!", from: { playerId: from.playerId, lobby: from.code } });
    // Sent again with the same id (its ack was lost, say): acked again, delivered once.
    await from.connection.send({ type: "dm", id: "dm-once", to: to.playerId, text: "good game!" });
    const last = to.connection.waitFor("dm");
    await from.connection.send({ type: "dm", id: "dm-next", to: to.playerId, text: "rematch?" });
    await last;
    expect(texts).toEqual(["good game!", "rematch?"]);
    await expect(from.connection.send({ type: "dm", to: "nobody123456", text: "hello?" })).rejects.toBeInstanceOf(
      ActionRejectedError,
    );
  });

  it("counts presence from Postgres in agreement with the open sockets", async () => {
    await eventually(async () => {
      const stats = await client.api.stats();
      return stats.nodes === 3 && stats.players === seats.length && stats.lobbies === seats.length;
    });
    const lobby = (await client.api.getLobby(seats[0]?.code as string)) as {
      players: { id: string; online: boolean }[];
    };
    expect(lobby.players.find((p) => p.id === seats[0]?.playerId)?.online).toBe(true);
    const leaving = seats.pop() as Seat;
    leaving.connection.close();
    await eventually(async () => (await client.api.stats()).players === seats.length, {
      what: "presence follows a close",
    });
  });

  it("streams new lobbies on the live directory feed", async () => {
    const controller = new AbortController();
    const res = await fetch(`${cluster.balancers[0]?.url}/api/lobbies`, {
      headers: { accept: "text/event-stream" },
      signal: controller.signal,
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error("feed ended");
        text += decoder.decode(value);
      }
    };
    await readUntil("event: snapshot");
    const fresh = await client.api.createLobby("newcomer");
    await readUntil(fresh.code);
    expect(text).toMatch(new RegExp(`event: lobby\\ndata: .*"code":"${fresh.code}"`));
    controller.abort();
  });

  it("refreshes presence in slices: a lost row comes back, a departed player's never does", async () => {
    const home = seats[0] as Seat;
    const guests: { playerId: string; connection: LobbyConnection }[] = [];
    for (let i = 0; i < 7; i++) {
      const seat = await client.api.joinLobby(home.code, `guest${i}`);
      guests.push({ playerId: seat.playerId, connection: await client.connect(home.code, seat.token) });
    }
    const rowsOf = async (ids: string[]) =>
      (await cluster.db.pool.query("SELECT player_id FROM presence WHERE player_id = ANY($1)", [ids])).rows.length;
    const staying = [home.playerId, ...guests.slice(0, 3).map((g) => g.playerId)];
    const leaving = guests.slice(3);
    await eventually(async () => (await rowsOf([...staying, ...leaving.map((g) => g.playerId)])) === 7 + 1);
    for (const g of leaving) g.connection.close();
    const departedIds = leaving.map((g) => g.playerId);
    await eventually(async () => (await rowsOf(departedIds)) === 0, { what: "the closes written" });
    // Twice: rows lost (a failed write, say) are all written back within an interval, and no
    // refresh slice meanwhile writes back a player who left (a written-back row lives 3 intervals).
    let departedSeen = 0;
    for (let round = 0; round < 2; round++) {
      await cluster.db.pool.query("DELETE FROM presence WHERE player_id = ANY($1)", [staying]);
      await eventually(
        async () => {
          departedSeen = Math.max(departedSeen, await rowsOf(departedIds));
          return (await rowsOf(staying)) === staying.length;
        },
        { what: "lost rows re-added" },
      );
    }
    expect(departedSeen).toBe(0);
    for (const g of guests.slice(0, 3)) g.connection.close();
  });

  it("removes a SIGKILLed node's presence rows", async () => {
    const victim = cluster.nodes.find((n) => n.env.NODE_ID === seats[0]?.node);
    victim?.kill("SIGKILL");
    await eventually(
      async () => {
        const { rows } = await cluster.db.pool.query("SELECT 1 FROM presence WHERE node_id = $1", [seats[0]?.node]);
        return rows.length === 0;
      },
      { timeoutMs: 10_000, what: "presence rows of the dead node removed" },
    );
    await eventually(async () => (await client.api.stats()).nodes === 2, { what: "stats count two nodes" });
  });
});
