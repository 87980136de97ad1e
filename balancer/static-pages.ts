import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The browser pages the balancer serves: the game at `/` and the ops
 * dashboard at `/ops`. Their scripts (with the client SDK they import) and
 * the stylesheet are bundled with esbuild. The production build
 * (`npm run build`) bundles them ahead of time next to the compiled balancer
 * and writes a manifest; without one (running the TypeScript sources) they
 * are bundled once at start, in memory, with esbuild loaded only then, so
 * production needs no esbuild. Every answer comes from memory with an ETag,
 * and `no-cache` makes browsers revalidate (a 304) after a deploy.
 */

export type PageHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

type Asset = { body: Buffer; type: string; etag: string; headers: Record<string, string> };

const PAGES_DIR = fileURLToPath(new URL("./pages/", import.meta.url));
const BUNDLED = ["game.ts", "ops.ts", "style.css"];
const HTML_ROUTES: Record<string, string> = { "/": "game.html", "/ops": "ops.html" };
const COPIED_ASSETS = ["favicon.svg"];
/** Served as they are (the production build copies them beside the bundles). */
export const UNBUNDLED_PAGE_FILES = [...Object.values(HTML_ROUTES), ...COPIED_ASSETS];
/** Written by the production build beside the bundles: `{"files": [...]}`. */
export const PREBUILT_MANIFEST = "bundle.json";

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".svg": "image/svg+xml",
};

/**
 * The pages load only their own scripts and styles and talk only to this
 * origin (HTTP, SSE and WebSocket); nothing may frame them (the ops page has
 * buttons that drain nodes).
 */
const HTML_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "referrer-policy": "same-origin",
};

/** Loads (or bundles) every asset; rejects (and the balancer does not start) when a page does not build. */
export async function createStaticPages(): Promise<PageHandler> {
  const assets = new Map<string, Asset>();
  const bundled = (await readPrebuilt()) ?? (await bundlePages());
  for (const [name, body] of bundled) assets.set(`/assets/${name}`, asset(name, body));
  for (const name of COPIED_ASSETS) assets.set(`/assets/${name}`, asset(name, await readPage(name)));
  for (const [route, file] of Object.entries(HTML_ROUTES)) {
    assets.set(route, asset(file, await readPage(file), HTML_HEADERS));
  }
  return (req, res) => serveAsset(req, res, assets);
}

/** The bundles the production build left beside this module, or null when there are none (sources). */
async function readPrebuilt(): Promise<[string, Buffer][] | null> {
  let manifest: { files?: unknown };
  try {
    manifest = JSON.parse(await readPage(PREBUILT_MANIFEST).then((b) => b.toString("utf8")));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new Error(`${PAGES_DIR}${PREBUILT_MANIFEST} is unreadable: ${(err as Error).message}`);
  }
  const files = manifest.files;
  if (!Array.isArray(files) || !files.every((f) => typeof f === "string" && f === basename(f))) {
    throw new Error(`${PAGES_DIR}${PREBUILT_MANIFEST}: expected {"files": [<file names>]}`);
  }
  return Promise.all(files.map(async (name: string): Promise<[string, Buffer]> => [name, await readPage(name)]));
}

/**
 * Bundles the pages' scripts and stylesheet in memory. The production build
 * calls this too and writes the result to disk, so both ways serve the same
 * bytes. esbuild is a development dependency: it is loaded only here.
 */
export async function bundlePages(): Promise<[string, Buffer][]> {
  const { build, stop } = await import("esbuild");
  try {
    const result = await build({
      entryPoints: BUNDLED.map((file) => PAGES_DIR + file),
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      write: false,
      minify: true,
      outdir: `${PAGES_DIR}out`,
      entryNames: "[name]",
      legalComments: "none",
      logLevel: "silent",
    });
    return result.outputFiles.map((file) => [basename(file.path), Buffer.from(file.contents)]);
  } finally {
    // One build per process: the esbuild service child is not needed afterwards.
    await stop();
  }
}

function readPage(name: string): Promise<Buffer> {
  return readFile(PAGES_DIR + name);
}

function asset(name: string, body: Buffer, headers: Record<string, string> = {}): Asset {
  const extension = name.slice(name.lastIndexOf("."));
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  return { body, type: TYPES[extension] ?? "application/octet-stream", etag, headers };
}

function serveAsset(req: IncomingMessage, res: ServerResponse, assets: Map<string, Asset>): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
  const found = assets.get(path);
  if (!found) return false;
  const headers = {
    ...found.headers,
    etag: found.etag,
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  };
  if (matchesEtag(req.headers["if-none-match"], found.etag)) {
    res.writeHead(304, headers);
    res.end();
    return true;
  }
  res.writeHead(200, { ...headers, "content-type": found.type, "content-length": found.body.length });
  res.end(req.method === "HEAD" ? undefined : found.body);
  return true;
}

/** If-None-Match may list several tags, weak or strong; any match (or `*`) means unchanged. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || trimmed.replace(/^W\//, "") === etag;
  });
}
