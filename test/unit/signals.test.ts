import type { IncomingMessage } from "node:http";
import { PassThrough, Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createBalancerMetrics } from "../../balancer/metrics.js";
import { LATENCY_KINDS, latencyKind, pathOnly, watchUpgrade } from "../../balancer/metrics-requests.js";
import { actionResultOf, closeCodeLabel, isAckedAction } from "../../node/metrics-labels.js";
import { combinations, createNodeMetrics } from "../../node/node-metrics.js";
import { createLogger, identifyLogger } from "../../shared/log.js";

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, stream };
}

describe("node metric labels", () => {
  it("classifies what the socket hub sees of an action", () => {
    expect(actionResultOf("rate_limited")).toBe("rate_limited");
    expect(actionResultOf({ ok: true, seq: 4 })).toBe("duplicate");
    expect(actionResultOf({ ok: false, code: "not_your_turn", message: "wait" })).toBe("refused");
    expect(actionResultOf({ ok: "dropped" })).toBe("dropped");
    // Queued: its ack (or refusal) is counted when the entry commits.
    expect(actionResultOf({ ok: "queued" })).toBeNull();
  });

  it("counts as acked only entries a player sent over a socket", () => {
    expect(isAckedAction({ kind: "chat", playerId: "p", text: "hi" })).toBe(true);
    expect(isAckedAction({ kind: "game", playerId: "p", action: "drop", events: [] })).toBe(true);
    expect(isAckedAction({ kind: "player_left", playerId: "p", events: [] })).toBe(true);
    expect(isAckedAction({ kind: "timer", name: "turn", at: 1, events: [] })).toBe(false);
    expect(isAckedAction({ kind: "closed", reason: "abandoned" })).toBe(false);
  });

  it("keeps close codes to a fixed set", () => {
    expect(closeCodeLabel(1012)).toBe("1012");
    expect(closeCodeLabel(4004)).toBe("4004");
    expect(closeCodeLabel(1006)).toBe("1006");
    expect(closeCodeLabel(4999)).toBe("other");
    expect(closeCodeLabel(3123)).toBe("other");
  });

  it("expands label values into every combination", () => {
    expect(combinations({})).toEqual([{}]);
    expect(combinations({ a: ["1", "2"], b: ["x"] })).toEqual([
      { a: "1", b: "x" },
      { a: "2", b: "x" },
    ]);
  });

  it("starts labelled counters at zero and counts claims, failovers, acks and timers", async () => {
    const metrics = createNodeMetrics("n-test");
    metrics.loaded("claimed", "takeover");
    metrics.loaded("claimed", "request");
    metrics.loaded("restored", "request");
    metrics.committed({ kind: "chat", playerId: "p", text: "hi" });
    metrics.committed({ kind: "timer", name: "t", at: 1, events: [] });
    metrics.wsClosed(1012);
    const text = await metrics.registry.metrics();
    const value = (series: string) => new RegExp(`^${series} (\\S+)$`, "m").exec(text)?.[1];
    const labels = 'role="node",instance_id="n-test"';
    expect(value(`ringside_lobbies_claimed_total{mode="eager",${labels}}`)).toBe("1");
    expect(value(`ringside_lobbies_claimed_total{mode="lazy",${labels}}`)).toBe("1");
    expect(value(`ringside_handoffs_total{reason="failover_claim",result="ok",${labels}}`)).toBe("1");
    expect(value(`ringside_handoffs_total{reason="sigterm",result="failed",${labels}}`)).toBe("0");
    expect(value(`ringside_actions_total{result="acked",${labels}}`)).toBe("1");
    expect(value(`ringside_actions_total{result="rate_limited",${labels}}`)).toBe("0");
    expect(value(`ringside_timers_fired_total{${labels}}`)).toBe("1");
    expect(value(`ringside_ws_closes_total{code="1012",${labels}}`)).toBe("1");
  });

  it("sums up the counters that moved, for the line a stopping node logs", async () => {
    const metrics = createNodeMetrics("n-final");
    metrics.handoff("drain", true);
    metrics.handoff("drain", true);
    metrics.selfFenced();
    const totals = await metrics.totals();
    expect(totals).toEqual({
      'ringside_handoffs_total{reason="drain",result="ok"}': 2,
      ringside_self_fences_total: 1,
    });
  });
});

describe("balancer request signals", () => {
  it("files latency by route kind, and leaves out streams and probes", () => {
    const lobby = { kind: "forward", to: { kind: "lobby", code: "ABCDEF", path: "/api/lobbies/ABCDEF" } } as const;
    expect(latencyKind(lobby, false)).toBe("lobby_http");
    expect(latencyKind({ kind: "forward", to: { kind: "create", path: "/api/lobbies" } }, false)).toBe("create");
    expect(latencyKind({ kind: "forward", to: { kind: "any", path: "/api/stats" } }, false)).toBe("api_other");
    const directory = { kind: "directory", json: { kind: "any", path: "/api/lobbies" } } as const;
    expect(latencyKind(directory, false)).toBe("directory");
    expect(latencyKind(directory, true)).toBeNull();
    expect(latencyKind({ kind: "probe", name: "metrics" }, false)).toBeNull();
    expect(latencyKind({ kind: "page" }, false)).toBe("page");
    expect(latencyKind({ kind: "admin" }, false)).toBe("admin");
    expect(latencyKind({ kind: "refused", status: 404, error: "not_found", message: "" }, false)).toBe("refused");
    expect(LATENCY_KINDS).toContain("ws_upgrade");
  });

  it("times an upgrade to its answer, whoever writes it, and logs it without the token", async () => {
    const zero = () => 0;
    const live = { ringSize: zero, exceptions: zero, clientSockets: zero, nodeHttpSockets: zero };
    const metrics = createBalancerMetrics("b-test", {
      ...live,
      nodeWsSockets: zero,
      wsTunnels: zero,
      directoryStreams: zero,
      limitedClients: () => ({}),
    });
    const { lines, stream } = capture();
    const accessLog = createLogger("balancer", "info", stream);
    const req = { method: "GET", url: "/ws/ABCDEF?token=secret", headers: {}, socket: { remoteAddress: "10.1.2.3" } };
    const deps = { metrics, trustProxy: false, accessLog };
    const tunnel = new PassThrough();
    watchUpgrade(req as unknown as IncomingMessage, tunnel, deps);
    tunnel.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nx-ringside-node: n2\r\n\r\n");
    tunnel.write("frames after the head are not looked at");
    const refused = new PassThrough();
    watchUpgrade(req as unknown as IncomingMessage, refused, deps);
    refused.end(Buffer.from("HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\n\r\n"));
    const left = new PassThrough();
    watchUpgrade(req as unknown as IncomingMessage, left, deps);
    left.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((l) => [l.status, l.node ?? null])).toEqual([
      ["101", "n2"],
      ["429", null],
      ["aborted", null],
    ]);
    expect(lines[0]).toMatchObject({ route: "ws_upgrade", path: "/ws/ABCDEF", method: "GET", client: "10.1.2.3" });
    expect(JSON.stringify(lines)).not.toContain("secret");
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^ringside_balancer_request_seconds_count\{[^}]*route="ws_upgrade"[^}]*\} 3$/m);
  });

  it("never logs a query string", () => {
    expect(pathOnly("/ws/ABCDEF?token=secret&since=4")).toBe("/ws/ABCDEF");
    expect(pathOnly(undefined)).toBe("/");
    expect(pathOnly(`/${"x".repeat(500)}`)).toHaveLength(200);
  });
});

describe("process identity on log lines", () => {
  it("names the node on lines of children made before the id was known", () => {
    const { lines, stream } = capture();
    const log = createLogger("node", "info", stream);
    const early = log.child({ part: "bus" });
    early.info("before");
    identifyLogger(log.child({}), "nodeId", "n7");
    early.info({ node: "n2" }, "another node, named in the line");
    log.info("root");
    expect(lines[0]?.nodeId).toBeUndefined();
    expect(lines[1]).toMatchObject({ nodeId: "n7", node: "n2", part: "bus", component: "node" });
    expect(lines[2]).toMatchObject({ nodeId: "n7", component: "node" });
  });

  it("binds the id on a logger made elsewhere", () => {
    const { lines, stream } = capture();
    const direct = pino({ base: {} }, stream);
    identifyLogger(direct, "balancerId", "b1");
    direct.info("hello");
    expect(lines[0]?.balancerId).toBe("b1");
  });
});
