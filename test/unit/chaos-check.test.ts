import { describe, expect, it } from "vitest";
import { type AckedAction, checkDurability, type LoggedEvent } from "../../infra/chaos/durability.js";
import { faultRecovery, lobbySilence } from "../../infra/chaos/recovery.js";

/**
 * The chaos soak's verdict: a log with a lost, a duplicated and a misordered
 * action (and a gap) gets each one named; a clean log gets none. And the
 * recovery figures from the players' event times.
 */

const P = "p1";

function ack(actionId: string, seq: number, sentAt: number, ackedAt: number, code = "ABCDEF"): AckedAction {
  return { code, playerId: P, actionId, seq, sentAt, ackedAt };
}

function row(seq: number, actionId: string | null, code = "ABCDEF"): LoggedEvent {
  return { code, seq, playerId: actionId ? P : null, actionId };
}

describe("checkDurability", () => {
  it("finds nothing wrong in a log that holds every acked action once, in order", () => {
    const acked = [ack("a", 2, 0, 10), ack("b", 3, 20, 30)];
    const verdict = checkDurability(acked, [row(1, null), row(2, "a"), row(3, "b")]);
    expect(verdict).toMatchObject({ acked: 2, logged: 3, lost: 0, duplicated: 0, misordered: 0, gaps: 0 });
    expect(verdict.problems).toEqual([]);
  });

  it("reports a lost, a duplicated and a misordered action, and a gap, each by name", () => {
    const acked = [
      ack("first", 1, 0, 10),
      ack("second", 2, 20, 30),
      ack("lost", 3, 40, 50),
      // Sent after "second" was acked, yet logged before it.
      ack("late", 4, 60, 70),
    ];
    const log = [row(1, "first"), row(2, "late"), row(3, "second"), row(4, "second"), row(6, null)];
    const v = checkDurability(acked, log);
    expect(v.lost).toBe(1);
    expect(v.duplicated).toBe(1);
    expect(v.misordered).toBeGreaterThanOrEqual(1);
    expect(v.gaps).toBe(1);
    expect(v.problems.find((p) => p.startsWith("lost:"))).toContain("lost");
    expect(v.problems.find((p) => p.startsWith("duplicated:"))).toContain("second");
    expect(v.problems.some((p) => p.startsWith("misordered:") && p.includes("late"))).toBe(true);
    expect(v.problems.find((p) => p.startsWith("gap:"))).toContain("jumps from 4 to 6");
  });

  it("lets actions sent together be logged either way round", () => {
    // Both sent before either was acked: no order was promised between them.
    const acked = [ack("x", 2, 0, 30), ack("y", 1, 5, 20)];
    const v = checkDurability(acked, [row(1, "y"), row(2, "x")]);
    expect(v.misordered).toBe(0);
  });

  it("counts an action logged before one the same player had already seen acked", () => {
    // Acked and logged at the same seqs, but "b" was sent after "a" was acked and still came first.
    const acked = [ack("a", 5, 0, 10), ack("b", 3, 20, 30)];
    const v = checkDurability(acked, [row(1, null), row(2, null), row(3, "b"), row(4, null), row(5, "a")]);
    expect(v).toMatchObject({ lost: 0, duplicated: 0, misordered: 1, gaps: 0 });
    expect(v.problems[0]).toContain("was sent after a (seq 5) was acked");
  });

  it("counts an action logged at another seq than its ack as misordered", () => {
    const v = checkDurability([ack("a", 5, 0, 10)], [row(1, null), row(2, "a")]);
    expect(v.misordered).toBe(1);
    expect(v.problems[0]).toContain("acked as seq 5 but logged at 2");
  });
});

describe("recovery from event times", () => {
  const fault = {
    index: 1,
    kind: "node-kill" as const,
    target: "node-1",
    injectedAt: 1000,
    healedAt: null,
    healthyAt: 4000,
    settledAt: 5000,
    detail: "SIGKILL",
    error: null,
  };

  it("measures the silence from the injection and when it ended", () => {
    expect(lobbySilence({ code: "A", eventTimes: [900, 2600, 3000, 4000, 4900] }, 1000, 5000)).toEqual({
      code: "A",
      silenceMs: 1600,
      endedAt: 2600,
    });
    // Nothing since: the silence lasts until the window closes, and has not ended.
    expect(lobbySilence({ code: "B", eventTimes: [900, 1500] }, 1000, 5000)).toEqual({
      code: "B",
      silenceMs: 3500,
      endedAt: null,
    });
  });

  it("counts lobbies silent over a second as hit; recovery runs to the last one served again", () => {
    const r = faultRecovery(fault, [
      { code: "A", eventTimes: [900, 1100, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 4900] },
      { code: "B", eventTimes: [950, 2500, 3000, 3500, 4000, 4500, 4900] },
      { code: "C", eventTimes: [990, 3200, 4000, 4900] },
    ]);
    expect(r).toMatchObject({ lobbies: 3, affected: 2, unrecovered: 0, recoveryMs: 2200, maxSilenceMs: 2200 });
  });

  it("says so when a hit lobby was never served again", () => {
    const r = faultRecovery(fault, [{ code: "A", eventTimes: [900] }]);
    expect(r).toMatchObject({ affected: 1, unrecovered: 1, recoveryMs: null });
  });
});
