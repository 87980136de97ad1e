import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { clientAddress, limitKey } from "../../balancer/client-address.js";
import { wantsEventStream } from "../../balancer/directory-stream.js";
import { checkRequestTarget, type RequestTarget } from "../../balancer/path-guard.js";
import { routeRequest, routeUpgrade } from "../../balancer/routes.js";

/** The balancer's path guard and route allowlist, on the strings a client can send. */

function target(raw: string): RequestTarget {
  const checked = checkRequestTarget(raw);
  if (!checked.ok) throw new Error(`refused ${raw}: ${checked.message}`);
  return checked.target;
}

describe("path guard", () => {
  it("refuses dot segments, encoded dots, slashes and backslashes, empty segments and odd bytes", () => {
    for (const raw of [
      "/api/x/../../metrics",
      "/api/lobbies/ABCDEF/../../../metrics",
      "/api/./lobbies",
      "/api/%2e%2e/metrics",
      "/api/%2E%2E/metrics",
      "/api/.%2e/metrics",
      "/api/%2e./metrics",
      "/api/lobbies/ABCDEF/..%2fjoin",
      "/api/lobbies/ABCDEF%2Fjoin",
      "/api/lobbies/ABCDEF%5cjoin",
      "/api\\lobbies",
      "//api/lobbies",
      "/api//lobbies",
      "/api/lobbies/%00",
      "/api/lobbies/%1f",
      "/api/lobbies/%7F",
      "/api/lobbies/\u0000",
      "/api/lobbies/é",
      "/api/lobbies/a b",
      "/api/lobbies/%ZZ",
      "/api/lobbies/%E0%A4%A",
      "/api/lobbies/%FF",
      "/api/lobbies#x",
      "/api/lobbies?x=1#y",
      "/api/lobbies?x=\\",
      "http://evil/api/lobbies",
      "*",
      "",
    ]) {
      expect(checkRequestTarget(raw).ok, raw).toBe(false);
    }
  });

  it("accepts ordinary paths and keeps the query as sent", () => {
    expect(target("/")).toEqual({ path: "/", segments: [""], query: "" });
    expect(target("/api/lobbies/k7mq2x/join?x=1&y=%2F")).toEqual({
      path: "/api/lobbies/k7mq2x/join",
      segments: ["api", "lobbies", "k7mq2x", "join"],
      query: "?x=1&y=%2F",
    });
    expect(target("/assets/game.js").segments).toEqual(["assets", "game.js"]);
    expect(target("/admin/nodes/node.1/weight").segments).toEqual(["admin", "nodes", "node.1", "weight"]);
    expect(target("/api/lobbies/%41BCDEF").segments[2]).toBe("ABCDEF");
  });
});

describe("routes", () => {
  const route = (method: string, raw: string) => routeRequest(method, target(raw));

  it("forwards only the listed API routes, with the canonical code and the query", () => {
    expect(route("POST", "/api/lobbies")).toEqual({ kind: "forward", to: { kind: "create", path: "/api/lobbies" } });
    expect(route("GET", "/api/lobbies?x=1")).toEqual({
      kind: "directory",
      json: { kind: "any", path: "/api/lobbies?x=1" },
    });
    expect(route("GET", "/api/lobbies/k7mq2x")).toEqual({
      kind: "forward",
      to: { kind: "lobby", code: "K7MQ2X", path: "/api/lobbies/K7MQ2X" },
    });
    expect(route("POST", "/api/lobbies/K7MQ2X/join")).toEqual({
      kind: "forward",
      to: { kind: "lobby", code: "K7MQ2X", path: "/api/lobbies/K7MQ2X/join", limit: "join" },
    });
    expect(route("GET", "/api/stats")).toEqual({ kind: "forward", to: { kind: "any", path: "/api/stats" } });
    expect(route("GET", "/api/games")).toEqual({ kind: "forward", to: { kind: "any", path: "/api/games" } });
  });

  it("answers everything else under /api and /ws itself: 404, 400 bad_code, 405 with Allow, 426", () => {
    for (const raw of [
      "/api",
      "/api/",
      "/api/LOBBIES",
      "/api/Lobbies/K7MQ2X",
      "/api/lobbies/K7MQ2X/",
      "/api/lobbies/K7MQ2X/JOIN",
      "/api/lobbies/K7MQ2X/leave",
      "/api/internal/x",
      "/api/metrics",
      "/api/stats/",
      "/ws",
      "/ws/K7MQ2X/x",
    ]) {
      expect(route("GET", raw), raw).toMatchObject({ kind: "refused", status: 404, error: "not_found" });
    }
    for (const raw of ["/api/lobbies/abc", "/api/lobbies/", "/api/lobbies/__proto__/join", "/ws/ABCDE0"]) {
      expect(route("GET", raw), raw).toMatchObject({ kind: "refused", status: 400, error: "bad_code" });
    }
    expect(route("DELETE", "/api/lobbies/K7MQ2X")).toMatchObject({ status: 405, allow: "GET, HEAD" });
    expect(route("GET", "/api/lobbies/K7MQ2X/join")).toMatchObject({ status: 405, allow: "POST" });
    expect(route("PUT", "/api/lobbies")).toMatchObject({ status: 405, allow: "GET, HEAD, POST" });
    expect(route("POST", "/healthz")).toMatchObject({ status: 405, allow: "GET, HEAD" });
    expect(route("GET", "/ws/K7MQ2X")).toMatchObject({ status: 426, error: "upgrade_required" });
  });

  it("keeps probes, admin and pages on the balancer", () => {
    expect(route("GET", "/metrics")).toEqual({ kind: "probe", name: "metrics" });
    expect(route("GET", "/healthz")).toEqual({ kind: "probe", name: "healthz" });
    expect(route("GET", "/admin/ring")).toEqual({ kind: "admin" });
    expect(route("GET", "/")).toEqual({ kind: "page" });
    expect(route("GET", "/ops")).toEqual({ kind: "page" });
    expect(route("GET", "/internal/anything")).toEqual({ kind: "page" });
    expect(route("GET", "/METRICS")).toEqual({ kind: "page" });
  });

  it("upgrades only GET /ws/:code", () => {
    expect(routeUpgrade("GET", target("/ws/k7mq2x?token=t&since=3"))).toEqual({
      kind: "ws",
      code: "K7MQ2X",
      path: "/ws/K7MQ2X?token=t&since=3",
    });
    expect(routeUpgrade("GET", target("/api/lobbies/K7MQ2X"))).toMatchObject({ status: 404 });
    expect(routeUpgrade("GET", target("/WS/K7MQ2X"))).toMatchObject({ status: 404 });
    expect(routeUpgrade("GET", target("/ws/K7MQ2X/"))).toMatchObject({ status: 404 });
    expect(routeUpgrade("GET", target("/ws/nope"))).toMatchObject({ status: 400, error: "bad_code" });
    expect(routeUpgrade("POST", target("/ws/K7MQ2X"))).toMatchObject({ status: 405, allow: "GET" });
  });
});

describe("directory negotiation", () => {
  it("picks the live feed the way the node's Koa accepts() does", () => {
    expect(wantsEventStream(undefined)).toBe(false);
    expect(wantsEventStream("text/event-stream")).toBe(true);
    expect(wantsEventStream("*/*")).toBe(false);
    expect(wantsEventStream("application/json")).toBe(false);
    expect(wantsEventStream("text/event-stream, application/json")).toBe(true);
    expect(wantsEventStream("application/json, text/event-stream")).toBe(false);
    expect(wantsEventStream("application/json;q=0.5, text/event-stream")).toBe(true);
    expect(wantsEventStream("text/*, application/json")).toBe(false);
    expect(wantsEventStream("text/event-stream;q=0")).toBe(false);
  });
});

describe("client addresses", () => {
  it("keys IPv4 by address and IPv6 by its /64", () => {
    expect(limitKey("127.0.0.2")).toBe("127.0.0.2");
    expect(limitKey("::ffff:10.1.2.3")).toBe("10.1.2.3");
    expect(limitKey("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(limitKey("2001:db8:1:2::9")).toBe("2001:db8:1:2::/64");
    expect(limitKey("::1")).toBe("0:0:0:0::/64");
  });

  it("takes X-Forwarded-For only behind a trusted proxy, and then only its last entry", () => {
    const req = (remoteAddress: string, xff?: string) =>
      ({ socket: { remoteAddress }, headers: xff ? { "x-forwarded-for": xff } : {} }) as unknown as IncomingMessage;
    expect(clientAddress(req("10.0.0.9", "1.2.3.4"), false)).toBe("10.0.0.9");
    expect(clientAddress(req("10.0.0.9", "6.6.6.6, 1.2.3.4"), true)).toBe("1.2.3.4");
    expect(clientAddress(req("10.0.0.9"), true)).toBe("10.0.0.9");
  });
});
