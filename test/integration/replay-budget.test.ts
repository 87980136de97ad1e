import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RingsideApi } from "../../shared/client/index.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
import { answerTo, nextFrame, openRaw } from "../helpers/raw-socket.js";

/**
 * A resume from before a lobby's recent entries in memory is read from
 * Postgres (up to 10,000 rows). A client reconnecting in a loop with
 * `since=0` must not make the node read the log each time: a few such
 * replays per player, then the welcome alone (its full state).
 */
describe("log replays read from Postgres are budgeted per player", () => {
  let cluster: TestCluster;
  let api: RingsideApi;
  let wsBase: string;
  let lobby: { code: string; token: string };

  beforeAll(async () => {
    cluster = await startCluster({
      label: "replaybudget",
      nodes: 1,
      balancers: 1,
      env: { RINGSIDE_RATE_PER_SECOND: "100000", RINGSIDE_RATE_BURST: "100000" },
    });
    api = new RingsideApi(cluster.balancers[0]?.url as string);
    wsBase = cluster.balancers[0]?.wsUrl as string;
    lobby = await api.createLobby("ann");
    // More entries than the 512 a lobby keeps in memory.
    const socket = await openRaw(`${wsBase}/ws/${lobby.code}?token=${lobby.token}`);
    for (let i = 0; i < 600; i++) socket.ws.send(JSON.stringify({ type: "chat", id: `c${i}`, text: `line ${i}` }));
    expect(await answerTo(socket, "c599")).toMatchObject({ type: "ack" });
    socket.ws.close();
    await socket.closed;
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  /** Resumes from seq 0 and counts the entries replayed before the ack of a probe sent after the welcome. */
  async function resumeFromStart(token: string, probe: string): Promise<{ replayed: number; seq: number }> {
    const socket = await openRaw(`${wsBase}/ws/${lobby.code}?token=${token}&since=0`);
    const welcome = socket.frames[0] as { type: string; seq: number };
    expect(welcome.type).toBe("welcome");
    socket.ws.send(JSON.stringify({ type: "chat", id: probe, text: "still here" }));
    // The replay goes out before anything live: the probe's ack comes after it.
    await answerTo(socket, probe);
    const replayed = socket.frames.filter((f) => f.type === "event" && (f.seq ?? 0) <= welcome.seq).length;
    socket.ws.close();
    await socket.closed;
    return { replayed, seq: welcome.seq };
  }

  it("replays the whole log for the first resumes, then sends the welcome alone", async () => {
    const counts: number[] = [];
    let lastSeq = 0;
    for (let i = 0; i < 6; i++) {
      const { replayed, seq } = await resumeFromStart(lobby.token, `probe${i}`);
      counts.push(replayed);
      lastSeq = seq;
    }
    expect(counts.slice(0, 4).every((n) => n >= 601)).toBe(true);
    expect(counts.slice(4)).toEqual([0, 0]);

    // A resume from within the recent entries is served from memory, budget or not.
    const recent = await openRaw(`${wsBase}/ws/${lobby.code}?token=${lobby.token}&since=${lastSeq - 3}`);
    await nextFrame(recent, (f) => f.type === "event" && f.seq === lastSeq);
    recent.ws.close();
    await recent.closed;
  });

  it("keeps each player's budget apart", async () => {
    const ben = await api.joinLobby(lobby.code, "ben");
    const { replayed } = await resumeFromStart(ben.token, "ben-probe");
    expect(replayed).toBeGreaterThanOrEqual(601);
  });
});
