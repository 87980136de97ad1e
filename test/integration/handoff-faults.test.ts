import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEventBus, type EventBus } from "../../shared/bus/index.js";
import { type RebalanceMessage, Topic } from "../../shared/bus/topics.js";
import type { LobbyConnection } from "../../shared/client/index.js";
import { commitWaitingForLock, createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { chat, codesOwnedBy, connectTo, createLobbyOn, type NodeLobby } from "../helpers/node-lobbies.js";
import { ProcessGroup, type RingsideProcess } from "../helpers/processes.js";
import { eventually, within } from "../helpers/wait.js";

/**
 * Issue 10, F3 and F4: a handoff waits only for the lobby it moves, and a
 * move that fails puts that lobby back in service without stopping the
 * others. Lobbies are created on n1 (codes picked so that n2 is their ring
 * owner once it joins), then n2 joins and an operator asks for a rebalance.
 */

type Setup = {
  db: TestDatabase;
  group: ProcessGroup;
  bus: EventBus;
  n1: RingsideProcess;
  players: LobbyConnection[];
};

async function twoNodes(label: string, env: Record<string, string>, lobbies: string[]) {
  const db = await createTestDatabase(label);
  const group = new ProcessGroup({ DATABASE_URL: db.url, RINGSIDE_SCHEMA: db.schema, PORT: "0", ...env });
  const n1 = await group.start("node", { NODE_ID: "n1" });
  const created: NodeLobby[] = [];
  for (const code of lobbies) created.push(await createLobbyOn(n1.url, code));
  const players = await Promise.all(created.map((lobby) => connectTo(n1.url, lobby)));
  await group.start("node", { NODE_ID: "n2" });
  const bus = createEventBus({ kind: "postgres", databaseUrl: db.url, schema: db.schema });
  const setup: Setup = { db, group, bus, n1, players };
  return setup;
}

async function tearDown(setup: Setup | undefined): Promise<void> {
  if (!setup) return;
  for (const p of setup.players) p.close();
  await setup.bus.close();
  await setup.group.stopAll();
  await setup.db.cleanup();
}

async function ownerOf(db: TestDatabase, code: string): Promise<string | undefined> {
  const { rows } = await db.pool.query<{ owner: string }>("SELECT owner_node AS owner FROM lobbies WHERE code = $1", [
    code,
  ]);
  return rows[0]?.owner;
}

function rebalance(bus: EventBus): Promise<void> {
  const message: RebalanceMessage = { requestedBy: "test", at: new Date().toISOString() };
  return bus.publish(Topic.Rebalance, message);
}

describe("F3: a handoff waits only for the lobby it moves", () => {
  const [stays] = codesOwnedBy(["n1", "n2"], "n1", 1) as [string];
  const [moves] = codesOwnedBy(["n1", "n2"], "n2", 1) as [string];
  let setup: Setup;

  beforeAll(async () => {
    // Deadlines far away: the hung commit stays hung for as long as the test holds the lock.
    const patient = "60000";
    setup = await twoNodes(
      "f3",
      {
        RINGSIDE_COMMIT_TIMEOUT_MS: patient,
        RINGSIDE_LOCK_TIMEOUT_MS: patient,
        RINGSIDE_STATEMENT_TIMEOUT_MS: patient,
      },
      [stays, moves],
    );
  }, 60_000);

  afterAll(() => tearDown(setup));

  it("moves a quiet lobby while another lobby's commit keeps the queue busy", async () => {
    const { db, bus, players } = setup;
    const busy = players[0] as LobbyConnection;
    const locker: pg.PoolClient = await db.pool.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("SELECT 1 FROM lobbies WHERE code = $1 FOR UPDATE", [stays]);
      const stuck = chat(busy, "stuck behind a lock");
      stuck.catch(() => {}); // awaited below
      await commitWaitingForLock(db.pool);
      const asked = Date.now();
      await rebalance(bus);
      await eventually(async () => (await ownerOf(db, moves)) === "n2", {
        timeoutMs: 15_000,
        what: "the quiet lobby handed to n2 while the commit hangs",
      });
      console.info(`[F3] quiet lobby handed off ${Date.now() - asked} ms after the rebalance, a commit still hung`);
      expect(await ownerOf(db, stays)).toBe("n1");
      await locker.query("ROLLBACK");
      await within(stuck, "the stuck action acked once the lock is gone", 15_000);
    } finally {
      await locker.query("ROLLBACK").catch(() => {});
      locker.release();
    }
  });
});

describe("F4: a move that fails leaves its lobby in service and the others move", () => {
  const [refused, ...others] = codesOwnedBy(["n1", "n2"], "n2", 4) as [string, ...string[]];
  let setup: Setup;

  beforeAll(async () => {
    // Created first, so the old serial rebalance tried it first.
    setup = await twoNodes("f4", {}, [refused, ...others]);
    await setup.db.pool.query(`
      CREATE FUNCTION refuse_move() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.code = '${refused}' AND NEW.owner_node IS DISTINCT FROM OLD.owner_node THEN
          RAISE EXCEPTION 'test: this lobby cannot move';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_move BEFORE UPDATE ON lobbies FOR EACH ROW EXECUTE FUNCTION refuse_move();`);
  }, 60_000);

  afterAll(() => tearDown(setup));

  it("keeps serving the lobby whose transfer threw, and moves the rest", async () => {
    const { db, bus, n1, players } = setup;
    const failed = n1.waitForLine(/handoff failed/, 15_000, true);
    await rebalance(bus);
    await eventually(async () => (await Promise.all(others.map((c) => ownerOf(db, c)))).every((o) => o === "n2"), {
      what: "the other lobbies handed to n2",
    });
    await failed;
    expect(await ownerOf(db, refused)).toBe("n1");
    // Back in service on n1: its player's next action is acked there.
    const player = players[0] as LobbyConnection;
    await within(chat(player, "still here"), "an action on the lobby whose move failed", 15_000);
    expect(player.node).toBe("n1");
  });
});
