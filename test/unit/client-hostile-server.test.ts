import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { LobbyConnection, type LobbyConnectionOptions } from "../../shared/client/index.js";
import { CODE, FakeServer, PLAYER, snapshot, TOKEN } from "./client-fake-server.js";

/**
 * The SDK against a broken or hostile server: no frame, however malformed,
 * may throw out of the socket's handlers (in Node that is an uncaught
 * exception: the process dies), and no limit a welcome names may make the
 * client spin or stop sending.
 */

let server: FakeServer;
const connections: LobbyConnection[] = [];

function newConnection(options: Partial<LobbyConnectionOptions> = {}): LobbyConnection {
  const connection = new LobbyConnection({
    baseUrl: server.baseUrl,
    code: CODE,
    token: TOKEN,
    WebSocket,
    backoff: { initialMs: 5, maxMs: 20 },
    ...options,
  });
  connections.push(connection);
  return connection;
}

beforeEach(async () => {
  server = await FakeServer.start();
});

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.close();
  await server.close();
});

describe("LobbyConnection facing a hostile server", () => {
  it("drops frames that are not the protocol's objects, and keeps going", async () => {
    const connection = newConnection();
    const ready = connection.connect();
    const peer = await server.peers.next();
    const broken = [
      "null",
      "[]",
      '"welcome"',
      "7",
      "{}",
      '{"type":5}',
      JSON.stringify({ type: "welcome", node: "n", seq: 0, player: PLAYER }),
      JSON.stringify({ type: "welcome", node: "n", seq: 0, player: PLAYER, lobby: null }),
      JSON.stringify({ type: "welcome", node: "n", seq: 0, player: PLAYER, lobby: { seq: 0 } }),
    ];
    for (const frame of broken) peer.socket.send(frame);
    peer.welcome(2);
    await ready;
    const after = [
      JSON.stringify({ type: "event", seq: 3, event: null }),
      JSON.stringify({ type: "event", seq: 3, event: "chat" }),
      JSON.stringify({ type: "event", seq: 3 }),
      JSON.stringify({ type: "event", seq: "3", event: { kind: "chat", playerId: PLAYER, text: "x" } }),
      JSON.stringify({ type: "event", seq: 3, event: { kind: "game", playerId: PLAYER, action: "a", events: 5 } }),
      JSON.stringify({ type: "ack" }),
      JSON.stringify({ type: "error", id: { toString: 1 }, code: 7 }),
    ];
    for (const frame of after) peer.socket.send(frame);
    peer.event(3);
    await connection.waitFor("event", (e) => e.seq === 3);
    expect(connection.lastSeq).toBe(3);
    expect(connection.lobby?.chat.map((line) => line.text)).toEqual(["line 3"]);
    expect(connection.status).toBe("open");
  });

  it("survives a game whose apply throws on an event the server sent", async () => {
    const rules = {
      apply: (state: number, event: { add: number }) => {
        if (event.add < 0) throw new Error("no negative adds");
        return state + event.add;
      },
    };
    const connection = newConnection({ game: rules });
    const ready = connection.connect();
    const peer = await server.peers.next();
    peer.welcome(0);
    await ready;
    peer.gameEvent(1, -1);
    peer.gameEvent(2, 5);
    await connection.waitFor("event", (e) => e.seq === 2);
    expect(connection.status).toBe("open");
    // The next welcome's full state puts the view right again.
    peer.send({ type: "welcome", node: "node-a", seq: 2, player: PLAYER, lobby: snapshot(2, 9) });
    await connection.waitFor("welcome");
    expect(connection.state).toBe(9);
  });

  for (const limits of [
    { actionsPerSecond: 0, actionBurst: 0 },
    { actionsPerSecond: -5, actionBurst: 3 },
    { actionsPerSecond: null, actionBurst: "many" },
  ]) {
    it(`ignores welcome limits it cannot pace by (${JSON.stringify(limits)}) and still sends`, async () => {
      const connection = newConnection();
      const ready = connection.connect();
      const peer = await server.peers.next();
      peer.send({ type: "welcome", node: "node-a", seq: 0, player: PLAYER, lobby: snapshot(0), limits } as never);
      await ready;
      for (let i = 0; i < 3; i++) void connection.chat(`hi ${i}`).catch(() => {});
      const received = [];
      for (let i = 0; i < 3; i++) {
        received.push(
          await Promise.race([peer.inbox.next(), new Promise((r) => setTimeout(() => r("timeout"), 1500))]),
        );
      }
      expect(received.map((frame) => (frame as { text?: string }).text)).toEqual(["hi 0", "hi 1", "hi 2"]);
    });
  }
});
