import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommitQueue, type Settled } from "../../node/commit-queue.js";
import type { LiveLobby, LobbyConnection } from "../../node/live-lobby.js";
import { LobbyRegistry } from "../../node/lobby-registry.js";
import { readLogOf } from "../../shared/db/lobbies.js";
import { commitEvents, findLoggedActions } from "../../shared/db/lobby-commit.js";
import { GameCatalog } from "../../shared/game/catalog.js";
import { connectFour } from "../../shared/games/connect-four/game.js";
import { createLogger } from "../../shared/log.js";
import type { ServerFrame } from "../../shared/wire.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { eventually } from "../helpers/wait.js";

/**
 * Invariant 6 inside the group commit, against a real Postgres: one lobby's
 * entry that Postgres refuses costs that entry only; the other lobbies in the
 * same statement commit, and the lobby itself stays loaded and serving. An
 * action id re-sent after the in-memory window forgot it is acked with its
 * original seq, never logged twice.
 */
describe("group commit isolation", () => {
  let db: TestDatabase;
  let registry: LobbyRegistry;
  let queue: CommitQueue;
  const unloaded: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase("isolation");
    const log = createLogger("test");
    log.level = "silent";
    queue = new CommitQueue(
      (batch) => commitEvents(db.pool, "n1", batch),
      (code, actions) => findLoggedActions(db.pool, code, actions),
      {
        onFailed: (lobby) => {
          unloaded.push(lobby.code);
          registry.unload(lobby, 1012, "test");
        },
        rebuild: (lobby, pending) => registry.rebuild(lobby, pending),
      },
    );
    registry = new LobbyRegistry({
      pool: db.pool,
      nodeId: "n1",
      queue,
      games: new GameCatalog([connectFour]),
      maxMembers: 8,
      log,
      now: () => Date.now(),
      canServe: () => true,
    });
  });

  afterAll(async () => {
    await db.cleanup();
  });

  /** A lobby with its host connected through a fake socket that records every frame. */
  async function lobbyWithHost(): Promise<{ lobby: LiveLobby; host: string; frames: ServerFrame[] }> {
    const { lobby, playerId } = await registry.create(null, { name: "host" }, undefined, {});
    const frames: ServerFrame[] = [];
    const connection: LobbyConnection = {
      playerId,
      send: (frame) => frames.push(frame),
      sendSerialized: (text) => frames.push(JSON.parse(text) as ServerFrame),
      close: () => {},
    };
    lobby.connections.set(playerId, connection);
    return { lobby, host: playerId, frames };
  }

  const chat = (id: string, text = id) => ({ type: "chat" as const, id, text });

  it("commits every other lobby of a statement that one lobby's entry made fail, and keeps that lobby serving", async () => {
    const lobbies = await Promise.all(Array.from({ length: 5 }, () => lobbyWithHost()));
    const [victim, ...others] = lobbies as [Awaited<ReturnType<typeof lobbyWithHost>>, ...typeof lobbies];
    // A first statement in flight, so that everything below waits and goes out as ONE batch.
    await registry.submit(others[0]?.lobby as LiveLobby, others[0]?.host as string, chat("warm-up"));
    // An entry Postgres refuses (a NUL), slipped past the edge checks straight into the queue.
    const poisoned = new Promise<Settled>((settle) => {
      const { lobby, host } = victim;
      const seq = lobby.speculative.seq + 1;
      const entry = { kind: "chat" as const, playerId: host, text: "bad\u0000text" };
      lobby.speculative.apply(seq, entry, "poison");
      queue.enqueue({
        lobby,
        seq,
        entry,
        playerId: host,
        actionId: "poison",
        request: { kind: "chat", playerId: host, text: "bad\u0000text" },
        create: null,
        newPlayer: null,
        snapshot: null,
        row: { status: "waiting", statusText: "", playerCount: 1, nextTimerAt: null },
        settle,
      });
    });
    // The victim's next action was decided after the poisoned one: it must be decided again, not lost.
    await registry.submit(victim.lobby, victim.host, chat("after-poison"));
    for (const [i, { lobby, host }] of others.entries()) await registry.submit(lobby, host, chat(`ok-${i}`));

    expect(await poisoned).toMatchObject({ ok: false, code: "internal" });
    for (const [i, { frames }] of others.entries()) {
      await eventually(() => frames.some((f) => f.type === "ack" && f.id === `ok-${i}`), { what: `ack of ok-${i}` });
    }
    await eventually(() => victim.frames.some((f) => f.type === "ack" && f.id === "after-poison"), {
      what: "the victim's next action acked",
    });
    expect(unloaded).toEqual([]);
    expect(victim.lobby.closed).toBe(false);
    const log = await readLogOf(db.pool, [victim.lobby.code]);
    expect(log.map((e) => e.actionId)).toEqual([null, "after-poison"]);
    expect(log.map((e) => e.seq)).toEqual([1, 2]);
    // And it keeps serving.
    expect(await registry.submit(victim.lobby, victim.host, chat("later"))).toEqual({ ok: "queued" });
    await eventually(() => victim.frames.some((f) => f.type === "ack" && f.id === "later"), { what: "ack of later" });
  });

  it("acks an action id re-sent after 200 newer ones with its original seq, and logs it once", async () => {
    const { lobby, host, frames } = await lobbyWithHost();
    await registry.submit(lobby, host, chat("first"));
    await eventually(() => frames.some((f) => f.type === "ack" && f.id === "first"), { what: "ack of first" });
    const firstSeq = lobby.committed.seqOfAction(host, "first");
    for (let i = 0; i < 200; i++) await registry.submit(lobby, host, chat(`n${i}`));
    await eventually(() => lobby.seq === 202, { what: "200 more chats committed" });
    expect(lobby.committed.seqOfAction(host, "first")).toBeUndefined(); // forgotten by the window

    const before = frames.length;
    // Refused-looking (a rematch mid-game is not allowed) or accepted (a chat): both get the old seq back.
    expect(await registry.submit(lobby, host, chat("first", "same id, sent again"))).toEqual({ ok: "queued" });
    await eventually(() => frames.slice(before).some((f) => f.type === "ack" && f.id === "first"), {
      what: "the re-sent id acked",
    });
    const ack = frames.slice(before).find((f) => f.type === "ack" && f.id === "first");
    expect(ack).toEqual({ type: "ack", id: "first", seq: firstSeq });
    const log = await readLogOf(db.pool, [lobby.code]);
    expect(log.filter((e) => e.actionId === "first")).toHaveLength(1);
    expect(log.map((e) => e.seq)).toEqual(Array.from({ length: 202 }, (_, i) => i + 1));
    // The lobby carries on at the next seq.
    await registry.submit(lobby, host, chat("next"));
    await eventually(() => frames.some((f) => f.type === "ack" && f.id === "next" && f.seq === 203), {
      what: "ack of next at seq 203",
    });
    expect(unloaded).toEqual([]);
  });

  it("answers a forgotten id whose action would now be refused with its original seq, not the refusal", async () => {
    const { lobby, host, frames } = await lobbyWithHost();
    const guest = await registry.join(lobby, "guest");
    await registry.submit(lobby, host, { type: "action", id: "opening", name: "move", payload: { column: 3 } });
    await eventually(() => frames.some((f) => f.type === "ack" && f.id === "opening"), { what: "ack of opening" });
    const openingSeq = lobby.committed.seqOfAction(host, "opening");
    for (let i = 0; i < 130; i++) await registry.submit(lobby, host, chat(`h${i}`));
    await eventually(() => lobby.committed.seqOfAction(host, "h129") !== undefined, { what: "130 chats" });
    // It is the guest's turn now: the same move decided again would be "not your turn".
    expect(lobby.committed.seqOfAction(host, "opening")).toBeUndefined();
    const result = await registry.submit(lobby, host, {
      type: "action",
      id: "opening",
      name: "move",
      payload: { column: 3 },
    });
    expect(result).toEqual({ ok: true, seq: openingSeq });
    expect(guest).toMatch(/\S/);
  });
});
