import { describe, expect, it } from "vitest";
import {
  type LobbyRecord,
  lobbiesPerNode,
  lobbyRecovery,
  longestSilence,
  type PlayerRecord,
  servingNode,
} from "../../infra/ops/drill-recovery.js";
import { reportJson } from "../../infra/ops/drill-report.js";
import { checkTargets, percentile, recoveryStats } from "../../infra/ops/drill-summary.js";
import { chooseVictim } from "../../infra/ops/victim.js";

/**
 * The drill's arithmetic on synthetic records: who served a lobby at the
 * kill, when it recovered (welcome from another node, then an event), the
 * percentiles and the targets. Times are ms; the kill is at 10_000.
 */

const KILL = 10_000;
const window = { killAt: KILL, victim: "node-2", loadEndAt: KILL + 5000, endAt: KILL + 6000, timelineFromMs: -2000 };

function player(welcomes: [string, number][], events: number[], acks: number[] = [], failed = 0): PlayerRecord {
  return {
    welcomes: welcomes.map(([node, at]) => ({ node, at })),
    events: events.map((at, i) => ({ seq: i + 1, at })),
    acked: acks.map((ackedAt) => ({ ackedAt })),
    failed,
  };
}

function lobby(code: string, ...players: PlayerRecord[]): LobbyRecord {
  return { code, players };
}

describe("drill recovery computation", () => {
  it("takes the serving node from the latest welcome of any player up to an instant", () => {
    const l = lobby(
      "AAAAAA",
      player([["node-1", 100]], []),
      player(
        [
          ["node-2", 50],
          ["node-3", 200],
        ],
        [],
      ),
    );
    expect(servingNode(l, 150)).toBe("node-1");
    expect(servingNode(l, 300)).toBe("node-3");
    expect(servingNode(l, 10)).toBeNull();
  });

  it("measures kill -> first event after a welcome from a new node, the earliest over the players", () => {
    const a = player(
      [
        ["node-2", 0],
        ["node-3", KILL + 400],
      ],
      [KILL - 100, KILL + 350, KILL + 500],
      [KILL - 500, KILL - 50, KILL + 520],
    );
    const b = player(
      [
        ["node-2", 0],
        ["node-3", KILL + 300],
      ],
      [KILL - 100, KILL + 450],
      [KILL + 460],
    );
    const r = lobbyRecovery(lobby("BBBBBB", a, b), window);
    expect(r).toMatchObject({
      node: "node-2",
      affected: true,
      newNode: "node-3",
      reconnectMs: 300,
      // Player a's event at +350 came before its own welcome from node-3: it does not count.
      recoveryMs: 450,
      welcomesAfterKill: 2,
      acksBefore: 2,
      acksAfter: 2,
    });
    expect(r.ackOffsets).toEqual([-500, -50, 460, 520]);
  });

  it("does not count the victim itself coming back, nor a welcome with no event after it", () => {
    const back = lobbyRecovery(
      lobby(
        "CCCCCC",
        player(
          [
            ["node-2", 0],
            ["node-2", KILL + 900],
          ],
          [KILL + 1000],
        ),
      ),
      window,
    );
    expect(back).toMatchObject({ affected: true, newNode: null, recoveryMs: null });
    const silent = lobbyRecovery(
      lobby(
        "DDDDDD",
        player(
          [
            ["node-2", 0],
            ["node-1", KILL + 700],
          ],
          [KILL - 5],
        ),
      ),
      window,
    );
    expect(silent).toMatchObject({ affected: true, newNode: "node-1", reconnectMs: 700, recoveryMs: null });
  });

  it("leaves lobbies on other nodes unaffected and measures their longest silence while the load ran", () => {
    const l = lobby(
      "EEEEEE",
      player([["node-1", 0]], [KILL + 100, KILL + 1300, KILL + 1400, KILL + 4900], [KILL + 5500], 2),
    );
    const r = lobbyRecovery(l, window);
    expect(r).toMatchObject({ affected: false, recoveryMs: null, newNode: null, welcomesAfterKill: 0 });
    // From +1400 to +4900; the quiet after the load stopped at +5000 is not a stall.
    expect(r.longestSilenceMs).toBe(3500);
    // An ack while actions in flight settled (after the load stopped, before the end) still counts.
    expect(r).toMatchObject({ acksAfter: 1, failed: 2, ackOffsets: [5500] });
    expect(longestSilence(l, KILL, KILL + 1400)).toBe(1200);
  });

  it("counts lobbies per node, most first, and picks the busiest as the victim", () => {
    const lobbies = [
      lobby("A1", player([["node-1", 0]], [])),
      lobby("A2", player([["node-2", 0]], [])),
      lobby("A3", player([["node-2", 0]], [])),
    ];
    const perNode = lobbiesPerNode(lobbies, 1);
    expect(perNode).toEqual([
      ["node-2", 2],
      ["node-1", 1],
    ]);
    expect(chooseVictim(perNode, {})).toBe("node-2");
    expect(chooseVictim(perNode, { node: "node-3" })).toBe("node-3");
    expect(["node-1", "node-2"]).toContain(chooseVictim(perNode, { random: true }));
    expect(() => chooseVictim([], {})).toThrow(/nothing to kill/);
  });
});

describe("drill statistics and targets", () => {
  it("uses nearest-rank percentiles", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });

  it("counts a lobby that never recovered as failing p99 and max, and writes it as null in JSON", () => {
    const base = { node: "node-2", newNode: "node-1", reconnectMs: 100, welcomesAfterKill: 1, nodeAtEnd: "node-1" };
    const rest = { longestSilenceMs: 0, acksBefore: 1, acksAfter: 1, failed: 0, ackOffsets: [] };
    const lobbies = [
      { ...base, ...rest, code: "R1", affected: true, recoveryMs: 400 },
      { ...base, ...rest, code: "R2", affected: true, recoveryMs: null },
      { ...base, ...rest, code: "U1", affected: false, recoveryMs: null },
    ];
    const stats = recoveryStats(lobbies);
    expect(stats).toMatchObject({ affected: 2, recovered: 1, p50Ms: 400, p99Ms: Number.POSITIVE_INFINITY });
    const durability = { acked: 10, lost: 0, duplicated: 0, misordered: 0, gapsInLog: 0, problems: [] };
    const targets = checkTargets(stats, durability);
    expect(targets.filter((t) => !t.met).map((t) => t.name)).toEqual(["recovery p99", "recovery max"]);
    expect(targets.find((t) => t.name === "recovery max")?.actual).toBe("not recovered");
    expect(JSON.parse(reportJson({ totals: stats } as never)).totals.maxMs).toBeNull();
  });

  it("fails a drill in which no lobby was on the victim, and one that lost an acked action", () => {
    const none = recoveryStats([]);
    const lost = { acked: 10, lost: 1, duplicated: 0, misordered: 0, gapsInLog: 0, problems: [] };
    const failed = checkTargets(none, lost)
      .filter((t) => !t.met)
      .map((t) => t.name);
    expect(failed).toEqual(["affected lobbies", "recovery p99", "recovery max", "acked actions lost"]);
  });
});
