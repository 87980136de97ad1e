import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GameTraffic } from "../../infra/ops/game-traffic.js";
import { freePort } from "../../shared/db/embedded.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { expectAckedActionsDurable } from "../helpers/play.js";
import { ProcessGroup } from "../helpers/processes.js";
import { eventually } from "../helpers/wait.js";

/**
 * Issue 2: one node, 20 lobbies of two players chatting and playing through
 * the SDK; the node is SIGKILLed mid-stream and started again. Every acked
 * action must be in the log exactly once, at its acked seq, in order, and
 * every client must have resumed on its own.
 */
describe("a node killed mid-stream loses no acked action", () => {
  let db: TestDatabase;
  let group: ProcessGroup;
  let port: number;

  beforeAll(async () => {
    db = await createTestDatabase("durability");
    port = await freePort();
    group = new ProcessGroup({
      DATABASE_URL: db.url,
      RINGSIDE_SCHEMA: db.schema,
      RINGSIDE_BUS: "postgres",
      NODE_ID: "solo",
      PORT: String(port),
    });
  });

  afterAll(async () => {
    await group?.stopAll();
    await db?.cleanup();
  });

  it("keeps every acked action exactly once and in order across a SIGKILL", async () => {
    const first = await group.start("node");
    const traffic = new GameTraffic({ baseUrl: first.url, lobbies: 20, pauseMs: [5, 20] });
    await traffic.setup();
    traffic.start();
    await eventually(() => traffic.ackCount >= 400, { what: "400 acks before the kill" });

    first.kill("SIGKILL");
    await first.exited;
    const ackedBeforeKill = traffic.ackCount;
    const second = await group.start("node");
    expect(second.port).toBe(port);

    // Every client must come back on the new process and get acks again.
    await eventually(() => traffic.players.every((p) => p.welcomes.length >= 2), { what: "every client resumed" });
    const target = traffic.ackCount + 400;
    await eventually(() => traffic.ackCount >= target, { what: "400 more acks after the restart" });
    await traffic.stop();
    traffic.close();

    const acked = traffic.players.flatMap((p) => p.acked);
    await expectAckedActionsDurable(traffic, db.pool);
    expect(ackedBeforeKill).toBeGreaterThanOrEqual(400);
    expect(acked.length).toBeGreaterThan(ackedBeforeKill);
    // Clients saw every event once and in order (resume with `since` filled the gap).
    for (const player of traffic.players) {
      const seqs = player.events.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(player.failed).toBe(0);
    }
  }, 120_000);
});
