import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ClusterControl,
  ControlError,
  type ControlServer,
  type MemberView,
  startControlApi,
} from "../../infra/cluster/control-api.js";

/**
 * The launcher's control API in front of a fake cluster: it wants the admin
 * token, routes each call to the cluster, and answers bad input with a
 * status and a JSON error, never a crash.
 */

const TOKEN = "test-admin-token";

describe("the launcher's control API", () => {
  const calls: string[] = [];
  const member: MemberView = { name: "node-1", kind: "node", port: 1, pid: 42, state: "running", restarts: 0 };
  let stalled = false;
  const control: ClusterControl = {
    members: () => [member],
    start: async (name) => {
      calls.push(`start ${name}`);
      if (name !== "node-1") throw new ControlError(404, "unknown_member", `no member ${name}`);
      throw new ControlError(409, "running", "node-1 is running");
    },
    signal: (name, signal) => {
      calls.push(`${signal} ${name}`);
      return member;
    },
    postgres: () => ({ proxied: true, stalled }),
    setPostgresStalled: (s) => {
      stalled = s;
      return { proxied: true, stalled };
    },
  };
  let server: ControlServer;

  beforeAll(async () => {
    server = await startControlApi(control, { token: TOKEN, port: 0 });
  });
  afterAll(() => server?.close());

  const call = (method: string, path: string, body?: string, token = TOKEN) =>
    fetch(`${server.url}${path}`, { method, body, headers: { authorization: `Bearer ${token}` } });

  it("listens on 127.0.0.1 only and wants the admin token", async () => {
    expect(new URL(server.url).hostname).toBe("127.0.0.1");
    const res = await call("GET", "/control", undefined, "wrong");
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "unauthorized" });
    expect(calls).toEqual([]);
  });

  it("lists the members and Postgres", async () => {
    const res = await call("GET", "/control");
    expect(await res.json()).toEqual({ members: [member], postgres: { proxied: true, stalled: false } });
  });

  it("signals a member and stalls Postgres", async () => {
    expect((await call("POST", "/control/members/node-1/signal", '{"signal":"SIGSTOP"}')).status).toBe(200);
    expect(await (await call("POST", "/control/postgres/stall")).json()).toEqual({ proxied: true, stalled: true });
    expect(await (await call("POST", "/control/postgres/unstall")).json()).toEqual({ proxied: true, stalled: false });
    expect(calls).toContain("SIGSTOP node-1");
  });

  it("answers bad input with a status and a JSON error", async () => {
    const cases: [string, string, string | undefined, number, string][] = [
      ["POST", "/control/members/node-1/signal", '{"signal":"SIGHUP"}', 400, "bad_signal"],
      ["POST", "/control/members/node-1/signal", "not json", 400, "bad_json"],
      ["POST", "/control/members/node-1/signal", `{"signal":"${"x".repeat(2000)}"}`, 413, "too_large"],
      ["POST", "/control/members/node-1/start", undefined, 409, "running"],
      ["POST", "/control/members/node-9/start", undefined, 404, "unknown_member"],
      ["POST", "/control/members/../start", undefined, 404, "not_found"],
      ["DELETE", "/control", undefined, 405, "not_found"],
    ];
    for (const [method, path, body, status, error] of cases) {
      const res = await call(method, path, body);
      expect({ path, status: res.status }).toEqual({ path, status });
      expect(await res.json()).toMatchObject({ error });
    }
  });
});
