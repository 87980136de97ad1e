import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DEV_ADMIN_TOKEN } from "../../shared/config.js";
import { browserSuite, launchChromium } from "../helpers/browser.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";

/**
 * The pages the balancer serves, in a real Chromium against a real cluster
 * (two nodes, one balancer): two players play Connect Four to a win and
 * chat, and the ops dashboard shows the nodes and the ring and announces to
 * the players. Every wait is on the page's own state (selectors and text),
 * never a sleep. Set RINGSIDE_KEEP_SCREENSHOT=1 to keep the screenshots
 * (their folder is printed).
 */

const { suite, title } = browserSuite("the game page and the ops dashboard in a real browser");

suite(title, () => {
  let cluster: TestCluster;
  let browser: Browser;
  let dir: string;
  let base: string;
  /** Uncaught exceptions and CSP violations, per page: each test ends expecting none. */
  const problems: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ringside-pages-"));
    [cluster, browser] = await Promise.all([
      startCluster({ label: "pages", nodes: 2, balancers: 1 }),
      launchChromium(),
    ]);
    base = (cluster.balancers[0] as { url: string }).url;
  });

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
    if (!dir) return;
    if (process.env.RINGSIDE_KEEP_SCREENSHOT) console.log(`screenshots: ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  });

  /** A page in its own browser context: its own sessionStorage and localStorage, like another person. */
  async function newPage(width = 1280, height = 860): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error" && /Content Security Policy/i.test(message.text())) problems.push(message.text());
    });
    return page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });

  it("serves the pages and assets from memory with ETags", async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    const etag = page.headers.get("etag") ?? "";
    expect(etag).toMatch(/^".+"$/);
    expect(await page.text()).toContain("/assets/game.js");
    expect((await fetch(`${base}/`, { headers: { "if-none-match": etag } })).status).toBe(304);

    for (const [path, type] of [
      ["/ops", "text/html; charset=utf-8"],
      ["/assets/game.js", "text/javascript; charset=utf-8"],
      ["/assets/ops.js", "text/javascript; charset=utf-8"],
      ["/assets/style.css", "text/css; charset=utf-8"],
    ]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toBe(type);
      expect(res.headers.get("etag"), path).toBeTruthy();
    }
    const missing = await fetch(`${base}/assets/nothing.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: "not_found" });
  });

  let alice: Page;
  let code: string;

  it("two players create and join a lobby, play until seat 1 wins, chat, message and resume after a reload", async () => {
    alice = await newPage();
    await alice.goto(`${base}/`);
    await shot(alice, "01-entry");
    await alice.fill("#name-input", "Alice");
    await alice.click("#create-btn");
    await alice.locator('#turn[data-state="waiting"]').waitFor();
    code = (await alice.locator("#lobby-code").textContent()) ?? "";
    expect(code).toMatch(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$/);
    expect(new URL(alice.url()).searchParams.get("code")).toBe(code);
    expect(await alice.inputValue("#share-link")).toBe(`${base}/?code=${code}`);
    await alice.locator("#conn", { hasText: /served by n[12]/ }).waitFor();

    const bob = await newPage();
    await bob.goto(`${base}/?code=${code}`);
    expect(await bob.inputValue("#code-input")).toBe(code);
    await shot(bob, "02-invited");
    await bob.fill("#name-input", "Bob");
    await bob.click("#join-btn");

    // Seat 1 (Alice) opens round 1 and stacks column 0; Bob answers in column 1.
    const moves: [Page, number][] = [
      [alice, 0],
      [bob, 1],
      [alice, 0],
      [bob, 1],
      [alice, 0],
      [bob, 1],
      [alice, 0],
    ];
    for (const [player, column] of moves) {
      await player.locator('#turn[data-state="mine"]').waitFor();
      await player.click(`#board .column[data-column="${column}"]`);
    }
    for (const player of [alice, bob]) {
      await player.locator("#turn-title", { hasText: "Alice wins!" }).waitFor();
      await expect(player.locator(".cell.win.p1").count()).resolves.toBe(4);
      await player.locator("#rematch-btn").waitFor();
    }
    expect(await alice.locator("#turn").getAttribute("data-state")).toBe("won");
    expect(await bob.locator("#turn").getAttribute("data-state")).toBe("lost");

    await alice.fill("#chat-input", "good game, Bob!");
    await alice.press("#chat-input", "Enter");
    await bob.locator("#chat-log li", { hasText: "good game, Bob!" }).waitFor();
    await bob.locator("#chat-log li .author", { hasText: "Alice" }).waitFor();
    // Both players are online once presence has caught up (refreshed on joins and every few seconds).
    await bob.locator('#players .player[data-online="true"]').nth(1).waitFor();

    // A direct message, addressed from the players list.
    await bob.click(`#players .player:has-text("Alice") button`);
    await bob.fill("#dm-text", "rematch later?");
    await bob.press("#dm-text", "Enter");
    await alice.locator("#dm-log li.in", { hasText: "rematch later?" }).waitFor();
    await alice.locator("#dm-log li.in .meta", { hasText: `From Bob (lobby ${code})` }).waitFor();

    // A reload resumes the same seat from sessionStorage, with the whole lobby back.
    await bob.reload();
    await bob.locator('#conn[data-status="open"]').waitFor();
    await bob.locator("#turn-title", { hasText: "Alice wins!" }).waitFor();
    expect(await bob.locator("#my-name").textContent()).toBe("Bob");
    await bob.locator("#chat-log li", { hasText: "good game, Bob!" }).waitFor();

    await shot(alice, "03-game-alice");
    await shot(bob, "03-game-bob");
    expect(problems).toEqual([]);
  });

  it("the ops dashboard shows both nodes and the ring, and announces to the players", async () => {
    const ops = await newPage(1440, 1000);
    await ops.goto(`${base}/ops`);
    await ops.fill("#token-input", "not-the-token");
    await ops.click("#token-form button");
    await ops.locator('#auth-message[data-state="refused"]', { hasText: "401" }).waitFor();
    await shot(ops, "04-ops-refused");

    await ops.fill("#token-input", DEV_ADMIN_TOKEN);
    await ops.click("#token-form button");
    await ops.locator('#admin-status[data-status="open"]').waitFor();
    for (const id of ["n1", "n2"])
      await ops.locator(`#nodes-body tr[data-node="${id}"][data-state="active"]`).waitFor();
    await expect(ops.locator("#nodes-body tr").count()).resolves.toBe(2);
    await ops.locator("#ring svg path").first().waitFor();
    await ops.locator(`#directory-body tr[data-lobby="${code}"]`).waitFor();
    await ops.locator("#stat-nodes", { hasText: "2" }).waitFor();

    await ops.fill("#announce-input", "Scheduled maintenance at 18:00 UTC: games resume by themselves.");
    await ops.click("#announce-form button");
    await alice.locator("#banner:not([hidden]) #banner-text", { hasText: "Scheduled maintenance" }).waitFor();

    await ops.click("#rebalance");
    await ops.getByText("Rebalance requested").waitFor();
    await shot(ops, "05-ops");
    await shot(alice, "06-alice-announcement");
    expect(problems).toEqual([]);
  });
});
