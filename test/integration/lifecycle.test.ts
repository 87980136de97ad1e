import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { LobbyConnection, RingsideApi, type SocketConstructor } from "../../shared/client/index.js";
import { connectFourRules } from "../../shared/games/connect-four/rules.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
import type { RingsideProcess } from "../helpers/processes.js";
import { openRaw } from "../helpers/raw-socket.js";
import { eventually, within } from "../helpers/wait.js";

/**
 * The lobby lifecycle with real processes and short windows: idle lobbies
 * leave memory and come back on request; lobbies left alone close (finished
 * ones sooner); closed logs are retired after the retention period; and after
 * a SIGKILL, survivors claim only the active lobbies at once, the rest on
 * their next request.
 */

const WINDOWS = {
  RINGSIDE_IDLE_UNLOAD_MS: "400",
  RINGSIDE_LIFECYCLE_MS: "100",
  RINGSIDE_FINISHED_CLOSE_MS: "1500",
  RINGSIDE_ABANDONED_CLOSE_MS: "4000",
  RINGSIDE_RETENTION_MS: "1500",
  RINGSIDE_ACTIVE_WINDOW_MS: "1000",
};

async function metric(node: RingsideProcess, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(name) && (line[name.length] === " " || line[name.length] === "{")) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

describe("the lobby lifecycle", () => {
  let cluster: TestCluster;
  let api: RingsideApi;
  let base: string;
  const connections: { close(): void }[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ label: "lifecycle", nodes: 2, balancers: 1, env: WINDOWS });
    base = cluster.balancers[0]?.url as string;
    api = new RingsideApi(base);
  }, 90_000);

  afterAll(async () => {
    for (const c of connections) c.close();
    await cluster?.stop();
  });

  const connect = async (code: string, token: string) => {
    const connection = new LobbyConnection({
      baseUrl: base,
      code,
      token,
      game: connectFourRules,
      WebSocket: WebSocket as SocketConstructor,
    });
    connections.push(connection);
    await connection.connect();
    return connection;
  };
  const nodeOf = async (code: string) => {
    const id = (await api.getLobby(code)).node;
    return cluster.nodes.find((n) => n.env.NODE_ID === id) as RingsideProcess;
  };

  it("unloads a lobby nobody uses, keeps one with a player, and reloads the idle one on request", async () => {
    const idle = await api.createLobby("idle");
    const busy = await api.createLobby("busy");
    const player = await connect(busy.code, busy.token);
    const closes: number[] = [];
    player.on("close", ({ code }) => closes.push(code));
    const owner = await nodeOf(idle.code);
    await eventually(async () => (await metric(owner, "ringside_lobbies_unloaded_total")) >= 1, {
      what: "the idle lobby unloaded",
    });
    // Still owned, served again from its log on the next request, at the same seq.
    expect(await api.getLobby(idle.code)).toMatchObject({
      code: idle.code,
      seq: 1,
      status: "waiting",
      node: owner.env.NODE_ID,
    });
    await owner.waitForLine(new RegExp(`${idle.code}.*"how":"restored","trigger":"request"`));
    // The lobby with a player connected stays loaded: its socket was never closed.
    await new Promise((r) => setTimeout(r, 800)); // twice the idle window: showing that nothing happened
    expect(closes).toEqual([]);
    expect(player.status).toBe("open");
  });

  it("closes a finished lobby left alone, and an abandoned one later; closed lobbies refuse joins", async () => {
    const host = await api.createLobby("host");
    const guest = await api.joinLobby(host.code, "guest");
    const a = await connect(host.code, host.token);
    const b = await connect(host.code, guest.token);
    // Seat 1 (the host) opens round 1; each ack means the move is durable before the next is sent.
    for (const [i, column] of [0, 1, 0, 1, 0, 1, 0].entries())
      await (i % 2 === 0 ? a : b).send({ type: "move", column });
    await eventually(() => a.lobby?.status === "finished", { what: "the round to end" });
    a.close();
    b.close();
    const abandoned = await api.createLobby("alone");
    await eventually(async () => (await api.getLobby(host.code)).status === "closed", {
      what: "the finished lobby closed",
      timeoutMs: 20_000,
    });
    expect((await api.getLobby(host.code)).statusText).toBe("game over");
    // The abandoned one (not finished) waits for its longer window.
    expect((await api.getLobby(abandoned.code)).status).toBe("waiting");
    await eventually(async () => (await api.getLobby(abandoned.code)).status === "closed", {
      what: "the abandoned lobby closed",
      timeoutMs: 20_000,
    });
    const join = await fetch(`${base}/api/lobbies/${abandoned.code}/join`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "late" }),
    });
    expect(join.status).toBe(409);
    expect(((await join.json()) as { error: string }).error).toBe("lobby_closed");
    // A player of a closed lobby sees its last state once, then 4004: do not come back.
    const socket = await openRaw(`${cluster.balancers[0]?.wsUrl}/ws/${abandoned.code}?token=${abandoned.token}`);
    expect(socket.frames[0]).toMatchObject({ type: "welcome", lobby: { status: "closed" } });
    expect(await within(socket.closed, "close of a closed lobby's socket")).toBe(4004);
  }, 60_000);

  it("retires a closed lobby's log after the retention period: 410, and its events are gone", async () => {
    const lobby = await api.createLobby("short-lived");
    await eventually(async () => (await api.getLobby(lobby.code)).status === "closed", {
      what: "the lobby closed",
      timeoutMs: 20_000,
    });
    await eventually(async () => (await fetch(`${base}/api/lobbies/${lobby.code}`)).status === 410, {
      what: "the closed lobby retired",
      timeoutMs: 20_000,
    });
    const { rows } = await cluster.db.pool.query("SELECT count(*)::int AS n FROM lobby_events WHERE code = $1", [
      lobby.code,
    ]);
    expect(rows[0]?.n).toBe(0);
  }, 60_000);

  it("after a SIGKILL claims the active lobbies at once and the idle ones on their next request", async () => {
    const victim = cluster.nodes[0] as RingsideProcess;
    const survivor = cluster.nodes[1] as RingsideProcess;
    // Lobbies on the victim: one with a player acting, several left idle past the active window.
    const created = await Promise.all(Array.from({ length: 16 }, (_, i) => api.createLobby(`p${i}`)));
    const onVictim = [];
    for (const lobby of created) if ((await api.getLobby(lobby.code)).node === victim.env.NODE_ID) onVictim.push(lobby);
    expect(onVictim.length).toBeGreaterThanOrEqual(3);
    const [active, ...idle] = onVictim as [(typeof onVictim)[number], ...typeof onVictim];
    await new Promise((r) => setTimeout(r, 1500)); // past RINGSIDE_ACTIVE_WINDOW_MS for the idle ones
    const player = await connect(active.code, active.token);
    await player.send({ type: "chat", text: "still here" });

    const releasedBefore = await metric(survivor, "ringside_orphans_released_total");
    victim.kill("SIGKILL");
    await victim.exited;
    await eventually(async () => (await player.send({ type: "chat", text: "back" })).seq, {
      what: "the active lobby served again",
    });
    expect(player.node).toBe(survivor.env.NODE_ID);
    await eventually(async () => (await metric(survivor, "ringside_orphans_released_total")) > releasedBefore, {
      what: "the idle lobbies released",
    });
    const owners = await cluster.db.pool.query<{ code: string; owner_node: string | null }>(
      "SELECT code, owner_node FROM lobbies WHERE code = ANY($1::text[])",
      [idle.map((l) => l.code)],
    );
    expect(owners.rows.every((r) => r.owner_node === null)).toBe(true);
    // The next request claims one lazily.
    const lazily = await api.getLobby(idle[0]?.code as string);
    expect(lazily.node).toBe(survivor.env.NODE_ID);
    // Its log line comes through the child's stdout pipe, possibly after the answer.
    await eventually(
      () => survivor.lines.some((l) => l.includes(idle[0]?.code as string) && l.includes('"trigger":"request"')),
      { what: "the survivor's log of the lazy load" },
    );
  }, 60_000);
});
