import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  claimOrphanedLobby,
  commitEvents,
  insertLobby,
  type LobbyCommit,
  readLogOf,
  transferLobby,
} from "../../shared/db/lobbies.js";
import { markNodeDead, registerNode, setNodeState } from "../../shared/db/membership.js";
import { createPool, type Pool } from "../../shared/db/pool.js";
import { CODE_ALPHABET } from "../../shared/lobby-code.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

/** Invariant 1 at the database level: claims are exclusive and stale epochs commit nothing. */
describe("lobby ownership and fencing in Postgres", () => {
  let db: TestDatabase;
  let pools: Pool[];

  beforeAll(async () => {
    db = await createTestDatabase("ownership");
    // One pool (one connection) per claimant, so the claims really race in Postgres.
    pools = Array.from({ length: 8 }, () => createPool(db.url, db.schema, 1));
    for (let i = 0; i < 8; i++) {
      await registerNode(db.pool, { id: `n${i}`, url: `http://n${i}`, weight: 1, leaseMs: 60_000 });
      await setNodeState(db.pool, `n${i}`, ["joining"], "active");
    }
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await db.cleanup();
  });

  const chat = (code: string, epoch: number, seq: number): LobbyCommit => ({
    code,
    epoch,
    firstSeq: seq,
    lastSeq: seq,
    status: "waiting",
    playerCount: 1,
    snapshot: null,
    snapshotSeq: null,
    events: [{ seq, playerId: "p", actionId: `a${seq}`, event: { kind: "chat", playerId: "p", text: "hi" } }],
    newPlayers: [],
  });

  it("lets exactly one of several simultaneous claimants take a dead node's lobby", async () => {
    const codes = Array.from({ length: 20 }, (_, i) => `CLAIM${CODE_ALPHABET[i]}`.replace("L", "X"));
    for (const code of codes) await insertLobby(db.pool, { code, owner: "n0", hostName: "h", isPublic: true });
    await markNodeDead(db.pool, "n0", "test");
    for (const code of codes) {
      const results = await Promise.all(pools.slice(1).map((p, i) => claimOrphanedLobby(p, code, `n${i + 1}`)));
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      expect(winners[0]?.epoch).toBe(2);
    }
  });

  it("declares only the incarnation that refused dead, not one restarted under the same id", async () => {
    const old = await registerNode(db.pool, { id: "phoenix", url: "http://p", weight: 1, leaseMs: 60_000 });
    const reborn = await registerNode(db.pool, { id: "phoenix", url: "http://p", weight: 1, leaseMs: 60_000 });
    expect(reborn.incarnation).toBe(old.incarnation + 1);
    expect(await markNodeDead(db.pool, "phoenix", "refused", old.incarnation)).toBe(false);
    expect(await markNodeDead(db.pool, "phoenix", "refused", reborn.incarnation)).toBe(true);
  });

  it("commits nothing under a stale epoch, and keeps the log gapless", async () => {
    await insertLobby(db.pool, { code: "FENCE2", owner: "n1", hostName: "h", isPublic: true });
    expect(await commitEvents(db.pool, "n1", [chat("FENCE2", 1, 1)])).toEqual(new Set(["FENCE2"]));
    // n1 hands the lobby to n2: epoch 2. n1 still thinks it holds epoch 1.
    expect(await transferLobby(db.pool, "FENCE2", { node: "n1", epoch: 1 }, "n2")).toBe(2);
    expect(await commitEvents(db.pool, "n1", [chat("FENCE2", 1, 2)])).toEqual(new Set());
    // Even naming the new epoch does not help a node that is not the owner.
    expect(await commitEvents(db.pool, "n1", [chat("FENCE2", 2, 2)])).toEqual(new Set());
    // A seq that would leave a gap is refused too.
    expect(await commitEvents(db.pool, "n2", [chat("FENCE2", 2, 3)])).toEqual(new Set());
    expect(await commitEvents(db.pool, "n2", [chat("FENCE2", 2, 2)])).toEqual(new Set(["FENCE2"]));
    const log = await readLogOf(db.pool, ["FENCE2"]);
    expect(log.map((e) => [e.seq, e.epoch])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it("lets only the holder of the current epoch hand a lobby off", async () => {
    await insertLobby(db.pool, { code: "HAND22", owner: "n3", hostName: "h", isPublic: true });
    expect(await transferLobby(db.pool, "HAND22", { node: "n4", epoch: 1 }, "n5")).toBeNull();
    expect(await transferLobby(db.pool, "HAND22", { node: "n3", epoch: 7 }, "n5")).toBeNull();
    expect(await transferLobby(db.pool, "HAND22", { node: "n3", epoch: 1 }, "n5")).toBe(2);
    // A live owner's lobby cannot be claimed.
    expect(await claimOrphanedLobby(db.pool, "HAND22", "n6")).toBeNull();
  });

  it("commits a batch for the lobbies still owned and refuses only the fenced one", async () => {
    await insertLobby(db.pool, { code: "BATCH2", owner: "n4", hostName: "h", isPublic: true });
    await insertLobby(db.pool, { code: "BATCH3", owner: "n4", hostName: "h", isPublic: true });
    await transferLobby(db.pool, "BATCH3", { node: "n4", epoch: 1 }, "n5");
    const committed = await commitEvents(db.pool, "n4", [chat("BATCH2", 1, 1), chat("BATCH3", 1, 1)]);
    expect(committed).toEqual(new Set(["BATCH2"]));
    expect((await readLogOf(db.pool, ["BATCH3"])).length).toBe(0);
  });
});
