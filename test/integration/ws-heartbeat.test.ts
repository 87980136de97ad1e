import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RingsideApi } from "../../shared/client/index.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
import { openRaw } from "../helpers/raw-socket.js";
import { within } from "../helpers/wait.js";

const PING_MS = 600;

/**
 * The node's WebSocket heartbeat on a real node process (pings are sent a
 * slice of the sockets at a time, see node/socket-heartbeat.ts): a client that
 * answers pings stays connected ping after ping; one that stops answering is
 * closed, and not before its ping is a period old.
 */
describe("websocket heartbeat", () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startCluster({
      label: "ws_heartbeat",
      nodes: 1,
      balancers: 0,
      env: { RINGSIDE_WS_PING_MS: String(PING_MS) },
    });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it("keeps a socket that answers pings and closes one that does not", async () => {
    const node = cluster.nodes[0] as { url: string; wsUrl: string };
    const api = new RingsideApi(node.url);
    const host = await api.createLobby("answers");
    const guest = await api.joinLobby(host.code, "silent");
    const answering = await openRaw(`${node.wsUrl}/ws/${host.code}?token=${host.token}`);
    const silent = await openRaw(`${node.wsUrl}/ws/${host.code}?token=${guest.token}`, { autoPong: false });
    const pingsOf = (ws: typeof answering.ws) => {
      const at: number[] = [];
      ws.on("ping", () => at.push(Date.now()));
      return at;
    };
    const answeringPings = pingsOf(answering.ws);
    const silentPings = pingsOf(silent.ws);

    const closeCode = await within(silent.closed, "the silent socket closed by the node", 20_000);
    const closedAt = Date.now();
    expect(closeCode).toBe(1006); // terminated: no close handshake with a peer that does not answer
    expect(silentPings.length).toBeGreaterThanOrEqual(1);
    expect(closedAt - (silentPings[0] as number)).toBeGreaterThanOrEqual(PING_MS - 100);

    // The answering socket is pinged again and again and stays open: its pongs count.
    while (answeringPings.length < 4) await within(once(answering.ws, "ping"), "the next ping", 20_000);
    expect(answering.ws.readyState).toBe(answering.ws.OPEN);
    answering.ws.close();
  }, 60_000);
});
