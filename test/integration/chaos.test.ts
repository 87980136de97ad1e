import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { FAULT_KINDS } from "../../infra/chaos/recovery.js";
import type { ChaosReport } from "../../infra/chaos/report.js";
import { dropSchema } from "../../shared/db/migrate.js";
import { chromiumInstalled, launchChromium } from "../helpers/browser.js";

/**
 * A short chaos soak from a fresh start (`npm run chaos -- --start`): its own
 * cluster (three nodes, one balancer, Postgres behind the stallable proxy),
 * a fixed seed, every fault kind once (node SIGKILL and SIGSTOP, balancer
 * SIGKILL, Postgres stall, drain, rebalance) under game and chat load. It
 * must exit 0 with 0 lost, duplicated or misordered, and its HTML report must
 * render its verdict and timeline in Chromium without an error.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** A liveness bound for the whole soak on a loaded machine, not a timing assertion. */
const SOAK_BOUND_MS = 240_000;

describe("npm run chaos: a short soak, its verdict and its report in a browser", () => {
  let dir: string;
  let browser: Browser | undefined;
  const schema = `test_chaos_${randomBytes(4).toString("hex")}`;
  const databaseUrl = inject("databaseUrl");
  let soak: { code: number | null; output: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ringside-chaos-test-"));
    [soak, browser] = await Promise.all([runSoak(dir), chromiumInstalled ? launchChromium() : undefined]);
  }, SOAK_BOUND_MS + 30_000);

  afterAll(async () => {
    await browser?.close();
    await dropSchema(databaseUrl, schema).catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function runSoak(out: string): Promise<{ code: number | null; output: string }> {
    const args = ["--import", "tsx", "infra/chaos/cli.ts", "--start", "--minutes", "0.1", "--seed", "7"];
    args.push("--lobbies", "6", "--hold-ms", "2500", "--calm-ms", "800", "--warmup-ms", "1500", "--out", out);
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      // A short lease, so a stopped node is failed over within the short stop.
      env: { ...process.env, DATABASE_URL: databaseUrl, RINGSIDE_SCHEMA: schema, RINGSIDE_LEASE_MS: "1500" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGINT"), SOAK_BOUND_MS);
    return new Promise((resolve) =>
      child.once("exit", (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      }),
    );
  }

  async function report(): Promise<{ json: ChaosReport; html: string }> {
    const files = await readdir(dir);
    const base = files.find((f) => f.endsWith(".json"))?.replace(/\.json$/, "");
    if (!base) throw new Error(`no report written:\n${soak.output}`);
    return { json: JSON.parse(await readFile(join(dir, `${base}.json`), "utf8")), html: join(dir, `${base}.html`) };
  }

  it("runs every fault kind, recovers from each, and loses, duplicates or misorders nothing", async () => {
    expect(soak.code, soak.output).toBe(0);
    const { json } = await report();
    for (const kind of FAULT_KINDS) {
      expect(json.faults.filter((f) => f.kind === kind).length, kind).toBeGreaterThanOrEqual(1);
    }
    expect(json.faults.filter((f) => f.error !== null || f.unrecovered > 0)).toEqual([]);
    expect(json.durability).toMatchObject({ lost: 0, duplicated: 0, misordered: 0, gaps: 0 });
    expect(json.durability.acked).toBeGreaterThan(0);
    // The balancer was the only one: every lobby's players saw its outage, and it was measured.
    const balancerKill = json.faults.find((f) => f.kind === "balancer-kill");
    expect(balancerKill?.affected).toBe(json.settings.lobbies);
    expect(balancerKill?.recoveryMs).toBeGreaterThan(0);
    expect(json.passed).toBe(true);
    expect(soak.output).toContain("no violation");
  });

  const chromium = chromiumInstalled ? "" : " (skipped: chromium not installed (apt-get install chromium))";
  it.skipIf(!chromiumInstalled)(
    `writes an HTML report whose verdict and timeline render in Chromium without an error${chromium}`,
    async () => {
      const { json, html } = await report();
      if (!browser) throw new Error("no browser");
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on("pageerror", (err) => problems.push(err.message));
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(m.text());
      });
      await page.goto(`file://${html}`);
      await expect.poll(() => page.locator('[data-verdict="pass"]').textContent()).toContain("no violation");
      const timeline = page.locator("svg.chaos-timeline");
      expect(await timeline.isVisible()).toBe(true);
      expect((await timeline.boundingBox())?.height ?? 0).toBeGreaterThan(100);
      expect(await timeline.locator("g.kind-row").count()).toBe(FAULT_KINDS.length);
      expect(await timeline.locator("g.fault").count()).toBe(json.faults.length);
      expect(await page.locator('[data-metric="lost"]').textContent()).toBe("0");
      expect(problems).toEqual([]);
      await page.close();
    },
  );
});
