import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { WelcomeFrame } from "../../shared/wire.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
import { codesOwnedBy, createLobbyOn, type NodeLobby } from "../helpers/node-lobbies.js";
import type { RingsideProcess } from "../helpers/processes.js";
import { within } from "../helpers/wait.js";

/**
 * A request refused by a node that just died waits at the balancer for the
 * verdict on that node, then goes to the lobby's new owner: the player gets
 * in on the first attempt instead of being refused until the ring changes
 * (and backing off further each time). The probe here needs 20 refusals
 * (~1 s) to record the death, so every request sent right after the kill is
 * surely refused first. A second balancer with the hold off answers 503
 * node_unavailable as before, once its (zero) hold ran out.
 */

describe("balancer: requests refused by a dying node wait for its verdict", () => {
  let cluster: TestCluster;
  let holdOff: RingsideProcess;
  let lobbies: NodeLobby[];

  beforeAll(async () => {
    cluster = await startCluster({
      label: "refusal_hold",
      nodes: 2,
      balancers: 1,
      env: { RINGSIDE_PROBE_FAILURES: "20" },
    });
    holdOff = await cluster.group.start("balancer", { BALANCER_ID: "b2", RINGSIDE_REFUSED_HOLD_MS: "0" });
    cluster.balancers.push(holdOff);
    await cluster.awaitRing(["n1", "n2"]);
    const n1 = cluster.nodes[0] as RingsideProcess;
    lobbies = await Promise.all(codesOwnedBy(["n1", "n2"], "n1", 3).map((code) => createLobbyOn(n1.url, code)));
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it("sends a WebSocket and a GET refused by the killed node on to the new owner; with the hold off, 503 as before", async () => {
    const [wsLobby, getLobby, refusedLobby] = lobbies as [NodeLobby, NodeLobby, NodeLobby];
    const balancer = cluster.balancers[0] as RingsideProcess;
    const n1 = cluster.nodes[0] as RingsideProcess;
    n1.kill("SIGKILL");
    await n1.exited;
    const killedAt = Date.now();

    const [welcome, got, refused] = await Promise.all([
      within(firstWelcome(balancer.url, wsLobby), "a welcome through the holding balancer"),
      fetch(`${balancer.url}/api/lobbies/${getLobby.code}`),
      fetch(`${holdOff.url}/api/lobbies/${refusedLobby.code}`),
    ]);
    expect(welcome.node).toBe("n2");
    expect(got.status).toBe(200);
    expect(got.headers.get("x-ringside-node")).toBe("n2");
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: "node_unavailable" });
    // Liveness only: the hold lasts until the probe's 20 refusals, far under its 3 s default.
    expect(Date.now() - killedAt).toBeLessThan(15_000);

    const held = await holdCounts(balancer);
    expect(held["ws sent_again"]).toBeGreaterThanOrEqual(1);
    expect(held["http sent_again"]).toBeGreaterThanOrEqual(1);
    expect((await holdCounts(holdOff))["http expired"]).toBeGreaterThanOrEqual(1);
  }, 60_000);
});

/** Opens one raw WebSocket (no SDK retries) and resolves with the first frame, which must be a welcome. */
function firstWelcome(baseUrl: string, lobby: NodeLobby): Promise<WelcomeFrame> {
  const url = `${baseUrl.replace(/^http/, "ws")}/ws/${lobby.code}?token=${encodeURIComponent(lobby.token)}`;
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once("message", (data) => {
      const frame = JSON.parse(String(data)) as WelcomeFrame;
      socket.close();
      if (frame.type === "welcome") resolve(frame);
      else reject(new Error(`first frame: ${String(data)}`));
    });
    socket.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    socket.once("error", reject);
  });
}

/** ringside_balancer_refused_holds_total by "<kind> <result>". */
async function holdCounts(balancer: RingsideProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`${balancer.url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/^ringside_balancer_refused_holds_total\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries([...(m[1] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    counts[`${labels.kind} ${labels.result}`] = Number(m[2]);
  }
  return counts;
}
