import { readFile } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { join } from "node:path";
import { build, type Metafile } from "esbuild";

/**
 * What each built package imports, read by esbuild from the compiled code
 * (not guessed from text), so a package never ships with an import its
 * manifest does not declare:
 * - the client bundles for a browser with nothing external: no dependency
 *   and no Node module anywhere in it;
 * - the server imports only Node's modules and its declared dependencies,
 *   each at the repository's exact version, and declares none it does not use.
 */

/** Loaded only by a fallback the package never takes (static-pages bundles with esbuild when no prebuilt pages exist). */
const UNUSED_DYNAMIC_IMPORTS = new Set(["esbuild"]);

export async function checkClientImports(dir: string): Promise<void> {
  const metafile = await importsOf([join(dir, "dist/client/index.js")], "browser");
  const external = externalImports(metafile);
  if (external.length > 0) {
    throw new Error(`@ringside/client must import nothing, but imports ${external.map((i) => i.path).join(", ")}`);
  }
}

export async function checkServerImports(dir: string, rootVersions: Record<string, string>): Promise<void> {
  const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  const declared = manifest.dependencies ?? {};
  const entries = [
    "infra/packages/server/index.js",
    "infra/packages/server/cli.js",
    "node/main.js",
    "balancer/main.js",
  ];
  const metafile = await importsOf(
    entries.map((entry) => join(dir, "dist", entry)),
    "node",
  );
  const used = new Set<string>();
  const problems: string[] = [];
  for (const { path, kind } of externalImports(metafile)) {
    if (isBuiltin(path)) continue;
    const name = packageName(path);
    if (kind === "dynamic-import" && UNUSED_DYNAMIC_IMPORTS.has(name)) continue;
    used.add(name);
    if (!(name in declared)) problems.push(`imports ${path}, which package.json does not declare`);
  }
  for (const [name, version] of Object.entries(declared)) {
    if (!used.has(name)) problems.push(`declares ${name}, which nothing imports`);
    if (rootVersions[name] !== version) {
      problems.push(`declares ${name}@${version}, the repository uses ${rootVersions[name] ?? "none"}`);
    }
  }
  if (problems.length > 0) throw new Error(`@ringside/server:\n  ${problems.join("\n  ")}`);
}

async function importsOf(entryPoints: string[], platform: "browser" | "node"): Promise<Metafile> {
  const result = await build({
    entryPoints,
    bundle: true,
    write: false,
    platform,
    format: "esm",
    target: "es2022",
    outdir: "unused",
    metafile: true,
    logLevel: "silent",
    ...(platform === "node" ? { packages: "external" as const } : {}),
  });
  return result.metafile;
}

function externalImports(metafile: Metafile): { path: string; kind: string }[] {
  return Object.values(metafile.inputs).flatMap((input) =>
    input.imports.filter((i) => i.external).map((i) => ({ path: i.path, kind: i.kind })),
  );
}

/** "@koa/router/x" -> "@koa/router"; "pg/lib" -> "pg". */
function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}
