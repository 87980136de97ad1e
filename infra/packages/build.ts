import { execFile } from "node:child_process";
import { chmod, cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { bundlePages, PREBUILT_MANIFEST, UNBUNDLED_PAGE_FILES } from "../../balancer/static-pages.js";
import { checkClientImports, checkServerImports } from "./package-imports.js";

/**
 * Builds the two packages a studio installs, each into <out>/<name>/, and
 * packs each with `npm pack` into <out>/ringside-<name>-<version>.tgz:
 * - @ringside/client: shared/client/ and the two import-free modules it uses
 *   (wire.ts, game/game-rules.ts), compiled by tsc with no Node types;
 * - @ringside/server: the server entry (infra/packages/server/index.ts), its
 *   CLI and the node and balancer entries with all they import, compiled by
 *   tsc into the repository's own layout (so migrations and pages sit where
 *   the code looks for them), the pages prebuilt beside the balancer, the SQL
 *   migrations, and the bins.
 * Manifests, READMEs and bins live in infra/packages/<name>/; LICENSE is the
 * repository's. Separate from the production build (`npm run build`, dist/).
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const HERE = `${ROOT}infra/packages/`;
export const DEFAULT_OUT = `${HERE}dist/`;

export type BuiltPackage = { name: string; version: string; dir: string; tarball: string };
export type BuiltPackages = { client: BuiltPackage; server: BuiltPackage };

const run = promisify(execFile);

export async function buildPackages(out = DEFAULT_OUT, log: (line: string) => void = () => {}): Promise<BuiltPackages> {
  const root = resolve(out);
  const clientDir = join(root, "client");
  const serverDir = join(root, "server");
  await Promise.all([rm(clientDir, { recursive: true, force: true }), rm(serverDir, { recursive: true, force: true })]);
  const started = Date.now();
  await Promise.all([compile("client", join(clientDir, "dist")), compile("server", join(serverDir, "dist"))]);
  log(`compiled both with tsc in ${Date.now() - started} ms`);
  await Promise.all([stage("client", clientDir), stage("server", serverDir)]);
  await prebuildPages(join(serverDir, "dist/balancer/pages"), log);
  await cp(`${ROOT}infra/migrations/`, join(serverDir, "dist/infra/migrations/"), { recursive: true });
  await checkClientImports(clientDir);
  await checkServerImports(serverDir, await rootDependencies());
  log("imports checked: the client has none, the server only its declared dependencies");
  const client = await pack(clientDir, root);
  const server = await pack(serverDir, root);
  log(`packed ${client.tarball} and ${server.tarball}`);
  return { client, server };
}

/** Emits only: `npm run typecheck` checks the same code, and skipping the check here saves a quarter of the time. */
async function compile(name: string, outDir: string): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  try {
    await run(process.execPath, [tsc, "-p", `${HERE}${name}/tsconfig.json`, "--outDir", outDir, "--noCheck"]);
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`tsc failed for @ringside/${name}:\n${stdout ?? ""}${stderr ?? ""}`);
  }
}

/** The manifest, README, LICENSE and (server) bins beside the compiled code. */
async function stage(name: string, dir: string): Promise<void> {
  await cp(`${HERE}${name}/package.json`, join(dir, "package.json"));
  await cp(`${HERE}${name}/README.md`, join(dir, "README.md"));
  await cp(`${ROOT}LICENSE`, join(dir, "LICENSE"));
  if (name !== "server") return;
  await cp(`${HERE}server/bin/`, join(dir, "bin/"), { recursive: true });
  for (const bin of ["ringside.js", "ringside-node.js", "ringside-balancer.js"])
    await chmod(join(dir, "bin", bin), 0o755);
}

/** The pages bundled now, with the manifest static-pages reads: the installed balancer never needs esbuild. */
async function prebuildPages(out: string, log: (line: string) => void): Promise<void> {
  await mkdir(out, { recursive: true });
  const bundles = await bundlePages();
  for (const [name, body] of bundles) await writeFile(join(out, name), body);
  for (const name of UNBUNDLED_PAGE_FILES) await cp(`${ROOT}balancer/pages/${name}`, join(out, name));
  await writeFile(join(out, PREBUILT_MANIFEST), `${JSON.stringify({ files: bundles.map(([name]) => name) })}\n`);
  log(`pages prebuilt: ${bundles.map(([name, body]) => `${name} ${body.length} B`).join(", ")}`);
}

async function rootDependencies(): Promise<Record<string, string>> {
  const manifest = JSON.parse(await readFile(`${ROOT}package.json`, "utf8")) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  return { ...manifest.devDependencies, ...manifest.dependencies };
}

async function pack(dir: string, destination: string): Promise<BuiltPackage> {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const { stdout } = await run(npm, ["pack", "--json", "--pack-destination", destination], { cwd: dir });
  const [result] = JSON.parse(stdout) as { name: string; version: string; filename: string }[];
  if (!result) throw new Error(`npm pack printed nothing for ${dir}`);
  return { name: result.name, version: result.version, dir, tarball: join(destination, result.filename) };
}
