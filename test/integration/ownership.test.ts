import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  claimOrphanedLobby,
  findLoadableLobby,
  listOwnedLobbiesPage,
  readLogOf,
  transferLobby,
} from "../../shared/db/lobbies.js";
import { commitEvents, type LobbyCommit } from "../../shared/db/lobby-commit.js";
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

  const GAMES = { ids: ["connect-four"], versions: [1] };

  const chat = (code: string, epoch: number, seq: number, create = false): LobbyCommit => ({
    code,
    epoch,
    gameId: "connect-four",
    gameVersion: 1,
    create: create ? { hostName: "h", isPublic: true } : null,
    firstSeq: seq,
    lastSeq: seq,
    row: { status: "waiting", statusText: "", playerCount: 1, nextTimerAt: null },
    rowChanged: true,
    snapshot: null,
    snapshotSeq: null,
    events: [{ seq, playerId: "p", actionId: `a${seq}`, event: { kind: "chat", playerId: "p", text: "hi" } }],
    newPlayers: [],
  });

  /** A lobby row is created by its first group commit. */
  async function createLobby(code: string, owner: string): Promise<void> {
    expect(await commitEvents(db.pool, owner, [chat(code, 1, 1, true)])).toEqual(new Set([code]));
  }

  it("lets exactly one of several simultaneous claimants take a dead node's lobby", async () => {
    const codes = Array.from({ length: 20 }, (_, i) => `CLAIM${CODE_ALPHABET[i]}`.replace("L", "X"));
    for (const code of codes) await createLobby(code, "n0");
    await markNodeDead(db.pool, "n0", "test");
    for (const code of codes) {
      const results = await Promise.all(pools.slice(1).map((p, i) => claimOrphanedLobby(p, code, `n${i + 1}`, GAMES)));
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
    await createLobby("FENCE2", "n1");
    expect(await commitEvents(db.pool, "n1", [chat("FENCE2", 1, 2)])).toEqual(new Set(["FENCE2"]));
    // n1 hands the lobby to n2: epoch 2. n1 still thinks it holds epoch 1.
    expect(await transferLobby(db.pool, "FENCE2", { node: "n1", epoch: 1 }, "n2")).toBe(2);
    expect(await commitEvents(db.pool, "n1", [chat("FENCE2", 1, 3)])).toEqual(new Set());
    // Even naming the new epoch does not help a node that is not the owner.
    expect(await commitEvents(db.pool, "n1", [chat("FENCE2", 2, 3)])).toEqual(new Set());
    // A seq that would leave a gap is refused too.
    expect(await commitEvents(db.pool, "n2", [chat("FENCE2", 2, 4)])).toEqual(new Set());
    expect(await commitEvents(db.pool, "n2", [chat("FENCE2", 2, 3)])).toEqual(new Set(["FENCE2"]));
    const log = await readLogOf(db.pool, ["FENCE2"]);
    expect(log.map((e) => [e.seq, e.epoch])).toEqual([
      [1, 1],
      [2, 1],
      [3, 2],
    ]);
  });

  it("lets only the holder of the current epoch hand a lobby off", async () => {
    await createLobby("HAND22", "n3");
    expect(await transferLobby(db.pool, "HAND22", { node: "n4", epoch: 1 }, "n5")).toBeNull();
    expect(await transferLobby(db.pool, "HAND22", { node: "n3", epoch: 7 }, "n5")).toBeNull();
    expect(await transferLobby(db.pool, "HAND22", { node: "n3", epoch: 1 }, "n5")).toBe(2);
    // A live owner's lobby cannot be claimed.
    expect(await claimOrphanedLobby(db.pool, "HAND22", "n6", GAMES)).toBeNull();
  });

  it("finds a lobby to load in one statement: its own reclaimed (epoch + 1) with the log after its snapshot, any other untouched", async () => {
    await createLobby("TAKE22", "n1");
    expect(await commitEvents(db.pool, "n1", [chat("TAKE22", 1, 2)])).toEqual(new Set(["TAKE22"]));
    expect(await commitEvents(db.pool, "n1", [chat("TAKE22", 1, 3)])).toEqual(new Set(["TAKE22"]));

    // Another node finds who owns it, and changes nothing.
    const seen = await findLoadableLobby(db.pool, "TAKE22", "n2");
    expect(seen).toMatchObject({ owner: "n1", epoch: 1, ownerAlive: true, reclaimed: null, events: [] });

    // Its owner reclaims it and gets its whole log (no snapshot yet), in order.
    const own = await findLoadableLobby(db.pool, "TAKE22", "n1");
    expect(own?.reclaimed).toMatchObject({ code: "TAKE22", owner: "n1", epoch: 2, lastSeq: 3, snapshotSeq: 0 });
    expect(own?.events.map((e) => [e.seq, e.actionId])).toEqual([
      [1, "a1"],
      [2, "a2"],
      [3, "a3"],
    ]);
    expect(own?.events[2]?.event).toEqual({ kind: "chat", playerId: "p", text: "hi" });
    // The old epoch is fenced off.
    expect(await commitEvents(db.pool, "n1", [chat("TAKE22", 1, 4)])).toEqual(new Set());
    expect(await findLoadableLobby(db.pool, "NOSUCH", "n1")).toBeNull();
  });

  it("lists every owned lobby a page at a time, in code order, for the balancers' full read", async () => {
    const before = new Set<string>();
    for (let after: string | null = null; ; ) {
      const page = await listOwnedLobbiesPage(db.pool, after, 1000);
      for (const row of page.rows) before.add(row.code);
      if (page.rows.length < 1000) break;
      after = page.rows.at(-1)?.code ?? null;
    }
    const mine = Array.from({ length: 12 }, (_, i) => `PAGE${CODE_ALPHABET[i]}${CODE_ALPHABET[i + 1]}`);
    for (const code of mine) await createLobby(code, "n7");
    await db.pool.query("UPDATE lobbies SET owner_node = NULL WHERE code = $1", [mine[0]]);
    const seen: string[] = [];
    for (let after: string | null = null; ; ) {
      const page = await listOwnedLobbiesPage(db.pool, after, 5);
      expect(page.rows.length).toBeLessThanOrEqual(5);
      seen.push(...page.rows.map((r) => r.code));
      if (page.rows.length < 5) break;
      after = page.rows.at(-1)?.code ?? null;
    }
    expect(seen).toEqual([...seen].sort());
    expect(seen.filter((c) => !before.has(c))).toEqual(mine.slice(1).sort());
  });

  it("creates a lobby only when its code is free", async () => {
    await createLobby("TAKEN2", "n1");
    // Another node picking the same code commits nothing: no second row, no second log.
    expect(await commitEvents(db.pool, "n2", [chat("TAKEN2", 1, 1, true)])).toEqual(new Set());
    expect((await readLogOf(db.pool, ["TAKEN2"])).length).toBe(1);
  });

  it("lets no node claim a lobby whose game (at its version) it does not have", async () => {
    await createLobby("GAMES2", "n6");
    await markNodeDead(db.pool, "n6", "test");
    expect(await claimOrphanedLobby(db.pool, "GAMES2", "n7", { ids: ["chess"], versions: [9] })).toBeNull();
    expect(await claimOrphanedLobby(db.pool, "GAMES2", "n7", { ids: ["connect-four"], versions: [0] })).toBeNull();
    expect(await claimOrphanedLobby(db.pool, "GAMES2", "n7", GAMES)).toMatchObject({
      epoch: 2,
      gameId: "connect-four",
    });
  });

  it("commits a batch for the lobbies still owned and refuses only the fenced one", async () => {
    await createLobby("BATCH2", "n4");
    await createLobby("BATCH3", "n4");
    await transferLobby(db.pool, "BATCH3", { node: "n4", epoch: 1 }, "n5");
    const committed = await commitEvents(db.pool, "n4", [chat("BATCH2", 1, 2), chat("BATCH3", 1, 2)]);
    expect(committed).toEqual(new Set(["BATCH2"]));
    expect((await readLogOf(db.pool, ["BATCH3"])).length).toBe(1);
  });
});
