import WebSocket from "ws";
import { type LobbyConnection, RingsideClient, type SocketConstructor } from "../../shared/client/index.js";
import { generateLobbyCode } from "../../shared/lobby-code.js";
import { Ring } from "../../shared/ring.js";

/**
 * Lobbies made and played on one node directly (no balancer), for tests that
 * need to know which node holds which lobby: the code is the test's pick.
 */

export type NodeLobby = { code: string; playerId: string; token: string };

export async function createLobbyOn(nodeUrl: string, code?: string): Promise<NodeLobby> {
  const res = await fetch(`${nodeUrl}/api/lobbies`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(code ? { "x-ringside-code": code } : {}) },
    body: JSON.stringify({ name: "host" }),
  });
  if (res.status !== 201) throw new Error(`create on ${nodeUrl}: ${res.status} ${await res.text()}`);
  return (await res.json()) as NodeLobby;
}

/** A player connection that keeps trying for as long as a test may take (outages included). */
export async function connectTo(nodeUrl: string, lobby: NodeLobby): Promise<LobbyConnection> {
  const client = new RingsideClient(nodeUrl, { WebSocket: WebSocket as unknown as SocketConstructor });
  return client.connect(lobby.code, lobby.token, {
    backoff: { initialMs: 50, maxMs: 300 },
    ackTimeoutMs: 60_000,
    maxFailedHandshakes: 10_000,
    giveUpAfterMs: 600_000,
  });
}

/** `count` lobby codes whose owner on a ring of these node ids (weight 1) is `owner`. */
export function codesOwnedBy(ids: string[], owner: string, count: number): string[] {
  const ring = new Ring(ids.map((id) => ({ id, weight: 1 })));
  const codes: string[] = [];
  while (codes.length < count) {
    const code = generateLobbyCode();
    if (ring.owner(code) === owner && !codes.includes(code)) codes.push(code);
  }
  return codes;
}

/** Sends a chat and resolves with its ack's seq. */
export async function chat(connection: LobbyConnection, text = "hello"): Promise<number> {
  const ack = await connection.send({ type: "chat", text });
  return ack.seq ?? -1;
}
