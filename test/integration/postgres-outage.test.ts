import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { GameTraffic } from "../../infra/ops/game-traffic.js";
import type { TestCluster } from "../helpers/cluster.js";
import { expectAckedActionsDurable, startClusterUnderPlay } from "../helpers/play.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { eventually } from "../helpers/wait.js";

/**
 * Issue 10, item 4: Postgres black-holed for 4 s under play (every process
 * reaches it through a TCP proxy that stops forwarding). Nodes stop acking
 * (nothing acked is lost), /readyz answers 503 and says why, and once
 * Postgres answers again every lobby serves again within about 2 s.
 */

const OUTAGE_MS = 4000;

describe("a 4 s Postgres black hole under play", () => {
  let proxy: TcpProxy;
  let cluster: TestCluster;
  let traffic: GameTraffic;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    let url: string;
    ({ proxy, url } = await TcpProxy.forUrl(inject("databaseUrl")));
    ({ cluster, traffic, stop } = await startClusterUnderPlay({
      label: "pg_outage",
      nodes: 3,
      lobbies: 12,
      pauseMs: [15, 40],
      env: { DATABASE_URL: url },
    }));
  }, 90_000);

  afterAll(async () => {
    proxy?.resume();
    await stop?.();
    await proxy?.close();
  });

  const readiness = () =>
    Promise.all(
      cluster.nodes.map(async (n) => {
        const res = await fetch(`${n.url}/readyz`);
        return { status: res.status, ...((await res.json()) as { reason?: string }) };
      }),
    );

  it("stops acking, says why, loses nothing, and serves again soon after", async () => {
    await eventually(() => traffic.ackCount >= 200, { what: "200 acks" });
    const pausedAt = Date.now();
    proxy.pause();
    const unready = await eventually(
      async () => {
        const all = await readiness();
        return all.every((r) => r.status === 503) && all;
      },
      { timeoutMs: OUTAGE_MS + 2000, what: "every node's /readyz at 503" },
    );
    for (const r of unready) expect(r.reason).toMatch(/self-fenced|lease not confirmed/);
    console.info(`[outage] /readyz: ${JSON.stringify(unready[0]?.reason)}`);
    // Nothing is acked while Postgres is gone (acks sent before the pause may still arrive for a moment).
    const acksDuring = () => traffic.players.flatMap((p) => p.acked).filter((a) => a.sentAt > pausedAt + 500);
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - pausedAt))));
    expect(acksDuring().filter((a) => a.ackedAt < Date.now())).toEqual([]);

    const resumedAt = Date.now();
    proxy.resume();
    const servedAgain = new Map<string, number>();
    await eventually(
      () => {
        for (const lobby of traffic.lobbies) {
          if (servedAgain.has(lobby.code)) continue;
          const first = lobby.players
            .flatMap((p) => p.acked)
            .filter((a) => a.ackedAt > resumedAt)
            .sort((a, b) => a.ackedAt - b.ackedAt)[0];
          if (first) servedAgain.set(lobby.code, first.ackedAt - resumedAt);
        }
        return servedAgain.size === traffic.lobbies.length;
      },
      { timeoutMs: 20_000, what: "every lobby acking again after Postgres came back" },
    );
    await eventually(async () => (await readiness()).every((r) => r.status === 200), {
      what: "every node ready again",
    });
    // When each node took its lease back (a log line's time, on this machine's clock).
    const regained = cluster.nodes.map((n) => {
      const line = n.lines.find((l) => l.includes('"msg":"serving again"') && logTime(l) > resumedAt);
      return line ? logTime(line) - resumedAt : Number.NaN;
    });
    console.info(`[outage] nodes serving again ${regained.join(", ")} ms after Postgres returned`);
    const times = [...servedAgain.values()].sort((a, b) => a - b);
    console.info(
      `[outage] ${OUTAGE_MS} ms black hole: every lobby acking again ${times.at(-1)} ms after Postgres returned ` +
        `(p50 ${times[Math.floor(times.length / 2)]} ms; target 2000 ms)`,
    );
    await traffic.stop();
    const verdict = await expectAckedActionsDurable(traffic, cluster.db.pool);
    const failed = traffic.players.reduce((n, p) => n + p.failed, 0);
    console.info(`[outage] ${verdict.acked} acked, 0 lost; ${failed} actions given up by clients`);
  });
});

function logTime(line: string): number {
  try {
    return Date.parse((JSON.parse(line) as { time?: string }).time ?? "");
  } catch {
    return Number.NaN;
  }
}
