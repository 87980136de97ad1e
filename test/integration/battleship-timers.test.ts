import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GameTraffic } from "../../infra/ops/game-traffic.js";
import { RingsideApi } from "../../shared/client/index.js";
import { DEV_ADMIN_TOKEN } from "../../shared/config.js";
import { databaseNow, getOwnership } from "../../shared/db/lobbies.js";
import { battleship } from "../../shared/games/battleship/game.js";
import { auditTimers, type LoggedEntry, readLobbyLogs } from "../helpers/battleship-log.js";
import type { TestCluster } from "../helpers/cluster.js";
import { expectAckedActionsDurable, startClusterUnderPlay } from "../helpers/play.js";
import type { RingsideProcess } from "../helpers/processes.js";
import { eventually } from "../helpers/wait.js";

/**
 * Battleship's durable timers on a real cluster (three node processes, one
 * balancer, Postgres). Idle lobbies: two players seated, nobody acts, so the
 * placement deadline places both fleets and then a 1 s turn clock passes the
 * turn again and again, each time as a logged `timer` entry. Every timer the
 * game announces must fire exactly once, by whoever owns the lobby when it
 * is due: after the owner is SIGKILLed, and while a node is drained.
 *
 * The balancer's probes are slowed down here so that a killed node is mostly
 * found by its lease running out (about 3 s) rather than in ~150 ms: the
 * timer each of its lobbies had pending (at most 1 s away) then falls due
 * while nobody owns the lobby.
 */

const LOBBIES = 24;
const OPTIONS = { size: 6, fleet: [2], placementSeconds: 1, turnSeconds: 1, timeoutsToForfeit: 100 };

describe("battleship timers fire exactly once across a SIGKILL failover and a drain", () => {
  let cluster: TestCluster;
  let traffic: GameTraffic;
  let stop: () => Promise<void>;
  const codes: string[] = [];

  beforeAll(async () => {
    // Besides the idle lobbies, a few where two bots play (place, fire, chat, rematch) through the SDK.
    ({ cluster, traffic, stop } = await startClusterUnderPlay({
      label: "bs_timers",
      nodes: 3,
      lobbies: 4,
      pauseMs: [80, 160],
      game: battleship,
      gameOptions: { size: 6, fleet: [3, 2], turnSeconds: 1, placementSeconds: 1 },
      env: { RINGSIDE_PROBE_MS: "10000", RINGSIDE_PROBE_FAILURES: "20" },
    }));
    const api = new RingsideApi(cluster.balancers[0]?.url as string);
    await Promise.all(
      Array.from({ length: LOBBIES }, async () => {
        const host = await api.createLobby("host", { game: "battleship", options: OPTIONS });
        await api.joinLobby(host.code, "guest");
        codes.push(host.code);
      }),
    );
  }, 90_000);

  afterAll(async () => {
    await stop?.();
  });

  const owners = async () =>
    new Map(await Promise.all(codes.map(async (code) => [code, await getOwnership(cluster.db.pool, code)] as const)));

  /** Waits until each of these lobbies logged `count` more timer entries under an epoch above the one given. */
  const timersAfter = (epochs: Map<string, number>, count: number, what: string) =>
    eventually(
      async () => {
        const logs = await readLobbyLogs(cluster.db.pool, [...epochs.keys()]);
        return [...epochs].every(
          ([code, epoch]) =>
            (logs.get(code) ?? []).filter((e) => e.entry.kind === "timer" && e.epoch > epoch).length >= count,
        );
      },
      { timeoutMs: 30_000, everyMs: 250, what },
    );

  /** When a node loaded a lobby under an epoch above `after` (its "lobby loaded" log line), in ms. */
  function loadedAt(node: RingsideProcess, code: string, after: number): number | null {
    for (const line of node.lines) {
      if (!line.includes('"lobby loaded"') || !line.includes(code)) continue;
      const parsed = JSON.parse(line) as { code?: string; epoch?: number; time?: string };
      if (parsed.code === code && (parsed.epoch ?? 0) > after && parsed.time) return Date.parse(parsed.time);
    }
    return null;
  }

  /** Every lobby's log: each timer fired once, only when pending, and none skipped (nobody acts). */
  async function expectEveryTimerOnce(): Promise<Map<string, LoggedEntry[]>> {
    const logs = await readLobbyLogs(cluster.db.pool, codes);
    for (const [code, log] of logs) {
      const audit = auditTimers(log);
      expect({ code, duplicates: audit.duplicates, strays: audit.strays, skipped: audit.superseded }).toEqual({
        code,
        duplicates: [],
        strays: [],
        skipped: [],
      });
      expect(audit.fired.length).toBeGreaterThan(0);
    }
    return logs;
  }

  /**
   * For each moved lobby: the timer it had pending under its old epoch fired exactly once, under a later
   * epoch (the new owner). Returns how many of them were due before the new owner had even loaded the lobby.
   */
  function expectPendingFiredOnceByNewOwner(
    logs: Map<string, LoggedEntry[]>,
    moved: Map<string, number>,
    newOwners: RingsideProcess[],
  ): { dueWhileMoving: number; moved: number } {
    let dueWhileMoving = 0;
    for (const [code, oldEpoch] of moved) {
      const log = logs.get(code) ?? [];
      const pending = auditTimers(log.filter((e) => e.epoch <= oldEpoch)).pending;
      expect(pending, code).not.toBeNull();
      const fired = auditTimers(log).fired.filter((f) => f.name === pending?.name && f.at === pending.at);
      expect(fired, `${code}: ${pending?.name}@${pending?.at}`).toHaveLength(1);
      expect(fired[0]?.epoch).toBeGreaterThan(oldEpoch);
      const loaded = newOwners.map((n) => loadedAt(n, code, oldEpoch)).find((t) => t !== null);
      if (pending && loaded && pending.at < loaded) dueWhileMoving++;
    }
    return { dueWhileMoving, moved: moved.size };
  }

  it("a turn clock due while its owner is SIGKILLed fires exactly once, on the new owner", async () => {
    await timersAfter(new Map(codes.map((c) => [c, 0])), 3, "three timers fired in every lobby");
    const before = await owners();
    const counts = new Map<string, number>();
    for (const o of before.values()) if (o) counts.set(o.owner ?? "", (counts.get(o.owner ?? "") ?? 0) + 1);
    const [victimId] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? [];
    const victim = cluster.nodes.find((n) => n.env.NODE_ID === victimId) as RingsideProcess;
    const moved = new Map(
      [...before].filter(([, o]) => o?.owner === victimId).map(([code, o]) => [code, o?.epoch ?? 0] as const),
    );
    expect(moved.size).toBeGreaterThan(0);

    const killedAt = await databaseNow(cluster.db.pool);
    victim.kill("SIGKILL");
    await victim.exited;
    await timersAfter(moved, 2, `the lobbies of ${victimId} firing timers on another node`);

    const logs = await expectEveryTimerOnce();
    const survivors = cluster.nodes.filter((n) => n !== victim);
    const { dueWhileMoving } = expectPendingFiredOnceByNewOwner(logs, moved, survivors);
    // The lease (3 s) outlasts the turn clock (1 s): pending timers fell due while nobody owned their lobby.
    expect(dueWhileMoving).toBeGreaterThan(0);
    const firstAfter = [...moved.keys()].map((code) => {
      const fired = auditTimers(logs.get(code) ?? []).fired.find((f) => f.epoch > (moved.get(code) ?? 0));
      return (fired?.at ?? 0) - killedAt;
    });
    console.info(
      `[battleship timers] SIGKILL of ${victimId}: ${moved.size} lobbies; their pending timers were due ` +
        `${Math.round(Math.min(...firstAfter))}..${Math.round(Math.max(...firstAfter))} ms after the kill, ` +
        `${dueWhileMoving} of them before the new owner had loaded the lobby; each fired once, by the new owner`,
    );
  });

  it("a turn clock due while its lobby is drained to another node fires exactly once", async () => {
    const before = await owners();
    const live = cluster.nodes.filter((n) => n.running);
    const counts = new Map(live.map((n) => [n.env.NODE_ID as string, 0]));
    for (const o of before.values())
      if (o?.owner && counts.has(o.owner)) counts.set(o.owner, (counts.get(o.owner) ?? 0) + 1);
    const [drainedId] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? [];
    const drained = live.find((n) => n.env.NODE_ID === drainedId) as RingsideProcess;
    const moved = new Map(
      [...before].filter(([, o]) => o?.owner === drainedId).map(([code, o]) => [code, o?.epoch ?? 0] as const),
    );
    expect(moved.size).toBeGreaterThan(0);

    const res = await fetch(`${cluster.balancers[0]?.url}/admin/nodes/${drainedId}/drain`, {
      method: "POST",
      headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(202);
    expect(await drained.exited).toBe(0);
    await timersAfter(moved, 2, `the lobbies of ${drainedId} firing timers on another node`);

    const logs = await expectEveryTimerOnce();
    const target = live.filter((n) => n !== drained);
    const { dueWhileMoving } = expectPendingFiredOnceByNewOwner(logs, moved, target);
    // The new owner loads a moved lobby at its next timer scan (every second), so about half of them
    // have their timer fall due in between; with a dozen lobbies moving, at least one does.
    expect(dueWhileMoving).toBeGreaterThan(0);
    console.info(
      `[battleship timers] drain of ${drainedId}: ${moved.size} lobbies moved; ${dueWhileMoving} had their ` +
        "timer fall due before the new owner loaded them; each fired once",
    );
  });

  it("the played lobbies kept every acked action, and their timers too fired once each", async () => {
    const played = traffic.lobbies.map((l) => l.code);
    await eventually(() => traffic.ackCount >= 100, { what: "100 acks from the bots" });
    await traffic.stop();
    const verdict = await expectAckedActionsDurable(traffic, cluster.db.pool);
    const logs = await readLobbyLogs(cluster.db.pool, played);
    let shots = 0;
    let timers = 0;
    for (const [code, log] of logs) {
      const audit = auditTimers(log);
      expect({ code, duplicates: audit.duplicates, strays: audit.strays }).toEqual({
        code,
        duplicates: [],
        strays: [],
      });
      timers += audit.fired.length;
      shots += log.filter((e) => e.entry.kind === "game" && e.entry.action === "fire").length;
    }
    expect(shots).toBeGreaterThan(0);
    console.info(`[battleship timers] played lobbies: ${verdict.acked} acks, ${shots} shots, ${timers} timers`);
  });
});
