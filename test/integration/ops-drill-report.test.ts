import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type LobbyRecord, lobbyRecovery } from "../../infra/ops/drill-recovery.js";
import { buildReport, type DrillReport, writeReport } from "../../infra/ops/drill-report.js";
import { type DrillResult, summarizeDrill } from "../../infra/ops/drill-summary.js";
import { browserSuite, launchChromium } from "../helpers/browser.js";

/**
 * The drill's HTML report, rendered from synthetic drills and opened from a
 * file:// URL in a real Chromium: the timeline has one row per affected
 * lobby, the figures and targets show the summary, and the page needs
 * nothing from the network. Set RINGSIDE_KEEP_SCREENSHOT=1 to keep the
 * screenshot (its path is printed).
 */

const KILL = Date.parse("2026-01-15T10:00:00.000Z");

/**
 * One two-player lobby on `node` with steady acks before the kill. After it:
 * a number moves it to `to` that many ms later, "never" leaves it silent, and
 * "unaffected" keeps it going on its node.
 */
function syntheticLobby(
  code: string,
  node: string,
  after: number | "never" | "unaffected",
  to = "node-1",
): LobbyRecord {
  const events = Array.from({ length: 40 }, (_, i) => KILL - 2000 + i * 50);
  const welcomes = [{ node, at: KILL - 5000 }];
  if (typeof after === "number") {
    welcomes.push({ node: to, at: KILL + after - 150 });
    for (let t = KILL + after; t < KILL + 5000; t += 120) events.push(t);
  } else if (after === "unaffected") {
    for (let t = KILL; t < KILL + 5000; t += 60) events.push(t);
  }
  const p = {
    welcomes,
    events: events.map((at, i) => ({ seq: i + 1, at })),
    acked: events.map((ackedAt) => ({ ackedAt })),
  };
  return { code, players: [p, { ...p, acked: [] }] };
}

function syntheticDrill(drill: number, recoveries: number[], unrecovered = 0): DrillResult {
  const records = [
    ...recoveries.map((ms, i) =>
      syntheticLobby(`A${drill}X${String(i).padStart(3, "0")}`, "node-2", ms, i % 2 ? "node-3" : "node-1"),
    ),
    ...Array.from({ length: unrecovered }, (_, i) => syntheticLobby(`L${drill}X${i}LST`, "node-2", "never")),
    ...["node-1", "node-3", "node-1"].map((n, i) => syntheticLobby(`U${drill}X${i}OKY`, n, "unaffected")),
  ];
  const window = { killAt: KILL, victim: "node-2", loadEndAt: KILL + 5000, endAt: KILL + 5200, timelineFromMs: -2000 };
  const lobbies = records.map((l) => lobbyRecovery(l, window));
  return {
    lobbies,
    summary: summarizeDrill({
      drill,
      victim: "node-2",
      victimPid: 4242,
      killAt: KILL,
      windowMs: { from: -2000, to: 5200 },
      lobbies,
      ackedAt: records.flatMap((l) => l.players.flatMap((p) => p.acked.map((a) => a.ackedAt))),
      rejected: 3,
      failed: 0,
      durability: { acked: 1000, lost: 0, duplicated: 0, misordered: 0, gapsInLog: 0, problems: [] },
    }),
  };
}

function syntheticReport(drills: DrillResult[]): DrillReport {
  return buildReport(drills, {
    balancer: "http://127.0.0.1:4000",
    settings: {
      lobbies: drills[0]?.summary.lobbies ?? 0,
      warmupMs: 3000,
      observeMs: 5000,
      repeat: drills.length,
      node: null,
      random: false,
    },
    createdAt: new Date(KILL + 6000),
  });
}

const { suite, title } = browserSuite("the drill's HTML report in a real browser");

suite(title, () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ringside-drill-report-"));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    if (dir && !process.env.RINGSIDE_KEEP_SCREENSHOT) await rm(dir, { recursive: true, force: true });
  });

  it("shows the verdict, the figures, the targets and one timeline row per affected lobby", async () => {
    const drills = [syntheticDrill(1, [420, 610, 650, 700, 880, 1210]), syntheticDrill(2, [350, 500, 760, 2600])];
    const report = syntheticReport(drills);
    const paths = await writeReport(report, dir);
    const json = JSON.parse(await readFile(paths.json, "utf8")) as DrillReport;
    expect(json.drills).toHaveLength(2);
    expect(json.totals).toMatchObject({ affected: 10, recovered: 10, maxMs: 2600, p99Ms: 2600 });

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    const errors: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(pathToFileURL(paths.html).href);

    await expect(page.title()).resolves.toContain("targets NOT met");
    expect(await page.locator("[data-verdict]").getAttribute("data-verdict")).toBe("fail");
    expect(await page.locator('[data-metric="p99"]').textContent()).toBe("2600 ms");
    expect(await page.locator('[data-metric="recovered"]').textContent()).toBe("10/10");
    expect(await page.locator('[data-metric="lost"]').textContent()).toBe("0");
    expect(await page.locator('tr[data-target="recovery p99"] .pill').textContent()).toBe("not met");
    expect(await page.locator('tr[data-target="acked actions lost"] .pill').textContent()).toBe("met");
    expect(await page.locator('tr[data-target="drills passing"] td.num').textContent()).toBe("1/2");

    for (const d of drills) {
      const rows = page.locator(`section.drill[data-drill="${d.summary.drill}"] .lobby-row`);
      await expect(rows.count()).resolves.toBe(d.summary.affected);
      const codes = await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-lobby")));
      expect(codes.sort()).toEqual(
        d.lobbies
          .filter((l) => l.affected)
          .map((l) => l.code)
          .sort(),
      );
      await expect(page.locator(`section.drill[data-drill="${d.summary.drill}"] .kill`).count()).resolves.toBe(1);
    }
    // Every row's bar is drawn, and is wider for a slower lobby.
    const widths = await page
      .locator('section.drill[data-drill="2"] .lobby-row rect.outage')
      .evaluateAll((els) => els.map((e) => (e as SVGGraphicsElement).getBBox().width));
    expect(widths).toHaveLength(4);
    expect(widths).toEqual([...widths].sort((a, b) => a - b));
    await expect(page.locator("svg.histogram rect.bin").count()).resolves.toBeGreaterThan(3);

    const shot = join(dir, "drill-report.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect((await stat(shot)).size).toBeGreaterThan(20_000);
    if (process.env.RINGSIDE_KEEP_SCREENSHOT) console.log(`screenshot: ${shot}`);
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith("file:"))).toEqual([]);
    await page.close();
  });

  it("marks an unrecovered lobby and passes a clean drill", async () => {
    const failing = syntheticReport([syntheticDrill(1, [500, 700], 1)]);
    const passing = syntheticReport([syntheticDrill(1, [300, 450, 800])]);
    const page = await browser.newPage();
    await page.goto(pathToFileURL((await writeReport(failing, join(dir, "failing"))).html).href);
    await expect(page.locator(".lobby-row").count()).resolves.toBe(3);
    await expect(page.locator(".lobby-row rect.outage.lost").count()).resolves.toBe(1);
    expect(await page.locator('[data-metric="max"]').textContent()).toBe("never");
    await page.goto(pathToFileURL((await writeReport(passing, join(dir, "passing"))).html).href);
    expect(await page.locator("[data-verdict]").getAttribute("data-verdict")).toBe("pass");
    await expect(page.locator(".pill.not-met").count()).resolves.toBe(0);
    await page.close();
  });
});
