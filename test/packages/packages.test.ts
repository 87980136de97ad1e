import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkServerImports } from "../../infra/packages/package-imports.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import {
  CONFORMANCE_JS,
  CONSUMER_TS,
  consumerTsconfig,
  filesInMarkdown,
  GAME_JS,
  PLAY_JS,
  RULES_JS,
  SERVER_JS,
  studioPackageJson,
} from "./studio-files.js";
import { StudioProcess } from "./studio-process.js";

/**
 * The packages a studio installs, end to end: `npm run pack:packages` builds
 * and packs @ringside/client and @ringside/server; publint and
 * @arethetypeswrong/cli find nothing wrong with them (and do find a broken
 * copy). Then a studio's repository is made from scratch in a temporary
 * folder: a tic-tac-toe game in plain JavaScript, installed from the two
 * tarballs, scaffolds a second game with `ringside new-game` whose own test
 * passes, type-checks a TypeScript consumer, and runs a cluster (one node
 * from the `ringside-node` bin with RINGSIDE_GAMES, one from a runNode()
 * script, a balancer from the `ringside-balancer` bin) on which a Node client
 * built on @ringside/client plays a game to the end. No TypeScript loader
 * anywhere in the studio's run.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);
const require = createRequire(import.meta.url);
const bin = (pkg: string, path: string) => join(ROOT, "node_modules", pkg, path);

type Result = { code: number; out: string };

/** Runs a command to its end; never throws on a non-zero exit (the caller asserts on `code`). */
async function command(file: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<Result> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const { code, stdout, stderr } = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof code === "number" ? code : -1, out: `${stdout ?? ""}${stderr ?? ""}${String(err)}` };
  }
}

const publint = (target: string, cwd: string) =>
  command(process.execPath, [bin("publint", "src/cli.js"), "--strict", target], cwd);
const attw = (args: string[], cwd: string) =>
  command(process.execPath, [bin("@arethetypeswrong/cli", "dist/index.js"), "--profile", "esm-only", ...args], cwd);

let work: string;
let tarballs: { client: string; server: string };
let packDir: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ringside-packages-"));
  packDir = join(work, "packages");
  const started = Date.now();
  const packed = await command(
    process.execPath,
    ["--import", "tsx", "infra/packages/pack.ts", "--out", packDir],
    ROOT,
    240_000,
  );
  expect(packed.code, packed.out).toBe(0);
  const line = packed.out.split("\n").find((l) => l.startsWith("{"));
  const relative = JSON.parse(line ?? "{}") as { client: string; server: string };
  tarballs = { client: join(ROOT, relative.client), server: join(ROOT, relative.server) };
  console.log(`[packages] built and packed in ${Date.now() - started} ms`);
}, 240_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("packages: checked as published", () => {
  it("publint and arethetypeswrong find no problem in either tarball", async () => {
    const results = await Promise.all([
      publint(tarballs.client, work),
      publint(tarballs.server, work),
      attw([tarballs.client], work),
      attw([tarballs.server], work),
    ]);
    for (const result of results) expect(result.code, result.out).toBe(0);
    expect(results[0]?.out).toContain("All good");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the colours attw prints
    const table = (results[2]?.out ?? "").replace(/\x1b\[[0-9;]*m/g, "");
    expect(table).toMatch(/node16 \(from ESM\)\s*│\s*🟢 \(ESM\)/);
  }, 120_000);

  it("a broken copy fails both checks", async () => {
    const broken = join(work, "broken-client");
    await cp(join(packDir, "client"), broken, { recursive: true });
    await rm(join(broken, "dist/client/index.d.ts"));
    const [lint, types] = await Promise.all([publint(broken, work), attw(["--pack", broken], work)]);
    expect(lint.code, lint.out).not.toBe(0);
    expect(lint.out).toMatch(/index\.d\.ts/);
    expect(types.code, types.out).not.toBe(0);
  }, 120_000);

  it("the build's import check catches a dependency the manifest does not declare, or pins differently", async () => {
    const copy = join(work, "undeclared-server");
    await cp(join(packDir, "server"), copy, { recursive: true });
    const manifestPath = join(copy, "package.json");
    const manifest = JSON.parse(await readFile(manifestPath, "utf8"));
    const rootVersions = { ...manifest.dependencies };
    delete manifest.dependencies.pg;
    manifest.dependencies.koa = "0.0.1";
    await writeFile(manifestPath, JSON.stringify(manifest));
    await expect(checkServerImports(copy, rootVersions)).rejects.toThrow(/imports pg.*\n.*koa@0\.0\.1/s);
  });

  it("the tarballs hold code, declarations, bins, pages and migrations, and no sources or tests", async () => {
    const list = async (tarball: string) => (await command("tar", ["tzf", tarball], work)).out.split("\n");
    const client = await list(tarballs.client);
    const server = await list(tarballs.server);
    expect(client).toEqual(expect.arrayContaining(["package/dist/client/index.js", "package/dist/client/index.d.ts"]));
    expect(client).toContain("package/LICENSE");
    expect(server).toEqual(
      expect.arrayContaining([
        "package/LICENSE",
        "package/bin/ringside-node.js",
        "package/bin/ringside-balancer.js",
        "package/bin/ringside.js",
        "package/dist/infra/packages/server/index.d.ts",
        "package/dist/balancer/pages/bundle.json",
        "package/dist/infra/migrations/001_init.sql",
      ]),
    );
    for (const file of [...client, ...server]) {
      expect(file).not.toMatch(/(?<!\.d)\.ts$|\.test\.|node_modules|tsconfig/);
    }
  });
});

describe("packages: a game written outside the repository", () => {
  let studio: string;
  let db: TestDatabase;
  const processes: StudioProcess[] = [];

  beforeAll(async () => {
    studio = join(work, "studio");
    await mkdir(join(studio, "tic-tac-toe"), { recursive: true });
    await writeFile(join(studio, "package.json"), studioPackageJson(tarballs));
    await writeFile(join(studio, "tic-tac-toe/rules.js"), RULES_JS);
    await writeFile(join(studio, "tic-tac-toe/game.js"), GAME_JS);
    await writeFile(join(studio, "server.js"), SERVER_JS);
    await writeFile(join(studio, "play.js"), PLAY_JS);
    const started = Date.now();
    // Offline first: every dependency is in npm's cache since the repository's own install.
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const installed = await command(npm, ["install", "--prefer-offline", "--no-audit", "--no-fund"], studio, 180_000);
    expect(installed.code, installed.out).toBe(0);
    console.log(`[packages] studio installed from the tarballs in ${Date.now() - started} ms`);
    db = await createTestDatabase("studio");
  }, 200_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await db?.cleanup();
  });

  it("installs without a TypeScript loader or a bundler, and the client without dependencies", async () => {
    const exists = (path: string) =>
      stat(join(studio, "node_modules", path)).then(
        () => true,
        () => false,
      );
    expect(await exists("tsx")).toBe(false);
    expect(await exists("esbuild")).toBe(false);
    expect(await exists("typescript")).toBe(false);
    const client = JSON.parse(await readFile(join(studio, "node_modules/@ringside/client/package.json"), "utf8"));
    expect(client.dependencies ?? {}).toEqual({});
  });

  it("`ringside new-game` scaffolds a game whose generated test passes", async () => {
    const made = await command(process.execPath, ["node_modules/.bin/ringside", "new-game", "dice-duel"], studio);
    expect(made.code, made.out).toBe(0);
    expect(made.out).toContain("dice-duel.test.js");
    const tested = await command(process.execPath, ["--test", "dice-duel/dice-duel.test.js"], studio);
    expect(tested.code, tested.out).toBe(0);
    expect(tested.out).toMatch(/# pass 3/);
    expect(tested.out).toMatch(/# fail 0/);
    const again = await command(process.execPath, ["node_modules/.bin/ringside", "new-game", "dice-duel"], studio);
    expect(again.code).not.toBe(0);
    expect(again.out).toContain("exists already");
  }, 60_000);

  it("the examples in docs/games.md run as written and pass the conformance suite", async () => {
    const examples = filesInMarkdown(await readFile(join(ROOT, "docs/games.md"), "utf8"));
    expect([...examples.keys()].sort()).toEqual([
      "high-roll/game.js",
      "high-roll/rules.js",
      "race/game.js",
      "race/rules.js",
    ]);
    for (const [path, code] of examples) {
      await mkdir(join(studio, "docs", path, ".."), { recursive: true });
      await writeFile(join(studio, "docs", path), code);
    }
    await writeFile(join(studio, "conformance.js"), CONFORMANCE_JS);
    const checked = await command(
      process.execPath,
      ["conformance.js", "./docs/race/game.js", "./docs/high-roll/game.js"],
      studio,
    );
    expect(checked.code, checked.out).toBe(0);
    const reports = JSON.parse(checked.out.trim().split("\n").at(-1) ?? "{}");
    expect(reports.race.problems).toEqual([]);
    expect(reports.race.actions).toBeGreaterThan(50);
    expect(reports["high-roll"].problems).toEqual([]);
    expect(reports["high-roll"].actions).toBeGreaterThan(10);
    expect(reports["high-roll"].timers).toBeGreaterThan(0);
  }, 60_000);

  it("a TypeScript studio gets typed actions and state from the declarations", async () => {
    await writeFile(join(studio, "consumer.ts"), CONSUMER_TS);
    await writeFile(join(studio, "tsconfig.json"), consumerTsconfig(join(ROOT, "node_modules/@types")));
    const checked = await command(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "."], studio);
    expect(checked.code, checked.out).toBe(0);
  }, 120_000);

  it("runs on a cluster started from the installed package, and a Node client plays it to the end", async () => {
    // Secrets as a studio's deployment has them: its own, never the development defaults.
    const env = {
      DATABASE_URL: db.url,
      RINGSIDE_SCHEMA: db.schema,
      RINGSIDE_BUS: "postgres",
      PORT: "0",
      RINGSIDE_TOKEN_SECRET: randomBytes(32).toString("base64url"),
      RINGSIDE_ADMIN_TOKEN: randomBytes(24).toString("base64url"),
    };
    const start = (name: string, args: string[], extra: Record<string, string>) => {
      const proc = new StudioProcess(name, args, studio, { ...env, ...extra });
      processes.push(proc);
      return proc;
    };
    const fromBin = start("ringside-node", ["node_modules/.bin/ringside-node"], {
      NODE_ID: "studio-1",
      RINGSIDE_GAMES: "./tic-tac-toe/game.js,connect-four",
    });
    const fromScript = start("runNode", ["server.js"], { NODE_ID: "studio-2" });
    await Promise.all([fromBin.ready(), fromScript.ready()]);
    const balancer = start("ringside-balancer", ["node_modules/.bin/ringside-balancer"], {});
    const port = await balancer.ready();

    const played = await command(process.execPath, ["play.js", `http://127.0.0.1:${port}`], studio, 60_000);
    expect(played.code, `${played.out}\n${balancer.tail()}`).toBe(0);
    const result = JSON.parse(played.out.trim().split("\n").at(-1) ?? "{}");
    expect(result.games).toContain("tic-tac-toe");
    expect(result.game).toBe("tic-tac-toe");
    expect(result.refused).toBe("invalid_move");
    // Each connection's state followed every move, folded with the game's own apply, to the server's end state.
    for (const [i, state] of result.states.entries()) {
      expect(state).toMatchObject({ phase: "finished", winner: result.firstPlayer, moves: 5 });
      expect(state).toEqual(result.served);
      expect(result.statuses[i]).toBe("finished");
      expect(result.movesSeen[i]).toEqual(expect.arrayContaining([1, 2, 3, 4, 5]));
    }
    expect(result.servedStatus).toBe("finished");
    for (const proc of processes) expect(proc.lines.join("\n")).not.toMatch(/tsx/);
  }, 120_000);
});
