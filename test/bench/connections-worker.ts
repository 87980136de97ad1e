import WebSocket from "ws";
import { LobbyConnection, type SocketConstructor } from "../../shared/client/index.js";

/**
 * One load-generator process of `bench:connections` (a child, driven over
 * IPC): holds its share of the players as SDK connections (the SDK's own
 * reconnect and jittered backoff), each from its own loopback source address
 * so that tens of thousands of sockets do not run out of ephemeral ports.
 * All players of a lobby live in the same worker, so a broadcast's latency
 * is measured on one clock.
 */

export type Player = { code: string; token: string; base: string };
export type WorkerCommand =
  | { type: "connect"; players: Player[]; sourceAddress: string; concurrency: number }
  | { type: "broadcast"; chatsPerSecond: number; seconds: number }
  | { type: "storm"; victim: string; timeoutMs: number }
  | { type: "close" };
export type WorkerReply =
  | { type: "connected"; ok: number; failed: number; firstError?: string; byNode: Record<string, number> }
  | { type: "broadcast"; latencies: number[]; sent: number }
  | {
      type: "storm";
      ackedAt: number[];
      welcomedAt: number[];
      retries: number;
      /** Why connections closed before their player was back: "<close code> <reason>" -> count. */
      closes: Record<string, number>;
      missing: number;
    }
  | { type: "closed" }
  | { type: "ready" };

type Lobby = { code: string; players: LobbyConnection[] };

const now = () => performance.timeOrigin + performance.now();
const lobbies = new Map<string, Lobby>();
const all: LobbyConnection[] = [];
let chatCounter = 0;

function socketFrom(sourceAddress: string): SocketConstructor {
  return class extends WebSocket {
    constructor(url: string) {
      super(url, { perMessageDeflate: false, localAddress: sourceAddress });
    }
  } as unknown as SocketConstructor;
}

async function connect(command: Extract<WorkerCommand, { type: "connect" }>): Promise<WorkerReply> {
  const ws = socketFrom(command.sourceAddress);
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const one = async (player: Player) => {
    const connection = new LobbyConnection({
      baseUrl: player.base,
      code: player.code,
      token: player.token,
      WebSocket: ws,
      giveUpAfterMs: Number.POSITIVE_INFINITY,
      ackTimeoutMs: 120_000,
    });
    connection.on("error", () => {});
    try {
      await connection.connect();
      const lobby = lobbies.get(player.code) ?? { code: player.code, players: [] };
      lobby.players.push(connection);
      lobbies.set(player.code, lobby);
      all.push(connection);
    } catch (err) {
      failed++;
      firstError ??= (err as Error).message;
    }
  };
  const lanes = Array.from({ length: command.concurrency }, async () => {
    while (next < command.players.length) await one(command.players[next++] as Player);
  });
  await Promise.all(lanes);
  const byNode: Record<string, number> = {};
  for (const c of all) byNode[c.node ?? "?"] = (byNode[c.node ?? "?"] ?? 0) + 1;
  return { type: "connected", ok: all.length, failed, firstError, byNode };
}

/** Chats from random players at a fixed rate; every other player of the lobby times the broadcast. */
async function broadcast(command: Extract<WorkerCommand, { type: "broadcast" }>): Promise<WorkerReply> {
  const latencies: number[] = [];
  const sentAt = new Map<string, number>();
  const listeners: [LobbyConnection, (e: { event: unknown }) => void][] = [];
  for (const lobby of lobbies.values()) {
    for (const connection of lobby.players) {
      const listener = (e: { event: unknown }) => {
        const text = (e.event as { text?: unknown }).text;
        const at = typeof text === "string" ? sentAt.get(text) : undefined;
        if (at !== undefined) latencies.push(now() - at);
      };
      connection.on("event", listener);
      listeners.push([connection, listener]);
    }
  }
  const codes = [...lobbies.keys()];
  const total = Math.round(command.chatsPerSecond * command.seconds);
  const gapMs = 1000 / command.chatsPerSecond;
  const started = now();
  for (let i = 0; i < total && codes.length > 0; i++) {
    const wait = started + i * gapMs - now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const lobby = lobbies.get(codes[i % codes.length] as string) as Lobby;
    const sender = lobby.players[Math.floor(Math.random() * lobby.players.length)] as LobbyConnection;
    const text = `b${process.pid}-${chatCounter++}`;
    sentAt.set(text, now());
    sender.send({ type: "chat", text }).catch(() => {});
  }
  // The last broadcasts arrive well within a second on a working cluster.
  await new Promise((r) => setTimeout(r, 2000));
  for (const [connection, listener] of listeners) connection.off("event", listener);
  return { type: "broadcast", latencies, sent: total };
}

/** After the victim dies: each player, once welcomed by another node, sends one chat; reports when each was acked. */
function storm(command: Extract<WorkerCommand, { type: "storm" }>): Promise<WorkerReply> {
  return new Promise((resolve) => {
    const ackedAt: number[] = [];
    const welcomedAt: number[] = [];
    let retries = 0;
    const closes: Record<string, number> = {};
    // Only the victim's players reconnect; the others' connections are not affected.
    const affected = all.filter((c) => c.node === command.victim);
    let left = affected.length;
    const finish = () => resolve({ type: "storm", ackedAt, welcomedAt, retries, closes, missing: left });
    const deadline = setTimeout(finish, command.timeoutMs);
    const done = () => {
      left--;
      if (left === 0) {
        clearTimeout(deadline);
        finish();
      }
    };
    for (const connection of affected) {
      const onWelcome = (welcome: { node: string }) => {
        if (welcome.node === command.victim) return;
        connection.off("welcome", onWelcome);
        welcomedAt.push(now());
        connection
          .send({ type: "chat", text: "back" })
          .then(() => ackedAt.push(now()))
          .catch(() => {})
          .finally(done);
      };
      connection.on("welcome", onWelcome);
      connection.on("retry", () => retries++);
      // Every close of an affected player's connection: the kill's, then each failed attempt's.
      const onClose = ({ code, reason }: { code: number; reason: string }) => {
        const key = `${code} ${reason.replace(/[A-Z0-9]{6}/g, "<code>").slice(0, 60)}`;
        closes[key] = (closes[key] ?? 0) + 1;
      };
      connection.on("close", onClose);
    }
    if (left === 0) finish();
  });
}

process.on("message", (command: WorkerCommand) => {
  const reply = (r: WorkerReply) => process.send?.(r);
  if (command.type === "connect") void connect(command).then(reply);
  else if (command.type === "broadcast") void broadcast(command).then(reply);
  else if (command.type === "storm") void storm(command).then(reply);
  else {
    for (const connection of all) connection.close();
    reply({ type: "closed" });
  }
});
// The bench went away (finished, or interrupted): so do its players.
process.on("disconnect", () => process.exit(0));
process.send?.({ type: "ready" });
