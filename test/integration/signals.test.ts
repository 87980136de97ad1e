import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GameTraffic, TrafficLobby } from "../../infra/ops/game-traffic.js";
import { DEV_ADMIN_TOKEN } from "../../shared/config.js";
import type { TestCluster } from "../helpers/cluster.js";
import { expectAckedActionsDurable, startClusterUnderPlay } from "../helpers/play.js";
import type { RingsideProcess } from "../helpers/processes.js";
import { eventually, within } from "../helpers/wait.js";

/**
 * The ops signals move when things happen (issue 9): /metrics of the
 * survivors and the balancer is scraped before and after a SIGKILL failover
 * and a drain, and the counters an operator alerts on must have moved. A
 * drained node exits, so its own counters are read from the one line it logs
 * when it stops. Every log line names its process; the access log holds no
 * token.
 */

type Sample = { name: string; labels: Record<string, string>; value: number };

function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k as string] = v as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

async function scrape(processes: RingsideProcess[]): Promise<Sample[]> {
  const texts = await Promise.all(processes.map(async (p) => (await fetch(`${p.url}/metrics`)).text()));
  return texts.flatMap(parseMetrics);
}

/** The sum of a metric over every process scraped, where the labels given match. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** The counters a node logged as it stopped ("stopped" line), by "name{labels}". */
function stoppedCounters(node: RingsideProcess): Record<string, number> {
  for (const line of [...node.lines].reverse()) {
    if (!line.startsWith("{")) continue;
    const parsed = JSON.parse(line) as { msg?: string; counters?: Record<string, number> };
    if (parsed.msg === "stopped" && parsed.counters) return parsed.counters;
  }
  throw new Error(`no "stopped" line from ${node.env.NODE_ID}:\n${node.lines.slice(-20).join("\n")}`);
}

describe("signals: counters move in a failover and a drain", () => {
  let cluster: TestCluster;
  let traffic: GameTraffic;
  let stop: () => Promise<void>;
  let killedId = "";

  const balancer = () => cluster.balancers[0] as RingsideProcess;
  const nodeById = (id: string) => cluster.nodes.find((n) => n.env.NODE_ID === id) as RingsideProcess;
  const ownerOf = async (codes: string[]) => {
    const { rows } = await cluster.db.pool.query<{ code: string; owner: string | null }>(
      "SELECT code, owner_node AS owner FROM lobbies WHERE code = ANY($1::text[])",
      [codes],
    );
    return new Map(rows.map((r) => [r.code, r.owner]));
  };
  const servedElsewhere = (lobbies: TrafficLobby[], gone: string, since: number) =>
    lobbies.every((lobby) =>
      lobby.players.every(
        (p) => p.welcomes.at(-1)?.node !== gone && p.acked.some((a) => a.sentAt > since && a.ackedAt > since),
      ),
    );

  beforeAll(async () => {
    ({ cluster, traffic, stop } = await startClusterUnderPlay({
      label: "signals",
      nodes: 3,
      lobbies: 15,
      pauseMs: [15, 40],
      env: { RINGSIDE_ACCESS_LOG: "1" },
    }));
  }, 90_000);

  afterAll(async () => {
    await stop?.();
  });

  /**
   * Lobbies created on `node` and left without players: active (just
   * committed), so only a takeover pass claims them after a death, never a
   * player's request. They make the eager claims certain, not a race.
   */
  async function quietLobbiesOn(node: string, count: number): Promise<string[]> {
    const quiet: string[] = [];
    for (let tries = 0; quiet.length < count && tries < 60; tries++) {
      const res = await fetch(`${balancer().url}/api/lobbies`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "quiet" }),
      });
      expect(res.status).toBe(201);
      const { code } = (await res.json()) as { code: string };
      if ((await ownerOf([code])).get(code) === node) quiet.push(code);
    }
    expect(quiet).toHaveLength(count);
    return quiet;
  }

  it("SIGKILL: survivors count failover claims and acks, the balancer counts the reconnections", async () => {
    await eventually(() => traffic.ackCount >= 150, { what: "150 acks before the kill" });
    const { node: victimId, lobbies: affected } = traffic.busiestNode();
    const quiet = await quietLobbiesOn(victimId, 2);
    const survivors = cluster.nodes.filter((n) => n.env.NODE_ID !== victimId);
    const before = await scrape([...survivors, balancer()]);

    const killedAt = Date.now();
    const victim = nodeById(victimId);
    killedId = victimId;
    victim.kill("SIGKILL");
    await victim.exited;
    await eventually(() => servedElsewhere(affected, victimId, killedAt), {
      timeoutMs: 15_000,
      what: `every lobby of ${victimId} served again with acks`,
    });
    await eventually(async () => [...(await ownerOf(quiet)).values()].every((o) => o !== null && o !== victimId), {
      timeoutMs: 15_000,
      what: "the quiet lobbies claimed by survivors",
    });
    const after = await scrape([...survivors, balancer()]);
    const moved = (name: string, labels: Record<string, string> = {}) =>
      total(after, name, labels) - total(before, name, labels);

    // Taken by a takeover pass (eager), or by a reconnecting player's request (lazy): each once.
    const eager = moved("ringside_lobbies_claimed_total", { mode: "eager" });
    const lazy = moved("ringside_lobbies_claimed_total", { mode: "lazy" });
    expect(eager).toBeGreaterThanOrEqual(quiet.length);
    expect(eager + lazy).toBeGreaterThanOrEqual(affected.length + quiet.length);
    expect(moved("ringside_handoffs_total", { reason: "failover_claim", result: "ok" })).toBe(eager);
    expect(moved("ringside_lobbies_loaded_total", { how: "claimed" })).toBe(eager + lazy);
    expect(moved("ringside_actions_total", { result: "acked" })).toBeGreaterThan(0);
    // Every player of the dead node's lobbies came back through the balancer.
    const players = affected.reduce((n, l) => n + l.players.length, 0);
    expect(moved("ringside_balancer_ws_upgrades_total", { result: "tunnelled" })).toBeGreaterThanOrEqual(players);
    expect(moved("ringside_balancer_request_seconds_count", { route: "ws_upgrade" })).toBeGreaterThanOrEqual(players);
    await expectAckedActionsDurable(traffic, cluster.db.pool);
  });

  it("drain: the node counts its handoffs and 1012 closes, the survivor loads what it was given", async () => {
    const { node: drainedId, lobbies: moving } = traffic.busiestNode();
    const drained = nodeById(drainedId);
    const stayer = cluster.nodes.find((n) => n.env.NODE_ID !== drainedId && n.env.NODE_ID !== killedId);
    if (!stayer) throw new Error("no node left to take the drained node's lobbies");
    const beforeDrained = await scrape([drained]);
    const before = await scrape([stayer, balancer()]);

    const drainedAt = Date.now();
    const res = await fetch(`${balancer().url}/admin/nodes/${drainedId}/drain`, {
      method: "POST",
      headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(202);
    expect(await within(drained.exited, `${drainedId} to exit after its drain`, 60_000)).toBe(0);
    await eventually(() => servedElsewhere(moving, drainedId, drainedAt), {
      timeoutMs: 15_000,
      what: `every lobby of ${drainedId} served again with acks`,
    });

    const counters = stoppedCounters(drained);
    const handedOff = counters['ringside_handoffs_total{reason="drain",result="ok"}'] ?? 0;
    const drainedBefore = total(beforeDrained, "ringside_handoffs_total", { reason: "drain" });
    expect(handedOff - drainedBefore).toBeGreaterThanOrEqual(moving.length);
    expect(counters['ringside_handoffs_total{reason="sigterm",result="ok"}']).toBeUndefined();
    // Each moved lobby's sockets were closed with 1012 (counted once the client's close came back).
    expect(counters['ringside_ws_closes_total{code="1012"}'] ?? 0).toBeGreaterThanOrEqual(1);

    const after = await scrape([stayer, balancer()]);
    const moved = (name: string, labels: Record<string, string> = {}) =>
      total(after, name, labels) - total(before, name, labels);
    // Handed to it (it owns them already): loaded when the move is announced, or on the players' return.
    expect(moved("ringside_lobbies_loaded_total", { how: "restored" })).toBeGreaterThanOrEqual(moving.length);
    const players = moving.reduce((n, l) => n + l.players.length, 0);
    expect(moved("ringside_balancer_ws_upgrades_total", { result: "tunnelled" })).toBeGreaterThanOrEqual(players);
    await expectAckedActionsDurable(traffic, cluster.db.pool);
  });

  it("names the process on every log line, and keeps tokens out of the access log", () => {
    for (const node of cluster.nodes) {
      const lines = node.lines.filter((l) => l.startsWith('{"level"')).map((l) => JSON.parse(l));
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line.nodeId, JSON.stringify(line)).toBe(node.env.NODE_ID);
    }
    const lines = balancer()
      .lines.filter((l) => l.startsWith('{"level"'))
      .map((l) => JSON.parse(l));
    for (const line of lines) expect(line.balancerId, JSON.stringify(line)).toBe("b1");
    const access = lines.filter((l) => l.part === "access");
    expect(access.some((l) => l.route === "ws_upgrade" && l.status === "101" && /^n\d$/.test(l.node))).toBe(true);
    expect(access.some((l) => l.route === "create" && l.status === "201" && l.method === "POST")).toBe(true);
    const raw = balancer().lines.filter((l) => l.includes('"part":"access"'));
    for (const line of raw) expect(line).not.toMatch(/token|authorization|bearer/i);
  });
});
