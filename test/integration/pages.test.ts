import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DEV_ADMIN_TOKEN } from "../../shared/config.js";
import { chooseTarget, type SeenCell } from "../helpers/battleship-aim.js";
import { browserSuite, launchChromium } from "../helpers/browser.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";

/**
 * The pages the balancer serves, in a real Chromium against a real cluster
 * (two nodes, one balancer): two players play Connect Four to a win and
 * chat, the ops dashboard shows the nodes and the ring and announces to the
 * players, and two players play Battleship to a win. Every wait is on the page's own state (selectors and text),
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

  /**
   * Waits until this player's page has seen all `shots` fired so far and it is its turn or the round is
   * over; returns the turn state and the enemy waters as the page shows them (one round trip).
   */
  async function awaitTurn(page: Page, shots: number): Promise<{ state: string; seen: SeenCell[] }> {
    const handle = await page.waitForFunction((fired) => {
      const state = document.querySelector<HTMLElement>("#turn")?.dataset.state ?? "";
      const marked = (grid: string) =>
        document.querySelectorAll(`${grid} .sea-cell:is([data-state="miss"], [data-state="hit"], [data-state="sunk"])`)
          .length;
      if (!["mine", "won", "lost"].includes(state) || marked("#own-grid") + marked("#enemy-grid") !== fired)
        return null;
      const cells = [...document.querySelectorAll<HTMLElement>("#enemy-grid .sea-cell")];
      const seen = cells.map((c) => ({
        row: Number(c.dataset.row),
        column: Number(c.dataset.column),
        state: c.dataset.state ?? "",
      }));
      return { state, seen };
    }, shots);
    return (await handle.jsonValue()) as { state: string; seen: SeenCell[] };
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

  it("two players play Battleship to a win: hidden fleets, the turn clock, firing by clicking, a reload, a rematch", async () => {
    const started = Date.now();
    const ann = await newPage();
    await ann.goto(`${base}/`);
    await ann.fill("#name-input", "Ann");
    await ann.selectOption("#game-select", "battleship");
    await ann.locator("#entry-title", { hasText: "Play Battleship" }).waitFor();
    // A small board and the two-ship fleet keep the battle short; the game and the page take any size.
    await ann.selectOption("#opt-size", "8");
    await ann.selectOption("#opt-fleet", "duel");
    await ann.click("#create-btn");
    await ann.locator('#turn[data-state="waiting"]').waitFor();
    await ann.locator("#game-tag", { hasText: "Battleship" }).waitFor();
    const lobby = (await ann.locator("#lobby-code").textContent()) ?? "";

    const ben = await newPage();
    await ben.goto(`${base}/?code=${lobby}`);
    await ben.fill("#name-input", "Ben");
    await ben.click("#join-btn");

    // Each sees a layout of their own before Ready (the 5 cells of the duel fleet), and no enemy ship.
    for (const player of [ann, ben]) {
      await player.locator('#turn[data-state="placing"]').waitFor();
      await player.locator("#clock", { hasText: /Placement · [01]:\d\d/ }).waitFor();
      await expect(player.locator('#own-grid .sea-cell[data-state="ship"]').count()).resolves.toBe(5);
    }
    await ann.click("#shuffle-btn");
    await ann.click("#ready-btn");
    await ann.locator("#placement").waitFor({ state: "hidden" });
    await ben.click("#ready-btn");
    await shot(ann, "07-battleship-placed");
    for (const player of [ann, ben]) {
      await player.locator("#clock", { hasText: /Turn · 0:[0-3]\d/ }).waitFor();
      await expect(player.locator('#own-grid .sea-cell[data-state="ship"]').count()).resolves.toBe(5);
      await expect(player.locator('#enemy-grid .sea-cell[data-state="ship"]').count()).resolves.toBe(0);
      await expect(player.locator("#enemy-grid .sea-cell").count()).resolves.toBe(64);
    }

    // Ann (seat 1) fires first; turns alternate after every shot, hit or miss. One round trip to the
    // page per wait: the shooter's turn line and what it sees of the enemy waters, read together.
    const players = [ann, ben];
    let shots = 0;
    for (let turn = 0; ; turn = 1 - turn) {
      const shooter = players[turn] as Page;
      const { state, seen } = await awaitTurn(shooter, shots);
      if (state !== "mine") break;
      const { row, column } = chooseTarget(seen);
      await shooter.click(`#enemy-grid .sea-cell[data-row="${row}"][data-column="${column}"]`);
      shots++;
      // Mid-battle, Ben reloads: his own fleet (and the hits on it) come back from the server.
      if (shots === 6) {
        await ben.reload();
        await ben.locator('#conn[data-status="open"]').waitFor();
        const afloat = ben.locator(
          '#own-grid .sea-cell[data-state="ship"], #own-grid .sea-cell[data-state="hit"], #own-grid .sea-cell[data-state="sunk"]',
        );
        await expect(afloat.count()).resolves.toBe(5);
      }
    }
    const [winner, loser] = (await ann.locator("#turn").getAttribute("data-state")) === "won" ? [ann, ben] : [ben, ann];
    await winner.locator('#turn[data-state="won"] #turn-title', { hasText: "wins!" }).waitFor();
    await loser.locator('#turn[data-state="lost"]').waitFor();
    await expect(loser.locator('#own-grid .sea-cell[data-state="sunk"]').count()).resolves.toBe(5);
    await expect(winner.locator('#enemy-grid .sea-cell[data-state="sunk"]').count()).resolves.toBe(5);
    await shot(winner, "08-battleship-won");
    await shot(loser, "08-battleship-lost");

    await loser.click("#rematch-btn");
    for (const player of [ann, ben]) await player.locator('#turn[data-state="placing"]').waitFor();
    await expect(ann.locator("#round").textContent()).resolves.toContain("Round 2");
    console.log(`battleship in the browser: ${shots} shots, ${Date.now() - started} ms`);
    expect(problems).toEqual([]);
    // A liveness bound: about 20 s on a quiet machine, several times that when the machine is shared.
  }, 180_000);
});
