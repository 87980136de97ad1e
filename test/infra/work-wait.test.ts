import { describe, expect, it } from "vitest";
import type { AdminNode } from "../../infra/ops/admin-client.js";
import { drainOutcome } from "../../infra/ops/work-wait.js";

/** When `drain --wait` may return: the node owns nothing any more, or its process is gone. */
describe("drainOutcome", () => {
  const node = (patch: Partial<AdminNode>): AdminNode => ({
    id: "n2",
    url: "http://n2:4001",
    state: "draining",
    weight: 1,
    incarnation: 3,
    leaseValid: true,
    leaseExpires: "",
    startedAt: "",
    suspect: false,
    probeFailures: 0,
    lobbies: 0,
    ...patch,
  });

  it("waits while the draining node still owns lobbies, and while it is still active", () => {
    expect(drainOutcome(node({ lobbies: 4 }), 3)).toBeNull();
    expect(drainOutcome(node({ state: "active", lobbies: 0 }), 3)).toBeNull();
  });

  it("is done when the node owns nothing, exited, was restarted, or is gone", () => {
    expect(drainOutcome(node({ lobbies: 0 }), 3)).toEqual({ outcome: "moved", state: "draining", lobbiesLeft: 0 });
    expect(drainOutcome(node({ state: "dead", lobbies: 2 }), 3)).toEqual({
      outcome: "exited",
      state: "dead",
      lobbiesLeft: 2,
    });
    expect(drainOutcome(node({ state: "active", incarnation: 4, lobbies: 0 }), 3)?.outcome).toBe("restarted");
    expect(drainOutcome(undefined, 3)?.outcome).toBe("exited");
  });
});
