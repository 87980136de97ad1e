import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  ActionRejectedError,
  ActionTimeoutError,
  Backoff,
  ConnectionClosedError,
  LobbyConnection,
  type LobbyConnectionOptions,
  lobbySocketUrl,
  type SocketConstructor,
} from "../../shared/client/index.js";
import { CODE, counterRules, FakeServer, PLAYER, TOKEN } from "./client-fake-server.js";

/** Lets a short while pass; used only to show that something did NOT happen. */
function quietPeriod(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

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

/** A connection that has received its welcome (at `seq`), and its server-side peer. */
async function connected(options: Partial<LobbyConnectionOptions> = {}, seq = 0) {
  const connection = newConnection(options);
  const ready = connection.connect();
  const peer = await server.peers.next();
  peer.welcome(seq);
  await ready;
  return { connection, peer };
}

beforeEach(async () => {
  server = await FakeServer.start();
});

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.close();
  await server.close();
});

describe("LobbyConnection", () => {
  it("accepts both the DOM and the ws WebSocket classes", () => {
    const constructors: (SocketConstructor | undefined)[] = [WebSocket, globalThis.WebSocket];
    expect(constructors[0]).toBeDefined();
    expect(lobbySocketUrl("https://lb.example/game/", CODE, "t k", 7)).toBe(
      "wss://lb.example/game/ws/ABCDEF?token=t+k&since=7",
    );
  });

  it("connects and stores the welcome", async () => {
    const connection = newConnection();
    const statuses: string[] = [];
    connection.on("status", (status) => statuses.push(status));
    const ready = connection.connect();
    const peer = await server.peers.next();
    expect(peer.url.pathname).toBe(`/ws/${CODE}`);
    expect(peer.url.searchParams.get("token")).toBe(TOKEN);
    expect(peer.url.searchParams.has("since")).toBe(false);
    peer.welcome(3, "node-7");
    const welcome = await ready;
    expect(welcome.node).toBe("node-7");
    expect(connection.node).toBe("node-7");
    expect(connection.playerId).toBe(PLAYER);
    expect(connection.lobby?.seq).toBe(3);
    expect(connection.lastSeq).toBe(3);
    expect(connection.status).toBe("open");
    expect(statuses).toEqual(["connecting", "open"]);
  });

  it("resolves send() on the ack with its seq", async () => {
    const { connection, peer } = await connected();
    const acked = connection.send({ type: "chat", text: "hello" });
    expect(connection.pending).toBe(1);
    const sent = await peer.inbox.next();
    expect(sent).toMatchObject({ type: "chat", text: "hello" });
    expect(sent.id).toMatch(/\S/);
    peer.send({ type: "ack", id: "someone-else", seq: 9 }); // not pending: ignored
    peer.send({ type: "ack", id: sent.id, seq: 1 });
    await expect(acked).resolves.toEqual({ id: sent.id, seq: 1 });
    expect(connection.pending).toBe(0);
  });

  it("rejects send() with ActionRejectedError, and emits errors that answer no action", async () => {
    const { connection, peer } = await connected();
    const move = connection.send({ type: "move", id: "move-1", column: 3 });
    await peer.inbox.next();
    peer.send({ type: "error", id: "move-1", code: "not_your_turn", message: "wait for your turn" });
    const error = await move.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ActionRejectedError);
    expect(error).toMatchObject({ id: "move-1", code: "not_your_turn", message: "wait for your turn" });
    expect(connection.pending).toBe(0);

    const unsolicited = connection.waitFor("error");
    peer.send({ type: "error", code: "bad_message", message: "frame is not valid JSON" });
    const [serverError] = await unsolicited;
    expect(serverError.code).toBe("bad_message");
  });

  it("rejects send() with ActionTimeoutError when no ack comes", async () => {
    const { connection, peer } = await connected({ ackTimeoutMs: 30 });
    const acked = connection.send({ type: "chat", text: "anyone?" });
    await peer.inbox.next();
    await expect(acked).rejects.toBeInstanceOf(ActionTimeoutError);
    expect(connection.pending).toBe(0);
  });

  it("resumes after a 1012 handoff: since=lastSeq, replayed duplicates dropped, unacked re-sent in order", async () => {
    const { connection, peer } = await connected({ backoff: { initialMs: 50, maxMs: 1000 } }, 2);
    const seqs: number[] = [];
    connection.on("event", ({ seq }) => seqs.push(seq));
    const chat = connection.send({ type: "chat", text: "one" });
    const move = connection.send({ type: "move", column: 4 });
    const sentChat = await peer.inbox.next();
    const sentMove = await peer.inbox.next();
    peer.event(3);
    await connection.waitFor("event", ({ seq }) => seq === 3);

    const retry = connection.waitFor("retry");
    peer.socket.close(1012, "handoff");
    const [{ delayMs, code }] = await retry;
    expect(code).toBe(1012);
    expect(delayMs).toBeLessThanOrEqual(50);
    expect(connection.status).toBe("reconnecting");

    const next = await server.peers.next();
    expect(next.url.searchParams.get("since")).toBe("3");
    // The replay overlaps what the client already has, and comes before the welcome.
    next.event(2);
    next.event(3);
    next.event(4);
    next.welcome(4, "node-b");
    expect(await next.inbox.next()).toEqual(sentChat);
    expect(await next.inbox.next()).toEqual(sentMove);
    next.send({ type: "ack", id: sentChat.id, seq: 5 });
    next.send({ type: "ack", id: sentMove.id, seq: 6 });
    await expect(chat).resolves.toEqual({ id: sentChat.id, seq: 5 });
    await expect(move).resolves.toEqual({ id: sentMove.id, seq: 6 });
    expect(seqs).toEqual([3, 4]);
    expect(connection.lastSeq).toBe(4);
    expect(connection.node).toBe("node-b");
    expect(connection.status).toBe("open");
  });

  it("reconnects on a reconnect hint without waiting for the old socket's close, and counts that socket closed once", async () => {
    const { connection, peer } = await connected({ backoff: { initialMs: 5, maxMs: 1000 } }, 2);
    const closes: number[] = [];
    const retries: number[] = [];
    connection.on("close", ({ code }) => closes.push(code));
    connection.on("retry", ({ code }) => retries.push(code));
    const chat = connection.send({ type: "chat", text: "during the move" });
    const sent = await peer.inbox.next();

    // The old node hints and (here) never closes: the client is on its new socket anyway.
    peer.send({ type: "reconnect", reason: "handed off to node-b; reconnect" });
    const next = await server.peers.next();
    expect(peer.socket.readyState).toBe(WebSocket.OPEN);
    expect(next.url.searchParams.get("since")).toBe("2");
    expect(closes).toEqual([1012]);
    next.welcome(2, "node-b");
    expect(await next.inbox.next()).toEqual(sent);
    next.send({ type: "ack", id: sent.id, seq: 3 });
    await expect(chat).resolves.toEqual({ id: sent.id, seq: 3 });

    // The old socket's own close, when it comes, belongs to a socket no longer in use.
    peer.socket.close(1012, "handed off");
    await peer.closed;
    await quietPeriod(50);
    expect(closes).toEqual([1012]);
    expect(retries).toEqual([1012]);
    expect(connection.status).toBe("open");
    expect(connection.node).toBe("node-b");
  });

  it("handles a replay that arrives after the welcome, and emits a gap when seqs skip", async () => {
    const { connection, peer } = await connected({}, 1);
    peer.socket.close(1012, "handoff");
    const next = await server.peers.next();
    expect(next.url.searchParams.get("since")).toBe("1");
    const seqs: number[] = [];
    connection.on("event", ({ seq }) => seqs.push(seq));
    const gap = connection.waitFor("gap");
    next.welcome(3);
    next.event(2);
    next.event(3);
    next.event(6);
    expect(await gap).toEqual([{ from: 4, to: 5 }]);
    expect(seqs).toEqual([2, 3, 6]);
    expect(connection.lastSeq).toBe(6);
  });

  it("re-sends an action whose socket died before the ack, and settles it once", async () => {
    const { connection, peer } = await connected();
    const acked = connection.send({ type: "chat", text: "survive" });
    const sent = await peer.inbox.next();
    peer.socket.terminate();

    const next = await server.peers.next();
    expect(next.url.searchParams.get("since")).toBe("0");
    next.welcome(0);
    expect(await next.inbox.next()).toEqual(sent);
    const acks: string[] = [];
    connection.on("ack", ({ id }) => acks.push(id));
    // The server acks a re-sent id again with its original seq; the second one is a no-op.
    next.send({ type: "ack", id: sent.id, seq: 1 });
    next.send({ type: "ack", id: sent.id, seq: 1 });
    next.event(1);
    await connection.waitFor("event", ({ seq }) => seq === 1);
    await expect(acked).resolves.toEqual({ id: sent.id, seq: 1 });
    expect(acks).toEqual([sent.id]);
  });

  it("abandons a socket that never answers an action, and re-sends on a new one", async () => {
    const { connection, peer } = await connected({ staleAfterMs: 200 });
    const acked = connection.send({ type: "chat", text: "anyone?" });
    const sent = await peer.inbox.next();
    // The peer stays open but silent, like a paused node behind a live TCP connection.
    const next = await server.peers.next();
    expect(next.url.searchParams.get("since")).toBe("0");
    next.welcome(0);
    expect(await next.inbox.next()).toEqual(sent);
    next.send({ type: "ack", id: sent.id, seq: 1 });
    await expect(acked).resolves.toEqual({ id: sent.id, seq: 1 });
  });

  it("abandons a connection attempt that gets no welcome, and tries again", async () => {
    const connection = newConnection({ handshakeTimeoutMs: 200 });
    const ready = connection.connect();
    await server.peers.next(); // upgraded, but never welcomed
    const second = await server.peers.next();
    second.welcome(3);
    await expect(ready).resolves.toMatchObject({ seq: 3 });
    expect(server.handshakes).toBe(2);
  });

  it("stops reconnecting after close(), rejecting pending sends", async () => {
    const { connection, peer } = await connected();
    const acked = connection.send({ type: "chat", text: "late" });
    await peer.inbox.next();
    connection.close();
    await expect(acked).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(await peer.closed).toBe(1000);
    expect(connection.status).toBe("closed");
    await expect(connection.send({ type: "chat", text: "after" })).rejects.toBeInstanceOf(ConnectionClosedError);
    await quietPeriod(100); // five times maxMs: a reconnect would have come by now
    expect(server.handshakes).toBe(1);
  });

  it("does not reconnect after 4000 (replaced by a newer connection)", async () => {
    const { connection, peer } = await connected();
    const acked = connection.send({ type: "chat", text: "lost" });
    await peer.inbox.next();
    const closed = connection.waitFor("status", (status) => status === "closed");
    peer.socket.close(4000, "replaced");
    const [, reason] = await closed;
    expect(reason).toMatch(/replaced/);
    await expect(acked).rejects.toBeInstanceOf(ConnectionClosedError);
    await quietPeriod(100);
    expect(server.handshakes).toBe(1);
  });

  it("backs off exponentially, capped, and gives up after repeated refused handshakes", async () => {
    await server.close();
    server = await FakeServer.start({ refuseHandshakes: true });
    const connection = newConnection({
      backoff: { initialMs: 2, maxMs: 8, random: () => 1 },
      maxFailedHandshakes: 6,
      giveUpAfterMs: 0,
    });
    const delays: number[] = [];
    connection.on("retry", ({ delayMs }) => delays.push(delayMs));
    const error = await connection.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect((error as ConnectionClosedError).reason).toMatch(/6 connection attempts/);
    expect(delays).toEqual([2, 4, 8, 8, 8]);
    expect(server.handshakes).toBe(6);
    expect(connection.status).toBe("closed");
  });
});

describe("LobbyConnection: the game's state, pacing, signals", () => {
  it("folds game entries into `state` with the game's rules, after the welcome's snapshot", async () => {
    const { connection, peer } = await connected({ game: counterRules } as Partial<LobbyConnectionOptions>, 2);
    const states: unknown[] = [];
    connection.on("state", (state) => states.push(state));
    expect(connection.state).toBe(0);
    peer.gameEvent(3, 5);
    peer.event(4);
    peer.gameEvent(5, 2);
    await connection.waitFor("event", ({ seq }) => seq === 5);
    expect(connection.state).toBe(7);
    expect(states).toEqual([5, 5, 7]);
    expect(connection.lobby?.seq).toBe(5);
    expect(connection.lobby?.chat.map((line) => line.seq)).toEqual([4]);
  });

  it("does not fold replayed entries the welcome's snapshot already holds", async () => {
    const { connection, peer } = await connected({ game: counterRules } as Partial<LobbyConnectionOptions>, 1);
    peer.socket.close(1012, "handoff");
    const next = await server.peers.next();
    // The welcome is as of seq 3 (the game is at 0 in this fake); entries 2 and 3 replay after it.
    next.welcome(3);
    next.gameEvent(2, 100);
    next.gameEvent(3, 100);
    next.gameEvent(4, 1);
    await connection.waitFor("event", ({ seq }) => seq === 4);
    expect(connection.state).toBe(1);
  });

  it("paces a backlog by the node's limits: 60 unacked actions all go out, in order, none faster than allowed", async () => {
    const { connection, peer } = await connected();
    peer.socket.close(1012, "handoff");
    const sends = Array.from({ length: 60 }, (_, i) => connection.send({ type: "chat", id: `c${i}`, text: `${i}` }));
    const next = await server.peers.next();
    next.welcome(0, "node-b", { actionsPerSecond: 100, actionBurst: 10 });
    const arrivals: { id: string; at: number }[] = [];
    for (let i = 0; i < 60; i++) {
      const frame = await next.inbox.next();
      arrivals.push({ id: frame.id, at: Date.now() });
      next.send({ type: "ack", id: frame.id, seq: i + 1 });
    }
    expect(arrivals.map((a) => a.id)).toEqual(sends.map((_, i) => `c${i}`));
    await Promise.all(sends);
    // 8 in the first burst (10 less a margin), the other 52 at 90/s: at least ~0.5 s.
    const spreadMs = (arrivals.at(-1)?.at ?? 0) - (arrivals[0]?.at ?? 0);
    expect(spreadMs).toBeGreaterThan(400);
  });

  it("sends unacked actions before anything a welcome handler sends", async () => {
    const { connection, peer } = await connected();
    const old = connection.send({ type: "chat", id: "old", text: "first" });
    await peer.inbox.next();
    connection.once("welcome", () => void connection.send({ type: "chat", id: "new", text: "second" }).catch(() => {}));
    peer.socket.close(1012, "handoff");
    const next = await server.peers.next();
    next.welcome(0);
    expect((await next.inbox.next()).id).toBe("old");
    expect((await next.inbox.next()).id).toBe("new");
    next.send({ type: "ack", id: "old", seq: 1 });
    await old;
  });

  it("sends signals only while open, and emits the ones it receives", async () => {
    const { connection, peer } = await connected();
    expect(connection.signal({ x: 1 })).toBe(true);
    expect(await peer.inbox.next()).toEqual({ type: "signal", data: { x: 1 } });
    const received = connection.waitFor("signal");
    peer.send({ type: "signal", from: "p2", data: "typing" });
    expect(await received).toEqual([{ type: "signal", from: "p2", data: "typing" }]);
    connection.close();
    expect(connection.signal("late")).toBe(false);
  });

  it("stops after the server closes normally (the player left) or closes the lobby", async () => {
    for (const code of [1000, 4004]) {
      const { connection, peer } = await connected();
      const closed = connection.waitFor("status", (status) => status === "closed");
      peer.socket.close(code, "bye");
      expect((await closed)[1]).toMatch(/bye/);
    }
    await quietPeriod(60);
    expect(server.handshakes).toBe(2);
  });
});

describe("Backoff", () => {
  it("doubles the ceiling up to maxMs and jitters below it", () => {
    const highest = new Backoff({ initialMs: 10, maxMs: 50, random: () => 0.999_999 });
    expect([1, 2, 3, 4, 5].map(() => highest.next())).toEqual([10, 20, 40, 50, 50]);
    highest.reset();
    expect(highest.next()).toBe(10);
    expect(highest.quick()).toBe(10);

    const jittered = new Backoff({ initialMs: 10, maxMs: 50 });
    for (let i = 0; i < 20; i++) expect(jittered.next()).toBeLessThanOrEqual(50);
  });
});
