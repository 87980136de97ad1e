import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GameTraffic } from "../../infra/ops/game-traffic.js";
import { fillKillCommand } from "../../infra/ops/kill-command.js";
import { DEV_ADMIN_TOKEN } from "../../shared/config.js";
import type { TestCluster } from "../helpers/cluster.js";
import { expectAckedActionsDurable, startClusterUnderPlay } from "../helpers/play.js";
import { eventually } from "../helpers/wait.js";

/**
 * The ops CLI as operators and the Kubernetes preStop hook run it, against a
 * real cluster under play: --json on every command (errors too), `drain
 * --wait` returning only once the node's lobbies are elsewhere, `rebalance
 * --wait` only once no lobby is off its ring owner, and the drill killing
 * through a kill command template instead of a local SIGKILL. Players keep
 * playing through all of it; nothing acked is lost.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

type CliResult = { code: number | null; stdout: string; stderr: string };

describe("the ops CLI against a real cluster", () => {
  let cluster: TestCluster;
  let traffic: GameTraffic;
  let stop: () => Promise<void>;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ringside-ops-cli-"));
    ({ cluster, traffic, stop } = await startClusterUnderPlay({
      label: "opscli",
      nodes: 3,
      lobbies: 12,
      pauseMs: [20, 60],
    }));
  }, 90_000);

  afterAll(async () => {
    await stop?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function cli(...args: string[]): Promise<CliResult> {
    const url = cluster.balancers[0]?.url as string;
    const child = spawn(process.execPath, ["--import", "tsx", "infra/ops/cli.ts", "--url", url, ...args], {
      cwd: ROOT,
      env: { ...process.env, RINGSIDE_ADMIN_TOKEN: DEV_ADMIN_TOKEN },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString("utf8");
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
    });
    return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
  }

  const ownedBy = async (node: string) =>
    (await cluster.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM lobbies WHERE owner_node = $1", [node]))
      .rows[0]?.n ?? 0;

  // Each CLI run starts a process with a TypeScript loader: seconds apiece on a loaded machine.
  const SLOW = 180_000;

  it(
    "prints one JSON document for every command with --json, and errors as JSON on stderr",
    async () => {
      await eventually(() => traffic.ackCount >= 50, { what: "50 acks" });
      const [ring, nodes, weight, announced, history, refused] = await Promise.all([
        cli("--json", "ring"),
        cli("nodes", "--json"),
        cli("--json", "weight", "n1", "1"),
        cli("--json", "announce", "hello", "all"),
        cli("--json", "history", "--limit", "5"),
        cli("--json", "weight", "n9", "5"),
      ]);
      const ringJson = JSON.parse(ring.stdout);
      expect(ringJson.members.map((m: { id: string }) => m.id).sort()).toEqual(["n1", "n2", "n3"]);
      expect(Object.values(ringJson.shares as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(JSON.parse(nodes.stdout).nodes).toHaveLength(3);
      expect(JSON.parse(weight.stdout)).toEqual({ id: "n1", weight: 1 });
      expect(JSON.parse(announced.stdout)).toMatchObject({ text: "hello all" });
      expect(JSON.parse(history.stdout).history).toBeInstanceOf(Array);

      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe("");
      expect(JSON.parse(refused.stderr)).toMatchObject({
        error: { status: 404, message: expect.stringMatching(/n9/) },
      });
    },
    SLOW,
  );

  it(
    "drain --wait returns once the node's lobbies are elsewhere, with progress on stderr",
    async () => {
      const before = await ownedBy("n2");
      expect(before).toBeGreaterThan(0);
      const drained = await cli("--json", "drain", "--wait", "--timeout", "120", "n2");
      expect(drained.code, drained.stderr).toBe(0);
      const result = JSON.parse(drained.stdout);
      expect(result).toMatchObject({ id: "n2", lobbiesLeft: 0 });
      expect(["moved", "exited"]).toContain(result.outcome);
      expect(drained.stderr).toMatch(/n2: draining \(\d+ lobbies to hand off\)/);
      // When it returned, Postgres recorded none of the node's lobbies as its own any more.
      expect(await ownedBy("n2")).toBe(0);
      const n2 = cluster.nodes.find((n) => n.env.NODE_ID === "n2");
      expect(await n2?.exited).toBe(0);
    },
    SLOW,
  );

  it(
    "rebalance --wait returns once no lobby with a live owner is off its ring owner",
    async () => {
      await cluster.addNode("n4");
      await cluster.awaitRing(["n1", "n3", "n4"]);
      const result = await cli("--json", "rebalance", "--wait", "--timeout", "120");
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ remaining: 0 });
      const ring = JSON.parse((await cli("--json", "ring")).stdout) as { exceptions: { ownerAlive: boolean }[] };
      expect(ring.exceptions.filter((e) => e.ownerAlive)).toEqual([]);
    },
    SLOW,
  );

  it(
    "drill --kill-command kills the victim through the template and --json prints the report",
    async () => {
      for (const node of cluster.nodes) {
        if (node.running) await writeFile(join(dir, `${node.env.NODE_ID}.pid`), String(node.pid));
      }
      const template = `kill -KILL "$(cat ${dir}/{node}.pid)"`;
      const drill = await cli(
        "--json",
        "drill",
        ...["--lobbies", "6", "--warmup-ms", "1000", "--observe-ms", "3000", "--out", dir],
        ...["--kill-command", template, "--database-url", cluster.db.url, "--schema", cluster.db.schema],
      );
      // 2 = a recovery target missed: timing on a loaded machine, not what this test is about.
      expect([0, 2], drill.stderr).toContain(drill.code);
      const report = JSON.parse(drill.stdout);
      expect(report.settings.killCommand).toBe(template);
      const summary = report.drills[0].summary;
      expect(summary.victimPid).toBe(0);
      expect(summary.affected).toBeGreaterThan(0);
      expect(summary.durability).toMatchObject({ lost: 0, duplicated: 0 });
      expect(report.files.json).toMatch(/drill-.*\.json$/);
      expect(drill.stderr).toMatch(new RegExp(`killing ${summary.victim} with the kill command`));
      const victim = cluster.nodes.find((n) => n.env.NODE_ID === summary.victim);
      await victim?.exited;
      expect(victim?.running).toBe(false);

      await expectAckedActionsDurable(traffic, cluster.db.pool);
    },
    SLOW,
  );

  it("puts the victim's id into the template shell-quoted", () => {
    expect(fillKillCommand("kubectl delete pod {node} --force", "ringside-node-1")).toBe(
      "kubectl delete pod 'ringside-node-1' --force",
    );
    expect(fillKillCommand("echo {node}", "a'; rm -rf /; '")).toBe(`echo 'a'\\''; rm -rf /; '\\'''`);
  });
});
