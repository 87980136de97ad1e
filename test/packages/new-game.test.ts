import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, inject, it } from "vitest";
import { gameNames } from "../../infra/scaffold/game-names.js";

/**
 * `npm run new-game -- <id>` writes a game into shared/games/<id>/ that is
 * lint-clean, type-checks, and passes its own generated test (the
 * conformance suite and first rule tests) as generated. The package's
 * `ringside new-game` is tested from an installed tarball in packages.test.ts.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const require = createRequire(import.meta.url);
const run = promisify(execFile);
const id = `scaffold-${randomBytes(3).toString("hex")}`;
const folder = join(ROOT, "shared/games", id);
let temp: string | undefined;

type Result = { code: number; out: string };

async function node(args: string[], env: Record<string, string> = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      timeout: 120_000,
    });
    return { code: 0, out: plain(stdout + stderr) };
  } catch (err) {
    const { code, stdout, stderr } = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof code === "number" ? code : -1, out: plain(`${stdout ?? ""}${stderr ?? ""}`) };
  }
}

/** Output without colours, for matching. */
function plain(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour sequences start with ESC
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

const newGame = (...args: string[]) => node(["--import", "tsx", "infra/scaffold/cli.ts", ...args]);

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
  if (temp) await rm(temp, { recursive: true, force: true });
});

describe("new-game: a game in this repository", () => {
  it("writes rules, game, index and a test into shared/games/<id>/", async () => {
    const made = await newGame(id);
    expect(made.code, made.out).toBe(0);
    expect((await readdir(folder)).sort()).toEqual([`${id}.test.ts`, "game.ts", "index.ts", "rules.ts"].sort());
    expect(made.out).toContain(`add ${gameNames(id).game} to bundledGames`);
  });

  it("is lint-clean and type-checks as generated", async () => {
    const lint = await node([require.resolve("@biomejs/biome/bin/biome"), "check", folder]);
    expect(lint.code, lint.out).toBe(0);
    temp = await mkdtemp(join(tmpdir(), "ringside-new-game-"));
    const files = (await readdir(folder)).map((name) => join(folder, name));
    // From a temporary folder, @types are looked up in the repository's node_modules.
    const config = {
      extends: join(ROOT, "tsconfig.json"),
      compilerOptions: { typeRoots: [join(ROOT, "node_modules/@types")] },
      include: [],
      files,
    };
    await writeFile(join(temp, "tsconfig.json"), JSON.stringify(config));
    const typecheck = await node([
      require.resolve("typescript/bin/tsc"),
      "--noEmit",
      "-p",
      join(temp, "tsconfig.json"),
    ]);
    expect(typecheck.code, typecheck.out).toBe(0);
  }, 120_000);

  it("passes its own generated test: the conformance suite and the first rule tests", async () => {
    const vitest = join(ROOT, "node_modules/vitest/vitest.mjs");
    const tested = await node([vitest, "run", `shared/games/${id}/`], { DATABASE_URL: inject("databaseUrl") });
    expect(tested.code, tested.out).toBe(0);
    expect(tested.out).toMatch(/Tests\s+(\S+\s)?3 passed/);
  }, 120_000);

  it("refuses a bad id and an existing folder, with a message", async () => {
    const bad = await newGame("Not_An_Id");
    expect(bad.code).not.toBe(0);
    expect(bad.out).toContain("is not a game id");
    const again = await newGame(id);
    expect(again.code).not.toBe(0);
    expect(again.out).toContain("exists already");
    const none = await newGame();
    expect(none.code).toBe(2);
    expect(none.out).toContain("usage: npm run new-game -- <id>");
  });
});
