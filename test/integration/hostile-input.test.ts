import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { GameTraffic } from "../../infra/ops/game-traffic.js";
import { LobbyConnection, RingsideApi, type SocketConstructor } from "../../shared/client/index.js";
import type { TestCluster } from "../helpers/cluster.js";
import { expectAckedActionsDurable, startClusterUnderPlay } from "../helpers/play.js";
import { answerTo, openRaw, type RawSocket } from "../helpers/raw-socket.js";
import { within } from "../helpers/wait.js";

/**
 * Issue 12's stranger, against real processes while 30 lobbies play: strings
 * JSON allows but Postgres cannot store, an old action id sent again, a
 * backlog re-sent on reconnect, a retried join. Each is refused or acked
 * correctly, and no innocent player's socket closes.
 */

const UNSTORABLE = ["x\u0000y", "\ud800", "a\udfffb", "n\u0000"];

describe("hostile input never touches another lobby", () => {
  let cluster: TestCluster;
  let traffic: GameTraffic;
  let stop: () => Promise<void>;
  let api: RingsideApi;
  let base: string;
  let stranger: { code: string; playerId: string; token: string };
  let socket: RawSocket;

  beforeAll(async () => {
    ({ cluster, traffic, stop } = await startClusterUnderPlay({
      label: "hostile",
      nodes: 2,
      lobbies: 30,
      pauseMs: [40, 90],
    }));
    base = cluster.balancers[0]?.url as string;
    api = new RingsideApi(base, { retry: { attempts: 1 } });
    // The stranger joins a lobby that is being played, as a spectator.
    const target = traffic.lobbies[0]?.code as string;
    stranger = { code: target, ...(await api.joinLobby(target, "stranger")) };
    socket = await openRaw(`${cluster.balancers[0]?.wsUrl}/ws/${target}?token=${stranger.token}`);
  }, 120_000);

  afterAll(async () => {
    socket?.ws.close();
    await stop?.();
  });

  const post = (path: string, body: unknown) =>
    fetch(base + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

  it("answers names Postgres cannot store with 400 JSON on create and join", async () => {
    for (const name of UNSTORABLE) {
      for (const path of ["/api/lobbies", `/api/lobbies/${stranger.code}/join`]) {
        const res = await post(path, { name });
        expect(res.status, `${path} ${JSON.stringify(name)}`).toBe(400);
        expect(((await res.json()) as { error: string }).error).toBe("bad_request");
      }
    }
    const options = await post("/api/lobbies", { name: "ok", options: { note: "\u0000" } });
    expect(options.status).toBe(400);
  });

  it("answers chats, DMs, ids and game actions Postgres cannot store with an error frame, socket open", async () => {
    const frames = [
      ...UNSTORABLE.map((text, i) => ({ type: "chat", id: `bad-chat-${i}`, text })),
      ...UNSTORABLE.map((text, i) => ({ type: "dm", id: `bad-dm-${i}`, to: "someone", text })),
      ...UNSTORABLE.map((text, i) => ({ type: "move", id: `bad-move-${i}`, column: 1, note: text })),
    ];
    for (const frame of frames) {
      const from = socket.frames.length;
      socket.ws.send(JSON.stringify(frame));
      expect(await within(answerTo(socket, frame.id, from), frame.id)).toMatchObject({
        type: "error",
        code: "bad_message",
      });
    }
    const from = socket.frames.length;
    socket.ws.send(JSON.stringify({ type: "chat", id: "fine", text: "still here" }));
    expect(await within(answerTo(socket, "fine", from), "ack of fine")).toMatchObject({ type: "ack" });
  });

  it("acks an action id sent again after 200 newer actions with its original seq", async () => {
    const connection = new LobbyConnection({
      baseUrl: base,
      code: stranger.code,
      token: stranger.token,
      WebSocket: WebSocket as SocketConstructor,
      ackTimeoutMs: 60_000,
    });
    await connection.connect();
    const first = await connection.send({ type: "chat", id: "old-id", text: "first" });
    // The SDK paces these by the node's rate limit: ~11 s at the default 20/s.
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => connection.send({ type: "chat", id: `n-${i}`, text: `${i}` })),
    );
    const again = await connection.send({ type: "chat", id: "old-id", text: "first, again" });
    expect(again).toEqual(first);
    connection.close();
  }, 60_000);

  it("acks all of 60 actions queued while the connection was away", async () => {
    const connection = new LobbyConnection({
      baseUrl: base,
      code: stranger.code,
      token: stranger.token,
      WebSocket: WebSocket as SocketConstructor,
    });
    const rejected: string[] = [];
    connection.on("error", (e) => rejected.push(e.code));
    // Queued before the welcome, like a backlog after a reconnect: all go out at once when it comes.
    const sends = Array.from({ length: 60 }, (_, i) =>
      connection.send({ type: "chat", id: `backlog-${i}`, text: `${i}` }),
    );
    await connection.connect();
    const acks = await Promise.all(sends);
    expect(acks.every((ack) => typeof ack.seq === "number")).toBe(true);
    expect(rejected).toEqual([]);
    connection.close();
  }, 30_000);

  it("gives the same player to a join retried with the same Idempotency-Key", async () => {
    const code = traffic.lobbies[1]?.code as string;
    const join = () =>
      fetch(`${base}/api/lobbies/${code}/join`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": "retry-key-0001" },
        body: JSON.stringify({ name: "twice" }),
      }).then((r) => r.json() as Promise<{ playerId: string; token: string }>);
    const [a, b] = await Promise.all([join(), join()]);
    const c = await join();
    expect(b.playerId).toBe(a.playerId);
    expect(c.playerId).toBe(a.playerId);
    const lobby = await api.getLobby(code);
    expect(lobby.players.filter((p) => p.name === "twice")).toHaveLength(1);
  });

  it("closed no innocent socket, and lost nothing acked", async () => {
    await traffic.stop();
    for (const player of traffic.players) {
      expect(player.welcomes, `${player.code}/${player.playerId} reconnected`).toHaveLength(1);
    }
    expect(traffic.ackCount).toBeGreaterThan(100);
    await expectAckedActionsDurable(traffic, cluster.db.pool);
  });
});
