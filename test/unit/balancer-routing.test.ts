import { describe, expect, it } from "vitest";
import { keyPosition, renderRingSvg, ringPoints } from "../../balancer/ring-svg.js";
import { RoutingTable } from "../../balancer/routing-table.js";
import type { NodeRow, NodeState } from "../../shared/db/membership.js";
import { generateLobbyCode } from "../../shared/lobby-code.js";
import { Ring } from "../../shared/ring.js";

function node(id: string, over: Partial<NodeRow> = {}): NodeRow {
  return {
    id,
    url: `http://127.0.0.1:${4000 + Number(id.replace(/\D/g, "") || 0)}`,
    state: "active" as NodeState,
    weight: 1,
    incarnation: 1,
    leaseValid: true,
    leaseExpires: new Date(Date.now() + 60_000),
    startedAt: new Date(),
    ...over,
  };
}

const codes = (n: number) => Array.from({ length: n }, () => generateLobbyCode());

/** A code whose ring owner (among `ids`) is not `notOwner`. */
function codeNotOwnedBy(ring: Ring, notOwner: string): string {
  for (;;) {
    const code = generateLobbyCode();
    if (ring.owner(code) !== notOwner) return code;
  }
}

describe("RoutingTable", () => {
  const rows = [node("n1"), node("n2"), node("n3")];
  const ring = new Ring(rows.map((r) => ({ id: r.id, weight: r.weight })));

  it("routes to the ring owner when there is no exception", () => {
    const table = new RoutingTable();
    table.setNodes(rows);
    for (const code of codes(500)) {
      const owner = ring.owner(code);
      expect(table.route(code)).toEqual({ id: owner, url: rows.find((r) => r.id === owner)?.url });
    }
  });

  it("returns null on an empty ring, and ignores joining, draining, dead and out-of-lease nodes", () => {
    const table = new RoutingTable();
    expect(table.route("ABCDEF")).toBeNull();
    expect(table.anyActive()).toBeNull();
    table.setNodes([
      node("n1", { state: "joining" }),
      node("n2", { state: "draining" }),
      node("n3", { state: "dead" }),
      node("n4", { leaseValid: false }),
      node("n5"),
    ]);
    expect(table.ringSize).toBe(1);
    for (const code of codes(50)) expect(table.route(code)?.id).toBe("n5");
  });

  it("keeps an exception only when the recorded owner differs from the ring owner", () => {
    const table = new RoutingTable();
    table.setNodes(rows);
    const code = codeNotOwnedBy(ring, "n1");
    table.applyOwnership({ code, owner: ring.owner(code) });
    expect(table.exceptionCount).toBe(0);
    table.applyOwnership({ code, owner: "n1" });
    expect(table.exceptionCount).toBe(1);
    expect(table.route(code)?.id).toBe("n1");
    // The lobby went back to its ring owner (handoff), or has no owner: no exception left.
    table.applyOwnership({ code, owner: ring.owner(code) });
    expect(table.exceptionCount).toBe(0);
    table.applyOwnership({ code, owner: "n1" });
    table.correct(code, null);
    expect(table.exceptionCount).toBe(0);
    expect(table.route(code)?.id).toBe(ring.owner(code));
  });

  it("routes to the ring owner while the recorded owner is dead or out of lease", () => {
    const table = new RoutingTable();
    const code = codeNotOwnedBy(ring, "n1");
    table.setNodes(rows);
    table.applyOwnership({ code, owner: "n1" });
    expect(table.route(code)?.id).toBe("n1");
    table.setNodes([node("n1", { state: "dead", leaseValid: false }), node("n2"), node("n3")]);
    const survivors = new Ring([
      { id: "n2", weight: 1 },
      { id: "n3", weight: 1 },
    ]);
    expect(table.route(code)?.id).toBe(survivors.owner(code));
    table.setNodes([node("n1", { state: "draining", leaseValid: false }), node("n2"), node("n3")]);
    expect(table.route(code)?.id).toBe(survivors.owner(code));
    // A draining owner with a valid lease still serves its lobbies until it hands them off.
    table.setNodes([node("n1", { state: "draining" }), node("n2"), node("n3")]);
    expect(table.route(code)?.id).toBe("n1");
  });

  it("never lets an older ownership epoch overwrite a newer one, from messages or reads", async () => {
    const table = new RoutingTable();
    table.setNodes(rows);
    const code = codeNotOwnedBy(ring, "n1");
    const other = ["n2", "n3"].find((id) => id !== ring.owner(code)) ?? "n2";
    // Claimed by n1 (epoch 2), then handed to `other` (epoch 3); the epoch-2 message arrives late.
    expect(table.applyOwnership({ code, owner: other, epoch: 3 })).toBe(true);
    expect(table.applyOwnership({ code, owner: "n1", epoch: 2 })).toBe(false);
    expect(table.route(code)?.id).toBe(other);
    // A repeat of the newest fact is harmless; a newer one wins.
    expect(table.applyOwnership({ code, owner: other, epoch: 3 })).toBe(true);
    expect(table.applyOwnership({ code, owner: "n1", epoch: 4 })).toBe(true);
    expect(table.route(code)?.id).toBe("n1");
    // Back on its ring owner (epoch 5): no exception, yet a late epoch-4 message does not make one again.
    table.applyOwnership({ code, owner: ring.owner(code), epoch: 5 });
    expect(table.exceptionCount).toBe(0);
    expect(table.applyOwnership({ code, owner: "n1", epoch: 4 })).toBe(false);
    expect(table.route(code)?.id).toBe(ring.owner(code));
    // A full read that started before the newest message does not undo it.
    table.applyOwnership({ code, owner: other, epoch: 6 });
    await table.replaceOwnership([{ code, owner: "n1", epoch: 4 }]);
    expect(table.route(code)?.id).toBe(other);
    // A node's 421 names the owner now (no epoch): only facts newer than all seen so far override it.
    table.correct(code, "n1");
    expect(table.applyOwnership({ code, owner: other, epoch: 6 })).toBe(false);
    expect(table.route(code)?.id).toBe("n1");
    expect(table.applyOwnership({ code, owner: other, epoch: 8 })).toBe(true);
    expect(table.route(code)?.id).toBe(other);
  });

  it("raises an epoch floor once for a correction, however many clients meet the same 421", () => {
    const table = new RoutingTable();
    table.setNodes(rows);
    const code = codeNotOwnedBy(ring, "n1");
    expect(table.applyOwnership({ code, owner: "n1", epoch: 4 })).toBe(true);
    for (let i = 0; i < 12; i++) table.correct(code, "n1");
    // The lobby moves back to its ring owner with the next real epoch (5): that is news, not a stale fact.
    expect(table.applyOwnership({ code, owner: ring.owner(code), epoch: 5 })).toBe(true);
    expect(table.exceptionCount).toBe(0);
    expect(table.route(code)?.id).toBe(ring.owner(code));
  });

  it("asks for a full ownership read after a join or a drain, not when dead nodes merely left", () => {
    const table = new RoutingTable();
    table.setNodes(rows);
    expect(table.changeNeedsFullRead).toBe(true);
    expect(table.setNodes([node("n1", { state: "dead", leaseValid: false }), node("n2"), node("n3")])).toBe(true);
    expect(table.changeNeedsFullRead).toBe(false);
    expect(
      table.setNodes([node("n1", { state: "dead", leaseValid: false }), node("n2"), node("n3", { state: "draining" })]),
    ).toBe(true);
    expect(table.changeNeedsFullRead).toBe(true);
    expect(table.setNodes([node("n1"), node("n2"), node("n3")])).toBe(true);
    expect(table.changeNeedsFullRead).toBe(true);
  });

  it("prunes exceptions that the new ring makes ordinary, and says the ring changed", () => {
    const table = new RoutingTable();
    expect(table.setNodes(rows)).toBe(true);
    expect(table.setNodes([...rows].reverse())).toBe(false);
    const withN4 = new Ring([...rows, node("n4")].map((r) => ({ id: r.id, weight: 1 })));
    let code = "";
    do code = generateLobbyCode();
    while (withN4.owner(code) !== "n4");
    table.applyOwnership({ code, owner: "n4" });
    expect(table.exceptionCount).toBe(1);
    expect(table.setNodes([...rows, node("n4")])).toBe(true);
    expect(table.exceptionCount).toBe(0);
    expect(table.route(code)?.id).toBe("n4");
  });

  it("routes 10,000 codes identically in two tables fed the same rows in any order", async () => {
    const a = new RoutingTable();
    const b = new RoutingTable();
    const many = [node("n1"), node("n2", { weight: 2 }), node("n3"), node("n4", { state: "dead" }), node("n5")];
    a.setNodes(many);
    b.setNodes([...many].reverse());
    const owned = codes(200).map((code, i) => ({ code, owner: `n${(i % 5) + 1}` }));
    await a.replaceOwnership(owned);
    await b.replaceOwnership([...owned].reverse());
    for (const code of [...codes(10_000), ...owned.map((o) => o.code)]) {
      expect(b.route(code)).toEqual(a.route(code));
    }
  });

  it("applies a full read of 50,000 rows in slices, letting other work run in between", async () => {
    const table = new RoutingTable();
    table.setNodes([node("n1"), node("n2"), node("n3")]);
    // Distinct codes (random ones can repeat: a repeat would count twice below).
    const rows = [...new Set(codes(50_000))].map((code, i) => ({ code, owner: `n${(i % 3) + 1}` }));
    let turns = 0;
    let done = false;
    const other = () => {
      turns++;
      if (!done) setImmediate(other);
    };
    setImmediate(other);
    await table.replaceOwnership(rows);
    done = true;
    // One turn for other work per slice of 1,000 rows, not one turn for all 50,000.
    expect(turns).toBeGreaterThanOrEqual(45);
    // And the outcome is the same as applying them at once: lobbies off their ring owner are exceptions.
    const ring = new Ring([
      { id: "n1", weight: 1 },
      { id: "n2", weight: 1 },
      { id: "n3", weight: 1 },
    ]);
    expect(table.exceptionCount).toBe(rows.filter((r) => ring.owner(r.code) !== r.owner).length);
  });

  it("respects weights", () => {
    const table = new RoutingTable();
    table.setNodes([node("n1", { weight: 3 }), node("n2", { weight: 1 }), node("n3", { weight: 0 })]);
    const counts = new Map<string, number>();
    const n = 20_000;
    for (const code of codes(n)) {
      const id = table.route(code)?.id ?? "none";
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect(counts.get("n3")).toBeUndefined();
    expect((counts.get("n1") ?? 0) / n).toBeGreaterThan(0.7);
    expect((counts.get("n1") ?? 0) / n).toBeLessThan(0.8);
  });

  it("spreads non-lobby requests over every ring member in turn", () => {
    const table = new RoutingTable();
    table.setNodes(rows);
    const seen = new Set(Array.from({ length: 6 }, () => table.anyActive()?.id));
    expect([...seen].sort()).toEqual(["n1", "n2", "n3"]);
  });
});

describe("ring picture", () => {
  it("places points where Ring.owner looks them up", () => {
    const members = [
      { id: "n1", weight: 1 },
      { id: "n2", weight: 2 },
      { id: "n3", weight: 1 },
    ];
    const ring = new Ring(members);
    const points = ringPoints(members);
    for (const code of codes(2000)) {
      const at = keyPosition(`lobby:${code}`);
      const owner = (points.find((p) => p.value >= at) ?? points[0])?.id;
      expect(owner).toBe(ring.owner(code));
    }
  });

  it("renders an SVG with a legend and escapes node ids", () => {
    const svg = renderRingSvg([{ id: "n<1>", weight: 1 }], [{ id: "n<1>", state: "active", lobbies: 3 }]);
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain("n&#60;1&#62; (active, 100.0% of ring, 3 lobbies)");
    expect(svg).not.toContain("n<1>");
  });
});
