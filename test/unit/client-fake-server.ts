import { once } from "node:events";
import type { AddressInfo } from "node:net";
import type WebSocket from "ws";
import { WebSocketServer } from "ws";
import type { LobbyView, ServerFrame } from "../../shared/wire.js";

/** What the SDK sends: actions always carry an id. */
export type SentFrame = { type: string; id: string } & Record<string, unknown>;

/**
 * A fake balancer + node for the client SDK tests: it accepts /ws/:code and
 * hands each socket to the test, which then plays the server side by hand.
 */

export const CODE = "ABCDEF";
export const TOKEN = "ABCDEF.player-1.mac";
export const PLAYER = "player-1";

/** Items in arrival order; next() waits for one when none is queued. */
export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((item: T) => void)[] = [];

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  }

  next(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift() as T);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** A counter game for the fake server: its state is a number, its events add to it. */
export const counterRules = { id: "counter", apply: (state: number, event: { add: number }) => state + event.add };

export function snapshot(seq: number, game = 0): LobbyView<number> {
  return {
    code: CODE,
    status: "waiting",
    statusText: "",
    gameId: "counter",
    gameVersion: 1,
    players: [{ id: PLAYER, name: "Ann", seat: 1 }],
    seq,
    game,
    chat: [],
  };
}

/** The server side of one client socket, driven step by step by the test. */
export class Peer {
  readonly inbox = new AsyncQueue<SentFrame>();
  readonly closed: Promise<number>;

  constructor(
    readonly socket: WebSocket,
    readonly url: URL,
  ) {
    socket.on("message", (data) => this.inbox.push(JSON.parse(String(data)) as SentFrame));
    this.closed = new Promise((resolve) => socket.on("close", (code) => resolve(code)));
  }

  send(message: ServerFrame): void {
    this.socket.send(JSON.stringify(message));
  }

  welcome(seq: number, node = "node-a", limits?: { actionsPerSecond: number; actionBurst: number }): void {
    this.send({ type: "welcome", node, seq, player: PLAYER, lobby: snapshot(seq), ...(limits ? { limits } : {}) });
  }

  /** A game entry that adds `add` to the counter. */
  gameEvent(seq: number, add: number): void {
    this.send({ type: "event", seq, event: { kind: "game", playerId: PLAYER, action: "add", events: [{ add }] } });
  }

  event(seq: number): void {
    this.send({ type: "event", seq, event: { kind: "chat", playerId: PLAYER, text: `line ${seq}` } });
  }
}

/** A stand-in for the balancer + node: accepts /ws/:code and hands each socket to the test. */
export class FakeServer {
  readonly peers = new AsyncQueue<Peer>();
  handshakes = 0;
  private readonly wss: WebSocketServer;

  private constructor(options: { refuseHandshakes?: boolean }) {
    this.wss = new WebSocketServer({
      host: "127.0.0.1",
      port: 0,
      verifyClient: (_info, accept) => {
        this.handshakes++;
        if (options.refuseHandshakes) accept(false, 401);
        else accept(true);
      },
    });
    this.wss.on("connection", (socket, request) => {
      this.peers.push(new Peer(socket, new URL(request.url ?? "/", "http://fake")));
    });
  }

  static async start(options: { refuseHandshakes?: boolean } = {}): Promise<FakeServer> {
    const server = new FakeServer(options);
    await once(server.wss, "listening");
    return server;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}
