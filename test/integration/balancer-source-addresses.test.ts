import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RingsideApi } from "../../shared/client/index.js";
import { ConfigError, loadBalancerConfig } from "../../shared/config.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
import { openRaw } from "../helpers/raw-socket.js";

const SOURCES = ["127.0.0.7", "127.0.0.8"];

/** Local addresses of established IPv4 connections to `port` (from /proc/net/tcp: hex, little-endian). */
function sourcesTo(port: number): string[] {
  const rows = readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1);
  const found: string[] = [];
  for (const row of rows) {
    const [, local, remote, state] = row.trim().split(/\s+/);
    if (!local || !remote || state !== "01" || Number.parseInt(remote.split(":")[1] ?? "", 16) !== port) continue;
    const hex = local.split(":")[0] ?? "";
    found.push([3, 2, 1, 0].map((i) => Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join("."));
  }
  return found;
}

/**
 * BALANCER_SOURCE_ADDRESSES: a node accepts at most one ephemeral port range
 * of tunnels from one source address, so a balancer in front of crowded nodes
 * connects from several, in turn. Checked on real processes by reading the
 * kernel's table of connections to the node.
 */
describe("balancer source addresses", () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startCluster({
      label: "bal_sources",
      nodes: 1,
      balancers: 1,
      env: { BALANCER_SOURCE_ADDRESSES: SOURCES.join(",") },
    });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it("connects WebSocket tunnels to nodes from each configured address in turn", async () => {
    const balancer = cluster.balancers[0] as { url: string; wsUrl: string };
    const nodePort = Number(new URL((cluster.nodes[0] as { url: string }).url).port);
    const api = new RingsideApi(balancer.url);
    const host = await api.createLobby("host");
    const tokens = [host.token];
    for (let i = 0; i < 3; i++) tokens.push((await api.joinLobby(host.code, `guest${i}`)).token);
    const before = sourcesTo(nodePort);
    const sockets = [];
    for (const token of tokens) sockets.push(await openRaw(`${balancer.wsUrl}/ws/${host.code}?token=${token}`));
    const tunnels = sourcesTo(nodePort).filter((a) => SOURCES.includes(a));
    expect(tunnels.length - before.filter((a) => SOURCES.includes(a)).length).toBe(4);
    expect(new Set(tunnels)).toEqual(new Set(SOURCES));
    for (const s of sockets) s.ws.close();
  });

  it("refuses a list that holds something other than an IP address", () => {
    const env = { DATABASE_URL: "postgres://x", RINGSIDE_ADMIN_TOKEN: "k3J9xQ2mZ7pL4vB8nR1tY6wC5sD0fG" };
    expect(() => loadBalancerConfig({ ...env, BALANCER_SOURCE_ADDRESSES: "127.0.0.7,not-an-ip" })).toThrow(ConfigError);
    expect(
      loadBalancerConfig({ ...env, BALANCER_SOURCE_ADDRESSES: " 127.0.0.7, ::1 " }).BALANCER_SOURCE_ADDRESSES,
    ).toEqual(["127.0.0.7", "::1"]);
  });
});
