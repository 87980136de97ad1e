import { spawnSync } from "node:child_process";
import { cp, mkdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { bundlePages, PREBUILT_MANIFEST, UNBUNDLED_PAGE_FILES } from "../../balancer/static-pages.js";

/**
 * `npm run build`: the production tree in dist/, run with plain `node` (no
 * TypeScript loader, no esbuild, no embedded Postgres):
 *   dist/node/main.js, dist/balancer/main.js, dist/infra/ops/cli.js and what they import (tsc);
 *   dist/balancer/pages/: the browser bundles and the pages, with the manifest static-pages reads;
 *   dist/infra/migrations/: the SQL files, where shared/db/migrate finds them (../../infra/migrations).
 * The image copies dist/ beside package.json and installs only runtime dependencies.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DIST = `${ROOT}dist/`;

function step(text: string): void {
  process.stdout.write(`build: ${text}\n`);
}

async function compile(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", `${ROOT}infra/build/tsconfig.json`], { stdio: "inherit" });
  if (result.status !== 0) throw new Error(`tsc failed (exit ${result.status ?? result.signal})`);
}

async function pages(): Promise<void> {
  const out = `${DIST}balancer/pages/`;
  await mkdir(out, { recursive: true });
  const bundles = await bundlePages();
  for (const [name, body] of bundles) await writeFile(out + name, body);
  for (const name of UNBUNDLED_PAGE_FILES) await cp(`${ROOT}balancer/pages/${name}`, out + name);
  await writeFile(out + PREBUILT_MANIFEST, `${JSON.stringify({ files: bundles.map(([name]) => name) })}\n`);
  step(`pages: ${bundles.map(([name, body]) => `${name} ${body.length} B`).join(", ")}`);
}

await rm(DIST, { recursive: true, force: true });
step("compiling node, balancer and ops CLI with tsc");
await compile();
await pages();
await cp(`${ROOT}infra/migrations/`, `${DIST}infra/migrations/`, { recursive: true });
step("migrations copied; dist/ is ready (run: node dist/node/main.js | dist/balancer/main.js | dist/infra/ops/cli.js)");
